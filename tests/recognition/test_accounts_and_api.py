"""Demo accounts, sign-in, and the API's authentication, schema and error shape."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from recognition.roles import Role
from recognition.services.users import DEMO_USERS, demo_users_ensure


def test_demo_users_get_their_roles_and_can_be_reset(db):
    demo_users_ensure()
    user_model = get_user_model()
    user_model.objects.filter(username="clerk").update(is_active=False)

    demo_users_ensure()

    assert user_model.objects.count() == 3
    for demo in DEMO_USERS:
        user = user_model.objects.get(username=demo.username)
        assert user.is_active and user.check_password(demo.password)
        assert list(user.groups.values_list("name", flat=True)) == [demo.role.value]
        assert user.is_superuser is (demo.role is Role.ADMIN)


def test_role_groups_exist_after_migrations(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


def test_sign_in_leads_home_and_shows_the_role(client, db):
    demo_users_ensure()

    response = client.post(
        "/accounts/login/", {"username": "reviewer", "password": "hdr-reviewer-demo"}, follow=True
    )

    assert response.status_code == 200
    assert b"reviewer" in response.content and b"Sign out" in response.content


def test_home_requires_sign_in(client, db):
    response = client.get("/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_wrong_password_is_refused_with_a_message(client, db):
    demo_users_ensure()

    response = client.post("/accounts/login/", {"username": "clerk", "password": "nope"})

    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_api_token_identifies_the_caller(db):
    demo_users_ensure()
    api = APIClient()

    token = api.post("/api/v1/auth/token/", {"username": "clerk", "password": "hdr-clerk-demo"})
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = api.get("/api/v1/me/")

    assert me.status_code == 200
    assert me.json() == {"username": "clerk", "roles": ["clerk"]}


def test_a_token_made_on_the_command_line_identifies_its_user(db):
    demo_users_ensure()
    out = io.StringIO()

    call_command("drf_create_token", "reviewer", stdout=out)
    key = out.getvalue().split()[2]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api.get("/api/v1/me/").json() == {"username": "reviewer", "roles": ["reviewer"]}


def test_api_errors_share_one_shape(db):
    api = APIClient()

    anonymous = api.get("/api/v1/me/")
    bad_login = api.post("/api/v1/auth/token/", {"username": "clerk"})

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous.json()["error"]["message"]
    assert bad_login.status_code == 400
    assert bad_login.json()["error"]["code"] == "invalid"
    assert bad_login.json()["error"]["message"].startswith("password:")


def test_openapi_schema_is_served(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "hdr API"
    assert "/api/v1/me/" in schema["paths"]
