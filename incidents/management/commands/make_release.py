"""python manage.py make_release"""

from django.core.management.base import BaseCommand, CommandError

from incidents import releases


class Command(BaseCommand):
    help = (
        "Write the next dataset release (version YYYY.N) of the published data under RELEASES_DIR: a "
        "Frictionless Data Package, read-only once made, with what changed since the previous release by uid."
    )

    def handle(self, *args, **options):
        try:
            release = releases.make()
        except releases.ReleaseError as error:
            raise CommandError(str(error)) from None
        changes = release.changes
        self.stdout.write(
            f"Release {release.version}: {release.incidents} incidents; since the previous release "
            f"{len(changes['added'])} added, {len(changes['changed'])} changed, {len(changes['removed'])} removed.\n"
            f"{releases.release_directory(release.version)}"
        )
