"""A WSGI app for the gunicorn config tests: answers with its process id, after a pause on /slow.

On /slow it first creates the file named by PID_APP_SLOW_STARTED (when set), so a test knows the
slow request is being served before it sends the next ones.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        if marker := os.environ.get("PID_APP_SLOW_STARTED"):
            Path(marker).touch()
        time.sleep(3)
    payload = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
