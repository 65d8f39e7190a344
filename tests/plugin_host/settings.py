"""A minimal host project: only the three apps and what they declare they need."""

import os
from importlib import import_module

APPS = ("courses", "assessments", "certificates")


def _required(app: str) -> tuple[str, ...]:
    module = import_module(f"{app}.apps")
    config = next(obj for obj in vars(module).values() if isinstance(obj, type) and getattr(obj, "name", None) == app)
    return tuple(config.required_apps)


def _closure(apps: tuple[str, ...]) -> list[str]:
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in APPS:
            for dep in _required(name):
                visit(dep)
        ordered.append(name)

    for app in apps:
        visit(app)
    return ordered


SECRET_KEY = "plugin-host-test"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = _closure(APPS)
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.plugin_host.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PLUGIN_HOST_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
USE_TZ = True
