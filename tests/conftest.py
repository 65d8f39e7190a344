"""Shared fixtures."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def operator():
    """A member of the operators group (the data migration creates the group with its permissions)."""
    user = UserFactory(username="operator-test")
    user.groups.add(Group.objects.get(name="operators"))
    return user
