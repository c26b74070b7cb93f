"""API token authentication that remembers a checked token for a few seconds.

Looking a token up costs every API request a database round trip: under the upload benchmark on
PostgreSQL (20 uploaders, 2 cores) it took 1.2 of the web server's 7 CPU-ms per upload and held
each request while the database process got a core. A token seen within the last
`HDR_API_TOKEN_CACHE_S` seconds is accepted from this process's memory instead.

What may be stale, and for how long: a token deleted, or a user deactivated, in another process
is still accepted here for at most that many seconds. In this process, deleting a token or
saving its user forgets it at once. Roles are not remembered: every role check queries the
database. Unknown tokens are never remembered. `HDR_API_TOKEN_CACHE_S=0` turns it off.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

# Enough for every integration of a large installation; the oldest entries go first.
MAX_TOKENS = 1024

_lock = threading.Lock()
_checked: OrderedDict[str, tuple[float, object, Token]] = OrderedDict()


def tokens_forget(*, key: str | None = None, user_id: int | None = None) -> None:
    """Drop remembered tokens: one by key, every token of a user, or all when given neither."""
    with _lock:
        if key is None and user_id is None:
            _checked.clear()
        if key is not None:
            _checked.pop(key, None)
        if user_id is not None:
            for cached_key in [k for k, (_, user, _) in _checked.items() if user.pk == user_id]:
                del _checked[cached_key]


class RememberingTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>` authentication, remembering valid tokens briefly."""

    def authenticate_credentials(self, key):
        ttl = settings.HDR_API_TOKEN_CACHE_S
        if ttl <= 0:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        with _lock:
            hit = _checked.get(key)
            if hit is not None and hit[0] > now:
                _checked.move_to_end(key)
                # Each request gets its own user object: views may set attributes on it.
                return copy.copy(hit[1]), hit[2]
        user, token = super().authenticate_credentials(key)
        with _lock:
            _checked[key] = (now + ttl, user, token)
            _checked.move_to_end(key)
            while len(_checked) > MAX_TOKENS:
                _checked.popitem(last=False)
        return copy.copy(user), token


@receiver(post_delete, sender=Token)
def _token_deleted(sender, instance: Token, **kwargs) -> None:
    tokens_forget(key=instance.key)


@receiver(post_save, sender=get_user_model())
def _user_saved(sender, instance, **kwargs) -> None:
    tokens_forget(user_id=instance.pk)
