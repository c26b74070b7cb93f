"""A WSGI app for the gunicorn config tests: answers with its process id, after a pause on /slow."""

from __future__ import annotations

import os
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(3)
    payload = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
