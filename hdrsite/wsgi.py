"""WSGI entry point (gunicorn hdrsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdrsite.settings")

application = get_wsgi_application()

# Django imports the URLconf, and with it every view, serializer and the API schema code, on the
# first request a process serves, and builds its table for reverse() on the first URL it writes.
# Under load that first request took 0.4-0.6 s in each new web process and held up the requests
# queued behind it; do both while the process starts instead. Code and tables only: no
# connection is opened before the server forks its workers.
get_resolver().reverse_dict  # noqa: B018 (reading it builds the table)
