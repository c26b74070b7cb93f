"""API tokens: a checked token is remembered for HDR_API_TOKEN_CACHE_S seconds, no longer, and
deleting it or changing its user in this process takes effect at once."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognition.api import authentication
from tests.factories import UserFactory

DOCUMENTS = "/api/v1/documents/"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(authentication.time, "monotonic", clock)
    return clock


@pytest.fixture
def token(db):
    return Token.objects.create(user=UserFactory(roles=["clerk"]))


def _get(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(DOCUMENTS)


def _delete_elsewhere(token: Token) -> None:
    # As another web process would: the row goes, and this process hears nothing of it.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Token._meta.db_table} WHERE key = %s", [token.key])


def test_a_remembered_token_is_accepted_until_its_time_is_up(token, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 5
    assert _get(token.key).status_code == 200
    _delete_elsewhere(token)

    clock.now += 4.9
    assert _get(token.key).status_code == 200  # still remembered

    clock.now += 0.2
    assert _get(token.key).status_code == 401  # looked up again: gone


def test_deleting_a_token_in_this_process_refuses_it_at_once(token, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 5
    assert _get(token.key).status_code == 200

    token.delete()

    assert _get(token.key).status_code == 401


def test_deactivating_a_user_in_this_process_refuses_their_token_at_once(token, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 5
    assert _get(token.key).status_code == 200

    token.user.is_active = False
    token.user.save()

    assert _get(token.key).status_code == 401


def test_an_unknown_token_is_not_remembered(db, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 5
    key = "f" * 40
    assert _get(key).status_code == 401

    Token.objects.create(key=key, user=UserFactory(roles=["clerk"]))

    assert _get(key).status_code == 200


def test_zero_turns_remembering_off(token, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 0
    assert _get(token.key).status_code == 200

    _delete_elsewhere(token)

    assert _get(token.key).status_code == 401


def test_each_request_gets_its_own_user_object(token, clock, settings):
    settings.HDR_API_TOKEN_CACHE_S = 5
    auth = authentication.RememberingTokenAuthentication()

    first, _ = auth.authenticate_credentials(token.key)
    second, _ = auth.authenticate_credentials(token.key)

    assert first == second == token.user  # the same user...
    assert first is not second  # ...in two objects: one request's attributes stay its own


def test_only_the_most_recent_tokens_are_kept(db, clock, settings, monkeypatch):
    settings.HDR_API_TOKEN_CACHE_S = 5
    monkeypatch.setattr(authentication, "MAX_TOKENS", 2)
    tokens = [Token.objects.create(user=UserFactory(roles=["clerk"])) for _ in range(3)]
    for token in tokens:
        assert _get(token.key).status_code == 200
    for token in tokens:
        _delete_elsewhere(token)

    assert _get(tokens[0].key).status_code == 401  # pushed out by the third
    assert _get(tokens[1].key).status_code == 200
    assert _get(tokens[2].key).status_code == 200
