"""A minimal host project: only the apps (all three, or those in PLUGIN_HOST_APPS) and what they declare they need."""

import os
from datetime import timedelta
from importlib import import_module

APPS = tuple(os.environ.get("PLUGIN_HOST_APPS", "courses,assessments,certificates").split(","))


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
    "axes.middleware.AxesMiddleware",
]
# What django-axes (which courses requires) asks of a host, and the courses hooks that give the
# sign-in limit its normalised usernames, its client rule and its 429 page. The host keeps axes'
# own (database) handler: the apps work with whichever handler a host chooses.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "courses.auth_limits.login_username"
AXES_CLIENT_IP_CALLABLE = "courses.auth_limits.login_client"
AXES_LOCKOUT_CALLABLE = "courses.auth_limits.lockout_response"
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
# Every periodic task the installed apps declare (courses.W002 warns about any left out).
CELERY_BEAT_SCHEDULE = {key: entry for app in APPS for key, entry in import_module(f"{app}.conf").BEAT_SCHEDULE.items()}
if "PLUGIN_HOST_OPERATORS_GROUP" in os.environ:  # a host that names its operators' group itself
    COURSES_OPERATORS_GROUP = os.environ["PLUGIN_HOST_OPERATORS_GROUP"]
