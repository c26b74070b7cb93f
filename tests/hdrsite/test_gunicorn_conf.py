"""hdr's gunicorn settings: request bodies are read in blocks, byte for byte as gunicorn's own reader."""

from __future__ import annotations

import hashlib
import http.client
import io
import socket
import subprocess
import sys
import threading
import time

import gunicorn
import pytest
from gunicorn.http import body
from gunicorn.http.unreader import SocketUnreader

from hdrsite import gunicorn_conf
from tests.support.processes import ROOT


def _body_over_socket(payload: bytes, trailing: bytes = b"") -> tuple[body.Body, SocketUnreader]:
    sender, receiver = socket.socketpair()
    threading.Thread(target=lambda: (sender.sendall(payload + trailing), sender.close())).start()
    unreader = SocketUnreader(receiver)
    return body.Body(body.LengthReader(unreader, len(payload))), unreader


def _read_pattern(read, reader: body.Body, sizes: list[int | None]) -> list[bytes]:
    return [read(reader, size) for size in sizes]


def test_the_installed_gunicorn_gets_the_fix():
    # A gunicorn upgrade outside the versions the fix was written for fails here, so the fix is
    # reviewed against the new Body.read instead of silently patching code it was not written for.
    assert gunicorn.__version__.startswith(gunicorn_conf.PATCHED_MAJOR_VERSIONS)
    assert body.Body.read is gunicorn_conf.read_in_blocks


@pytest.mark.parametrize(
    "sizes",
    [
        [65536] * 12,
        [1, 10, 1023, 1024, 1025, 8191, 8192, 8193, 300_000, 65536, 65536, 65536, 65536],
        [None],
        [700_000, 10],
        [0, 5, 0, 600_000],
    ],
)
def test_read_in_blocks_returns_what_gunicorn_reads(sizes):
    payload = hashlib.sha256(b"seed").digest() * (600_000 // 32)  # 600,000 bytes, not repetitive
    fixed, _ = _body_over_socket(payload)
    stock, _ = _body_over_socket(payload)

    got_fixed = _read_pattern(gunicorn_conf.read_in_blocks, fixed, sizes)
    got_stock = _read_pattern(gunicorn_conf.STOCK_BODY_READ, stock, sizes)

    assert got_fixed == got_stock
    assert b"".join(got_fixed) == payload[: sum(len(piece) for piece in got_fixed)]


def test_read_in_blocks_mixed_with_readline_keeps_every_byte():
    payload = b"line one\r\nline two\r\n" + bytes(range(256)) * 3000
    reader, _ = _body_over_socket(payload)
    pieces = [reader.readline(), reader.read(5), reader.readline(), reader.read(100_000)]
    pieces.append(reader.read())
    assert pieces[0] == b"line one\r\n"
    assert pieces[1] == b"line "
    assert b"".join(pieces) == payload


def test_read_in_blocks_stops_at_the_body_end_so_the_next_request_stays_unread():
    payload = b"a" * 200_000
    following = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
    reader, unreader = _body_over_socket(payload, trailing=following)
    assert reader.read(1_000_000) == payload
    assert reader.read(10) == b""
    assert unreader.read(len(following)) == following


def test_other_gunicorn_versions_keep_their_reader(monkeypatch, capsys):
    monkeypatch.setattr(body.Body, "read", io.BytesIO.read)  # a stand-in to detect replacement
    monkeypatch.setattr(gunicorn, "__version__", "99.0.0")
    assert gunicorn_conf.install_body_read_fix() is False
    assert body.Body.read is io.BytesIO.read
    assert "99.0.0" in capsys.readouterr().err


def test_gunicorn_started_with_the_config_reads_large_bodies_on_keep_alive(free_port):
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:hdrsite.gunicorn_conf",
         "tests.hdrsite.body_echo_app:app", "--bind", f"127.0.0.1:{free_port}",
         "--workers", "1", "--threads", "2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", free_port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", free_port, timeout=10)
        # Two bodies on one connection: the second request proves the first left no bytes behind.
        for size in (1_000_003, 70_000):
            payload = hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"end\n"
            connection.request("POST", "/", body=payload)
            response = connection.getresponse()
            assert response.status == 200
            assert (
                response.read().decode() == f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
            )
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
