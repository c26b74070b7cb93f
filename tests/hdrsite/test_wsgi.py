"""The WSGI module a web process loads at start."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.processes import ROOT

LOAD_WSGI = """
import json, sys
from hdrsite.wsgi import application
from django.db import connections
from django.urls import get_resolver
resolver = get_resolver()
print(json.dumps({
    "views_imported": "recognition.api.views" in sys.modules,
    "reverse_table_built": resolver._populated,
    "open_connections": [c.alias for c in connections.all() if c.connection is not None],
}))
"""


def test_loading_the_wsgi_app_imports_the_views_and_opens_no_connection(embedded_env):
    # The first request of a new web process used to import every view and build the reverse()
    # table (0.4-0.6 s under load); the process now does it at start, before the server forks
    # workers, so nothing it opens may be shared between them.
    out = subprocess.run(
        [sys.executable, "-c", LOAD_WSGI], cwd=ROOT, env=embedded_env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state == {"views_imported": True, "reverse_table_built": True, "open_connections": []}
