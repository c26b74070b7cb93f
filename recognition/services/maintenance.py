from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings

logger = logging.getLogger(__name__)


def sessions_clear_expired() -> None:
    """Delete expired login sessions; database-backed sessions otherwise grow without bound."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    logger.info("expired sessions cleared")
