"""A local webhook receiver for the batch tests, and the signature a receiver expects."""

from __future__ import annotations

import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver:
    """A local HTTP endpoint that records what it receives and answers with `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def event(self, name: str) -> tuple[dict, bytes] | None:
        """The first request for webhook event `name` (X-Hdr-Event), or None."""
        for headers, body in self.requests:
            if headers.get("X-Hdr-Event") == name:
                return headers, body
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signature_expected(secret: str, headers: dict, body: bytes) -> str:
    """The X-Hdr-Signature a receiver computes with the shared `secret`, as the README says:
    sha256=HMAC_SHA256(secret, "<X-Hdr-Timestamp>.<body>")."""
    message = headers["X-Hdr-Timestamp"].encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
