"""gunicorn settings for hdr's web server: `gunicorn -c python:hdrsite.gunicorn_conf hdrsite.wsgi`.

Every launcher (`make run`, the compose file, the image, the upload benchmark) starts gunicorn
with this module; each passes its bind address, processes and threads on the command line.

A threaded (gthread) worker takes at most as many connections at once as it has threads, unless
`HDR_WEB_CONNECTIONS` says otherwise. gunicorn's default is 1000: each process then accepts
every connection it can reach and queues the requests inside, so one process's queue grows
while another process sits idle, and the slowest uploads wait behind the longest queue. With
the limit, a process that is busy leaves new connections in the kernel's accept queue, where
the first free process takes them in order (docs/api-latency.md measures both). A limit no
higher than the thread count leaves no room for idle keep-alive connections, so keep-alive is
then turned off rather than warned about: each response closes its connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Connections one gthread process takes at once; unset or empty: its thread count.
CONNECTIONS_ENV = "HDR_WEB_CONNECTIONS"


def connections_limit(threads: int, environ: Mapping[str, str] = os.environ) -> int:
    """The `worker_connections` for a process of `threads` threads: `HDR_WEB_CONNECTIONS` in
    `environ` when set, else `threads`."""
    raw = environ.get(CONNECTIONS_ENV, "").strip()
    if not raw:
        return threads
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{CONNECTIONS_ENV} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{CONNECTIONS_ENV} must be at least 1, got {value}")
    return value


def connections_apply(cfg) -> None:
    """Set `worker_connections` on a gunicorn `Config`, and keep-alive off when the limit leaves
    no connection beyond the ones the threads serve."""
    limit = connections_limit(cfg.threads)
    cfg.set("worker_connections", limit)
    if limit <= cfg.threads:
        cfg.set("keepalive", 0)


def on_starting(server) -> None:
    connections_apply(server.cfg)


def on_reload(server) -> None:
    # A reload (SIGHUP) reads the settings afresh: apply the limit again before new workers start.
    connections_apply(server.cfg)
