"""A WSGI app for the gunicorn config tests: answers with the length and SHA-256 of the body it read."""

from __future__ import annotations

import hashlib


def app(environ, start_response):
    stream = environ["wsgi.input"]
    digest = hashlib.sha256()
    length = 0
    # Django's multipart parser reads 64 KB at a time; mix in small reads and a readline.
    first = stream.readline(100)
    digest.update(first)
    length += len(first)
    for size in (10, 5000, 65536):
        piece = stream.read(size)
        digest.update(piece)
        length += len(piece)
    while piece := stream.read(65536):
        digest.update(piece)
        length += len(piece)
    payload = f"{length} {digest.hexdigest()}".encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
