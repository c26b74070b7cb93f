"""Templates applied to documents: detected fields get the template's names, rules and thresholds."""

from __future__ import annotations

from collections.abc import Sequence

from recognition.models import TemplateField

# Below this overlap a detected field is not the template's field, whatever its kind.
MATCH_MIN_IOU = 0.3


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def template_fields_match(
    template_fields: Sequence[TemplateField],
    detected: Sequence[tuple[str, Sequence[float]]],
    *,
    page_width: int,
    page_height: int,
) -> dict[int, TemplateField]:
    """Pair detected fields (kind, pixel bbox) with template fields (relative bbox) of the same
    kind, best overlap first, each at most once. Returns {detected index: template field}.

    Until scans are registered to their template's reference page, this relies on the scan
    having the reference's framing: fields that moved by more than their own size stay unnamed.
    """
    pairs = []
    for i, (kind, bbox) in enumerate(detected):
        x, y, w, h = bbox
        relative = (x / page_width, y / page_height, w / page_width, h / page_height)
        for template_field in template_fields:
            if template_field.kind != kind:
                continue
            overlap = _iou(relative, template_field.bbox)
            if overlap >= MATCH_MIN_IOU:
                pairs.append((overlap, i, template_field))
    matched: dict[int, TemplateField] = {}
    used: set[int] = set()
    for _, i, template_field in sorted(pairs, key=lambda p: -p[0]):
        if i in matched or template_field.pk in used:
            continue
        matched[i] = template_field
        used.add(template_field.pk)
    return matched
