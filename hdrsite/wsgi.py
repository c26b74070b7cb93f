"""WSGI entry point (gunicorn hdrsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdrsite.settings")

application = get_wsgi_application()
