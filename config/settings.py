"""Settings read from the environment (see API.md "Operations"); safe local defaults."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from assessments.conf import BEAT_SCHEDULE as ASSESSMENTS_BEAT_SCHEDULE
from certificates.conf import BEAT_SCHEDULE as CERTIFICATES_BEAT_SCHEDULE
from courses.conf import BEAT_SCHEDULE as COURSES_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file may supply the configuration; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# With nothing set the platform runs locally (debug on, SQLite, tasks in-process).
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production refuses to start without it).")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.apps.ProjectConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI and ReDoc served from the site's own static files (the docs pages work offline and
    # under the Content-Security-Policy).
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "courses",
    "assessments",
    "certificates",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After CSRF: it reuses the form body CSRF has parsed (see its docstring).
    "courses.middleware.RejectNullCharactersMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # With DEBUG on, a missing page shows the site's 404 page, not Django's technical one (SHOW_FRIENDLY_404).
    "config.middleware.FriendlyNotFoundMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own pages (404, 403, 500, the API docs) come before any app's.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Keep database connections open between requests (opening one costs more than most requests).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A health check costs a round trip on every request; Django still drops a connection that failed.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes' backend comes first: it refuses a locked-out attempt before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Indonesian first; English complete as well. WITA is Kalimantan Timur's time zone.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Makassar"
USE_I18N = True
USE_TZ = True
# One way to write a date per language ("2 Desember 2026, 14.30 WITA"); the pages add the zone
# through courses.dates.
FORMAT_MODULE_PATH = ["config.formats"]
# The language chosen in the top bar is kept for a year (and, for a participant, on their profile).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
# With DEBUG on, a missing page still shows the site's own 404 page; 0 shows Django's technical one.
SHOW_FRIENDLY_404 = env.bool("SHOW_FRIENDLY_404", default=True)

STATIC_URL = "/static/"
# Local runs serve static files straight from the apps; production serves collected ones.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- HTTPS and the browser's security headers ------------------------------------------------------
# Trusted reverse proxies in front of gunicorn (TLS ends there). Only then does X-Forwarded-Proto
# say whether the client used HTTPS: with none, the header is whatever the client sent.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS: browsers then use HTTPS only. Django sends it on HTTPS responses only; a year in production.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading binds the whole registered domain and is its owner's decision (a platform on a
    # subdomain of a regional government's domain cannot make it); Django's reminder is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and SITE_URL.startswith("https://"))
# Load balancers and probes poll these over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts and styles only from the site's
# own static files, so no inline script, event handler or style attribute runs, injected or not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

LOGIN_URL = "courses:login"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/"

# Email: EMAIL_URL (e.g. smtp+tls://user:pass@host:587), else Django's own EMAIL_HOST & co., else the console.
if env.str("EMAIL_URL", default="") or not env.str("EMAIL_HOST", default=""):
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GCIO <no-reply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Verification is public: limit lookups per client (IP) so codes cannot be enumerated.
    "DEFAULT_THROTTLE_RATES": {"verify": env.str("VERIFY_RATE_LIMIT", default="60/minute")},
    # The client is REMOTE_ADDR unless NUM_PROXIES trusted proxies stand in front and append to
    # X-Forwarded-For; never trust the header as sent, or anyone could pick a fresh identity per request.
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GCIO Training Platform API",
    "DESCRIPTION": 'Public HTTP contract of the GCIO training platform. Errors are `{"detail", "code"}` '
    "(`detail` in the request's language, `code` machine-readable), except invalid request bodies: "
    '`{"<field>": ["message", …]}`. A NUL character anywhere in a request is refused with 400.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get components of their own: what a client sends (non-blank fields, uploaded
    # files as binary, no read-only fields) is described apart from what it gets back.
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/v1/docs/ and /api/v1/redoc/ load Swagger UI and ReDoc from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the status a verification (by code or by credential) answers with.
    "ENUM_NAME_OVERRIDES": {"VerificationStatusEnum": ["valid", "revoked", "not_found"]},
}

# Throttling and failed sign-ins count in this cache; use Redis (CACHE_URL=redis://…) when several
# processes serve, or each would count on its own.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"  # the same, with its redis-py clients reused
# Verification's answers are kept there this long at most (revocations drop them when they commit).
CERTIFICATES_VERIFY_CACHE_SECONDS = env.int("VERIFY_CACHE_SECONDS", default=60)

# Failed sign-ins (token API, login page, admin), counted by django-axes in the cache above: at most
# LOGIN_FAILURE_LIMIT per username and, independently, per client within the window; past that, 429
# until the window ends, even for the right password. A refused attempt does not extend the window.
AXES_HANDLER = "courses.auth_limits.LoginAttemptsCacheHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success leaves the count alone: otherwise one known password would reset a client's failures.
AXES_RESET_ON_SUCCESS = False
# Usernames in the login form's normal form (a NIP without spaces); the client by
# REST_FRAMEWORK["NUM_PROXIES"], as the verification throttle names it. django-ipware is not
# consulted, so X-Forwarded-For counts only as far as NUM_PROXIES trusts it.
AXES_USERNAME_CALLABLE = "courses.auth_limits.login_username"
AXES_CLIENT_IP_CALLABLE = "courses.auth_limits.login_client"
AXES_LOCKOUT_CALLABLE = "courses.auth_limits.lockout_response"
# Counts live in the cache, so axes' database tables stay empty: no admin pages for them.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Password-reset emails per address an hour (courses.conf); more requests still say "sent".
COURSES_PASSWORD_RESET_EMAILS = env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3)

# Celery: without a broker URL, tasks run in-process so the embedded default needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# One message at a time per worker process: long tasks never hold others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Retries' countdowns stay well below this, or Redis would redeliver them early.
# A message whose worker died unacknowledged is handed out again after visibility_timeout; workers
# look for such messages every unacked_restore_interval seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
}
# A broker outage must not hang a participant's request: give up publishing quickly (the sweep catches up).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long the certificate sweep leaves a fresh completion to the normal path before re-enqueuing it.
CERTIFICATES_SWEEP_GRACE_SECONDS = env.int("CERTIFICATES_SWEEP_GRACE_SECONDS", default=30)
# The official certificate: its defaults (a course's certificate settings may say otherwise) and
# the electronic seal (a PKCS#12 file; unset, a local demo seal is created once in CERTIFICATES_KEY_DIR).
CERTIFICATES_ISSUER = env.str(
    "CERTIFICATES_ISSUER", default="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
)
CERTIFICATES_TITLE = env.str("CERTIFICATES_TITLE", default="SERTIFIKAT")
CERTIFICATES_PLACE = env.str("CERTIFICATES_PLACE", default="Samarinda")
CERTIFICATES_SIGNATORY_POSITION = env.str(
    "CERTIFICATES_SIGNATORY_POSITION", default="Kepala Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"
)
CERTIFICATES_SIGNATORY_NAME = env.str("CERTIFICATES_SIGNATORY_NAME", default="")
CERTIFICATES_SIGNATORY_NIP = env.str("CERTIFICATES_SIGNATORY_NIP", default="")
CERTIFICATES_SIGNATORY_RANK = env.str("CERTIFICATES_SIGNATORY_RANK", default="")
CERTIFICATES_SIGNING_P12 = env.str("CERTIFICATES_SIGNING_P12", default="")
CERTIFICATES_SIGNING_PASSPHRASE = env.str("CERTIFICATES_SIGNING_PASSPHRASE", default="")
CERTIFICATES_TSA_URL = env.str("CERTIFICATES_TSA_URL", default="")
# Open Badges credentials: the signing key (a PEM path, EC P-256 or Ed25519; unset: one is created
# once in the key folder) and retired keys (PEM paths, comma-separated) the DID document keeps listing
# so credentials they signed still verify.
CERTIFICATES_CREDENTIALS_SIGNING_KEY = env.str("CREDENTIALS_SIGNING_KEY", default="")
CERTIFICATES_CREDENTIALS_PREVIOUS_KEYS = env.list("CREDENTIALS_PREVIOUS_KEYS", default=[])
# Where the embedded default keeps the keys it creates (unset: keys/ beside MEDIA_ROOT).
CERTIFICATES_KEY_DIR = env.str("CERTIFICATES_KEY_DIR", default="")
# The periodic tasks each app declares it needs (its conf.BEAT_SCHEDULE), all of them.
CELERY_BEAT_SCHEDULE: dict = {**COURSES_BEAT_SCHEDULE, **ASSESSMENTS_BEAT_SCHEDULE, **CERTIFICATES_BEAT_SCHEDULE}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
