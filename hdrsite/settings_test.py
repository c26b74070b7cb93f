"""Settings for the test suite: the production settings with a separate var dir.

Tests keep their database file, broker folder and media apart from a running platform's `var/`,
and run with DEBUG off like production. Environment variables still win, which is how CI points
the suite at PostgreSQL and Redis.
"""

import os
from pathlib import Path

os.environ.setdefault("HDR_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
# Quality sampling is proved by its own tests; elsewhere an accepted field stays accepted.
os.environ.setdefault("HDR_REVIEW_SAMPLE_RATE", "0")
os.environ.setdefault("SECRET_KEY", "test-only-key-4f0c2a7e9b1d8c6e3a5f7b9d1e2c4a6b8d0f1e3c5a7")

from hdrsite.settings import *  # noqa: F403
from hdrsite.settings import STORAGES

# Tests render templates without running collectstatic first.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
# Hashing cost is irrelevant to what tests prove and dominates their runtime otherwise.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
