"""The built-in cheque template: it matches the cheques of the synthetic generator drawn with
layout seed CHEQUE_LAYOUT_SEED, so the demo reads cheques in template mode."""

from __future__ import annotations

import cv2

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from recognition.models import FieldKind, Template, TemplateKind
from recognition.services.templates import fields_detected, template_create

CHEQUE_TEMPLATE_NAME = "cheque"
CHEQUE_LAYOUT_SEED = 20261
CHEQUE_DPI = 300


def cheque_page(*, hand_seed: int, blank: bool = False, degradations=(), digits=None):
    """A generated cheque in the built-in template's layout (blank: the reference page)."""
    return synth_page(
        "cheque",
        digits if digits is not None else digits_from_npz(SAMPLE_DIGITS),
        seed=CHEQUE_LAYOUT_SEED,
        hand_seed=hand_seed,
        blank=blank,
        dpi=CHEQUE_DPI,
        degradations=tuple(degradations),
    )


def _cheque_fields(image) -> list[dict]:
    """The detected fields, named: the date comb at the top, the courtesy amount (the rightmost
    writing area: the payee line to its left is printed words, not read), the account number comb
    along the bottom."""
    fields = fields_detected(image)
    combs = sorted((f for f in fields if f["kind"] == FieldKind.DIGITS), key=lambda f: f["bbox"][1])
    strings = sorted(
        (f for f in fields if f["kind"] == FieldKind.STRING), key=lambda f: f["bbox"][0]
    )
    if len(combs) != 2 or not strings:
        raise RuntimeError(
            f"the generated cheque shows {len(combs)} comb and {len(strings)} string fields, "
            "expected 2 and at least 1"
        )
    date, account = combs
    amount = strings[-1]
    date.update(name="date", required=True)
    account.update(name="account", required=True)
    amount.update(name="amount", required=True)
    return [date, amount, account]


def cheque_template_ensure() -> tuple[Template, bool]:
    """The current cheque template, created (live) on first use; returns (template, created)."""
    existing = Template.objects.filter(name=CHEQUE_TEMPLATE_NAME, is_current=True).first()
    if existing is not None:
        return existing, False
    blank = cheque_page(hand_seed=0, blank=True)
    data = cv2.imencode(".png", blank.image)[1].tobytes()
    template = template_create(
        name=CHEQUE_TEMPLATE_NAME,
        kind=TemplateKind.CHEQUE,
        description="Built in: the cheques of the synthetic generator (date, amount, account).",
        reference_data=data,
        fields=_cheque_fields(blank.image),
        is_live=True,
    )
    return template, True
