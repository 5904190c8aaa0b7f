"""python manage.py create_api_user NAME --role editor|reader: a user and its API token (last line)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

ROLES = ("editor", "reader")


class Command(BaseCommand):
    help = (
        "Create (or update) an API user and print its token alone on the last line. "
        "An editor may also log in to the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="username")
        parser.add_argument("--role", choices=ROLES, default="reader", help="editor or reader (default reader)")
        parser.add_argument("--email", default="", help="e-mail address")
        parser.add_argument(
            "--password",
            help="admin password for an editor; without it a new editor gets a random one, printed once",
        )

    @transaction.atomic
    def handle(self, *args, name, role, email, password, **options):
        user, created = get_user_model().objects.get_or_create(username=name, defaults={"email": email})
        editors = Group.objects.get(name=settings.EDITORS_GROUP)
        is_editor = role == "editor"
        user.is_staff = is_editor  # the admin lets staff in; the group gives the permissions
        if is_editor:
            user.groups.add(editors)
        else:
            user.groups.remove(editors)
        if password:
            user.set_password(password)
        elif created and is_editor:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            self.stdout.write(f"admin password for {name}: {password}")
        elif created:
            user.set_unusable_password()
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        self.stderr.write(f"{'created' if created else 'updated'} {role} {name}")
        self.stdout.write(token.key)
