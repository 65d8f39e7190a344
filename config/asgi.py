"""ASGI entry point; like the WSGI one, with DEBUG off it refuses to start on a system check error."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

if not settings.DEBUG:
    from config.checks import refuse_to_start_on_errors

    refuse_to_start_on_errors()
