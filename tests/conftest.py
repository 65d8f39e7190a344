"""Shared fixtures."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _empty_caches():
    """Counters kept in the cache (sign-in failures, throttles, reset emails) never carry over between tests."""
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def operator():
    """A member of the operators group (the data migration creates the group with its permissions)."""
    user = UserFactory(username="operator-test")
    user.groups.add(Group.objects.get(name="operators"))
    return user
