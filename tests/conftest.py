"""Clients by role, and the users behind them."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def editor_user(django_user_model):
    user = django_user_model.objects.create_user("editor", password="editor-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name=settings.EDITORS_GROUP))
    return user


@pytest.fixture
def reader_user(django_user_model):
    return django_user_model.objects.create_user("reader", password="reader-password-1")


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def reader_client(reader_user):
    return _token_client(reader_user)


@pytest.fixture
def editor_client(editor_user):
    return _token_client(editor_user)
