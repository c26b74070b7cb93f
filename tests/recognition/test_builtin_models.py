"""The models a release ships reach new and existing installations: registered, and the
built-in default activated unless an admin chose another version."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from recognition.models import ModelVersion
from recognition.roles import Role
from recognition.services.model_versions import (
    builtin_default,
    model_version_activate,
    model_versions_builtin_ensure,
    model_versions_register_builtin,
)
from tests.factories import UserFactory, api_for

pytestmark = pytest.mark.django_db

DIGITS_DEFAULT = builtin_default("digits")[1]["version"]


def _active(kind: str = "digits") -> ModelVersion:
    return ModelVersion.objects.get(kind=kind, is_active=True)


def test_a_new_installation_activates_each_kinds_default_as_the_default():
    model_versions_register_builtin()

    for kind in ("digits", "strings"):
        assert _active(kind).version == builtin_default(kind)[1]["version"]
        assert _active(kind).activated_by_default
    assert DIGITS_DEFAULT == "digits-cnn-v4"


def test_an_installation_on_an_earlier_default_moves_to_the_new_default():
    model_versions_register_builtin()
    # As an earlier release left it: v3 activated as that release's default.
    model_version_activate(
        model_version=ModelVersion.objects.get(version="digits-cnn-v3"), by_default=True
    )

    model_versions_register_builtin()

    assert _active().version == DIGITS_DEFAULT and _active().activated_by_default


def test_a_version_an_admin_promoted_stays_active_when_a_new_default_ships():
    model_versions_register_builtin()
    chosen = ModelVersion.objects.get(version="digits-cnn-v5")
    client = api_for(UserFactory(roles=[Role.ADMIN]))

    assert client.post(f"/api/v1/models/{chosen.pk}/promote/").json()["is_active"]
    model_versions_register_builtin()

    assert _active().version == "digits-cnn-v5" and not _active().activated_by_default
    listed = {v["version"]: v for v in client.get("/api/v1/models/").json()}
    assert (
        listed["digits-cnn-v5"]["is_active"] and not listed["digits-cnn-v5"]["activated_by_default"]
    )


def test_a_shipped_model_the_database_lacks_is_registered_without_changing_the_active_one():
    model_versions_register_builtin()
    model_version_activate(model_version=ModelVersion.objects.get(version="digits-cnn-v3"))
    ModelVersion.objects.filter(version="digits-cnn-v5").delete()  # as before its release

    model_versions_builtin_ensure()

    assert ModelVersion.objects.filter(version="digits-cnn-v5").exists()
    assert _active().version == "digits-cnn-v3"


def test_the_command_registers_the_models_and_says_what_is_active():
    out = StringIO()

    call_command("models_builtin", stdout=out)

    assert f"digits: {DIGITS_DEFAULT} is active (the built-in default)" in out.getvalue()
    assert ModelVersion.objects.filter(version="digits-cnn-v5", is_active=False).exists()


def _defaults_mark():
    migration = importlib.import_module(
        "recognition.migrations.0011_modelversion_activated_by_default"
    )
    migration.defaults_mark(apps, None)


def test_the_migration_marks_an_active_built_in_that_nobody_changed():
    model_versions_register_builtin()
    ModelVersion.objects.update(activated_by_default=False)  # as the column starts

    _defaults_mark()

    assert _active("digits").activated_by_default and _active("strings").activated_by_default


def test_the_migration_leaves_a_version_someone_switched_to_as_chosen():
    model_versions_register_builtin()
    model_version_activate(model_version=ModelVersion.objects.get(version="digits-cnn-v3"))
    ModelVersion.objects.update(activated_by_default=False)

    _defaults_mark()

    # v4 was active before v3: a person rolled back or promoted.
    assert not _active("digits").activated_by_default
    assert _active("strings").activated_by_default


def test_the_dashboard_offers_to_promote_a_shipped_model_that_was_never_active(client):
    admin = UserFactory(roles=[Role.ADMIN])
    client.force_login(admin)

    page = client.get("/learning/").content.decode()

    # Shipped models have no retraining gate; one never active can be promoted, not rolled back.
    v5 = ModelVersion.objects.get(version="digits-cnn-v5")
    assert f'data-promote="{v5.pk}"' in page
    assert f"{DIGITS_DEFAULT} <strong>(active, the built-in default)</strong>" in page


def test_the_migration_leaves_a_model_registered_by_hand_as_chosen(tmp_path):
    model_versions_register_builtin()
    by_hand = ModelVersion.objects.create(
        kind="digits", version="site-model", onnx_path=str(tmp_path / "site.onnx")
    )
    model_version_activate(model_version=by_hand)
    ModelVersion.objects.filter(kind="digits").update(activated_at=None)  # as if first active
    ModelVersion.objects.filter(pk=by_hand.pk).update(activated_at=by_hand.activated_at)
    ModelVersion.objects.update(activated_by_default=False)

    _defaults_mark()

    assert _active("digits") == by_hand and not _active("digits").activated_by_default
