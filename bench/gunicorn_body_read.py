"""CPU time gunicorn spends handing one upload's body to the application, stock against hdr's fix.

Feeds a request body of `--bytes` through a socket pair into gunicorn's own `Body` and
`LengthReader`, read 64 KB at a time as Django's multipart parser does, and measures the
process CPU time per body (reader plus the sending thread, the same for both setups). The two
setups alternate run by run, so a drift in the machine's speed touches both alike.

    python bench/gunicorn_body_read.py [--bytes 585000] [--runs 200]
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gunicorn.http import body
from gunicorn.http.unreader import SocketUnreader

from bench._common import emit, rounded, summary
from hdrsite import gunicorn_conf

READERS = {"stock": gunicorn_conf.STOCK_BODY_READ, "fixed": gunicorn_conf.read_in_blocks}
DJANGO_READ_SIZE = 64 * 1024


def body_cpu_ms(payload: bytes, read) -> float:
    """CPU ms to take ``payload`` off a socket through gunicorn's Body with ``read``."""
    sender, receiver = socket.socketpair()
    with sender, receiver:
        thread = threading.Thread(target=sender.sendall, args=(payload,))
        started = time.process_time()
        thread.start()
        reader = body.Body(body.LengthReader(SocketUnreader(receiver), len(payload)))
        received = 0
        while chunk := read(reader, DJANGO_READ_SIZE):
            received += len(chunk)
        thread.join()
        elapsed = time.process_time() - started
    if received != len(payload):
        raise RuntimeError(f"read {received} of {len(payload)} bytes")
    return elapsed * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=585_000, help="the upload bench's body size")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    payload = bytes(range(256)) * (args.bytes // 256) + b"x" * (args.bytes % 256)
    timings: dict[str, list[float]] = {name: [] for name in READERS}
    for _ in range(args.runs):
        for name, read in READERS.items():
            timings[name].append(body_cpu_ms(payload, read))
    stock, fixed = (rounded(summary(timings[name]), 3) for name in READERS)
    emit(
        {
            "benchmark": "gunicorn_body_read",
            "body_bytes": args.bytes,
            "read_size": DJANGO_READ_SIZE,
            "block": gunicorn_conf.BODY_READ_BLOCK,
            "cpu_ms_per_body": {"stock": stock, "fixed": fixed},
            "saved_cpu_ms_median": round(stock["median"] - fixed["median"], 3),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
