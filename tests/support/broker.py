"""The Celery app's send_task as the services see it, for tests of what a broker outage does."""

from __future__ import annotations

from kombu.exceptions import OperationalError


class Broker:
    """Stands in for the Celery app's send_task: records what is sent, or raises as a broker
    that is down does."""

    def __init__(self):
        self.down = False
        self.sent: list[tuple[str, list]] = []
        # The options each message was sent with (besides its name and arguments), in order.
        self.options: list[dict] = []

    def send_task(self, name, args, **options):
        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, args))
        self.options.append(options)
