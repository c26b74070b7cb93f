"""gunicorn settings for hdr's web server: `gunicorn -c python:hdrsite.gunicorn_conf hdrsite.wsgi`.

Every launcher (`make run`, the compose file, the image, the upload benchmark) starts gunicorn
with this module; each passes its bind address, processes and threads on the command line.

It lifts gunicorn's request-body read step. gunicorn 23 hands a request body to the
application through `Body.read`, which fills its buffer 1 KB per Python loop step, each step
copying the rest of the socket chunk back into a new buffer (benoitc/gunicorn#2596, open; the
pull requests that make the step a setting have not landed). A 585 KB scan thus took some 570
steps and 2.5 CPU-ms before Django saw a byte; `bench/gunicorn_body_read.py` measures it.
`read_in_blocks` asks the length reader for what is still missing, up to `BODY_READ_BLOCK`, and
returns the same bytes. The patch applies only to the gunicorn versions whose `Body.read` it
was written against: on any other the stock method stays and a warning says so.
"""

from __future__ import annotations

import io
import sys

import gunicorn
from gunicorn.http import body

# Largest piece asked of the reader in one step: Django's multipart parser reads 64 KB at a time.
BODY_READ_BLOCK = 256 * 1024
# The gunicorn releases whose Body.read is the 1 KB loop replaced here (checked by the tests).
PATCHED_MAJOR_VERSIONS = ("22.", "23.")
# gunicorn's own method, kept for the tests and the benchmark to compare against.
STOCK_BODY_READ = body.Body.read


def read_in_blocks(self: body.Body, size: int | None = None) -> bytes:
    """`gunicorn.http.body.Body.read` with the 1 KB step replaced by what is still missing."""
    size = self.getsize(size)
    if size == 0:
        return b""
    buffered = self.buf.tell()
    while size > buffered:
        data = self.reader.read(min(size - buffered, BODY_READ_BLOCK))
        if not data:
            break
        self.buf.write(data)
        buffered += len(data)
    data = self.buf.getvalue()
    ret, rest = data[:size], data[size:]
    self.buf = io.BytesIO()
    self.buf.write(rest)
    return ret


def install_body_read_fix() -> bool:
    """Replace `Body.read` on the gunicorn versions it was written for; say so otherwise."""
    if not gunicorn.__version__.startswith(PATCHED_MAJOR_VERSIONS):
        print(
            f"hdr: gunicorn {gunicorn.__version__} is not one of {PATCHED_MAJOR_VERSIONS}; "
            "its request-body reader is left as it is (see hdrsite/gunicorn_conf.py)",
            file=sys.stderr,
        )
        return False
    body.Body.read = read_in_blocks
    return True


install_body_read_fix()
