"""WSGI entry point (gunicorn config.wsgi); with DEBUG off it refuses to start on a system check error."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.routing import VerificationRouting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Public code verification skips the middleware it never uses (config/routing.py).
application = VerificationRouting(get_wsgi_application())

if not settings.DEBUG:
    # gunicorn runs no management command: without this, e.g. static files never collected would
    # show only as a 500 on every page. A worker that raises here fails to boot, and gunicorn stops.
    from config.checks import refuse_to_start_on_errors

    refuse_to_start_on_errors()
