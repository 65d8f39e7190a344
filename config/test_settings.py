"""Test overrides: fast hashing, in-memory email, tasks in-process unless a test starts a worker."""

import tempfile

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# Keys the embedded default creates (the demo seal, the credential key) go to a directory of this
# test run, never beside the repository's media.
CERTIFICATES_KEY_DIR = tempfile.mkdtemp(prefix="gcio-test-keys-")
