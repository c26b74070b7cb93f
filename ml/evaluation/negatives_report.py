"""The reject-signal part of the evaluation report: operating rule, negatives, histograms, curves.

Validation digits and validation negatives choose the temperature and both thresholds; test
digits and test negatives only report. Figures and JSON go into the report folder beside the
digit-only ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.evaluation.calibration import RejectPoint, expected_calibration_error
from ml.evaluation.plots import error_reject_plot, image_grid, score_histogram_plot
from ml.evaluation.rejection import (
    ACCEPT_RULE,
    DigitScores,
    accepted_mask,
    mixed_error_reject_curve,
    operating_point_choose,
    operating_point_measure,
    scores_from_logits,
)
from ml.infer.session import softmax

# Share of validation negatives the operating rule may accept: half the 1% test target,
# a margin for the difference between the validation and test draws.
DEFAULT_TARGET_NEGATIVES = 0.005
# The issue-3 budget: at most this share of digits sent to review.
REVIEW_BUDGET = 0.01
_HISTOGRAM_BINS = 50


@dataclass(frozen=True)
class LookalikesDropped:
    """What :class:`ml.negatives.lookalike.LookalikeFilter` took out of the held-out negatives:
    the filter, the test logits before the drop and the count dropped per split and kind."""

    lookalike_filter: dict[str, Any]
    test_logits_before: NDArray
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class NegativeLogits:
    """Model outputs on generated negatives: logits ``[M, C]`` and their kinds (test only)."""

    validation_logits: NDArray
    test_logits: NDArray
    test_kinds: NDArray[np.int64]
    kind_names: tuple[str, ...]
    test_images: NDArray[np.float32]
    # The test digits re-scanned through the production normalization (ml.data.renormalize).
    renormalized_test_logits: NDArray | None = None
    lookalikes: LookalikesDropped | None = None
    # The test digits drawn other ways (blurred, re-scanned and blurred), by name.
    variant_test_logits: dict[str, NDArray] = field(default_factory=dict)


def _histogram(digit_values: NDArray, negative_values: NDArray, edges: NDArray) -> dict:
    def share(values: NDArray) -> list[float]:
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), edges)
        return (counts / max(len(values), 1)).tolist()

    return {
        "edges": edges.tolist(),
        "digits": share(digit_values),
        "negatives": share(negative_values),
    }


def score_histograms(
    digits: DigitScores, negatives: DigitScores, digit_threshold: float, reject_threshold: float
) -> dict[str, dict[str, Any]]:
    """Histograms of the digit probability and the reject score, digits vs negatives."""
    probability = _histogram(
        digits.probability, negatives.probability, np.linspace(0, 1, _HISTOGRAM_BINS + 1)
    )
    pooled = np.concatenate([digits.reject_score, negatives.reject_score])
    low, high = float(pooled.min()), float(pooled.max())
    reject = _histogram(
        digits.reject_score,
        negatives.reject_score,
        np.linspace(low, high if high > low else low + 1, _HISTOGRAM_BINS + 1),
    )
    probability.update(threshold=digit_threshold, accept="above")
    reject.update(threshold=reject_threshold if np.isfinite(reject_threshold) else None)
    reject.update(accept="below")
    return {"digit probability": probability, "reject score": reject}


def _review_budget_point(
    validation: DigitScores,
    validation_labels: NDArray,
    test: DigitScores,
    test_labels: NDArray,
    validation_negatives: DigitScores,
    test_negatives: DigitScores,
    reject_threshold: float,
) -> dict[str, Any]:
    """With the reject threshold kept, the digit threshold that sends REVIEW_BUDGET of the
    validation digits to review, and what it gives on validation and test."""
    passing = np.where(validation.reject_score <= reject_threshold, validation.probability, -1.0)
    digit_threshold = float(np.quantile(passing, REVIEW_BUDGET))
    return {
        "review_budget": REVIEW_BUDGET,
        "chosen_on": "validation",
        "validation": operating_point_measure(
            validation, validation_labels, validation_negatives, digit_threshold, reject_threshold
        ).to_dict(),
        "test": operating_point_measure(
            test, test_labels, test_negatives, digit_threshold, reject_threshold
        ).to_dict(),
    }


def negatives_report_write(
    *,
    out: Path,
    temperature: float,
    validation_logits: NDArray,
    validation_labels: NDArray,
    test_logits: NDArray,
    test_labels: NDArray,
    negatives: NegativeLogits,
    target_error: float,
    target_negatives: float = DEFAULT_TARGET_NEGATIVES,
) -> dict[str, Any]:
    """Write the reject-signal files into ``out`` and return the report's ``reject`` and
    ``negatives`` sections (the operating rule replaces the probability-only threshold)."""
    validation = scores_from_logits(validation_logits, temperature)
    test = scores_from_logits(test_logits, temperature)
    validation_neg = scores_from_logits(negatives.validation_logits, temperature)
    test_neg = scores_from_logits(negatives.test_logits, temperature)

    chosen = operating_point_choose(
        validation,
        validation_labels,
        validation_neg,
        target_error=target_error,
        target_negatives=target_negatives,
    )
    on_test = operating_point_measure(
        test, test_labels, test_neg, chosen.digit_threshold, chosen.reject_threshold
    )
    accepted = accepted_mask(test_neg, chosen.digit_threshold, chosen.reject_threshold)
    per_kind = {
        name: {
            "count": int((negatives.test_kinds == k).sum()),
            "accepted": float(accepted[negatives.test_kinds == k].mean())
            if (negatives.test_kinds == k).any()
            else 0.0,
        }
        for k, name in enumerate(negatives.kind_names)
    }
    eleven = test_logits.shape[1] > 10
    score_name = "not-a-digit probability" if eleven else "energy -T*logsumexp(logits/T)"

    histograms = score_histograms(test, test_neg, chosen.digit_threshold, chosen.reject_threshold)
    (out / "score_histograms.json").write_text(json.dumps(histograms))
    score_histogram_plot(histograms, out / "score_histograms.png")

    curve = mixed_error_reject_curve(test, test_labels, test_neg, chosen.reject_threshold)
    digits_accepted = accepted_mask(test, chosen.digit_threshold, chosen.reject_threshold)
    # In the mix an accepted negative is an error, like a misread digit.
    wrong = int((test.digit != test_labels)[digits_accepted].sum() + accepted.sum())
    accepted_count = int(digits_accepted.sum() + accepted.sum())
    mixed_chosen = RejectPoint(
        chosen.digit_threshold,
        float(1 - accepted_count / (len(digits_accepted) + len(accepted))),
        float(wrong / max(accepted_count, 1)),
    )
    (out / "error_reject_mixed.json").write_text(
        json.dumps(
            {
                "negatives_in_mix": len(accepted),
                "digits_in_mix": len(digits_accepted),
                "chosen": asdict(mixed_chosen),
                "curve": [asdict(p) for p in curve],
            }
        )
    )
    error_reject_plot(
        curve,
        mixed_chosen,
        out / "error_reject_mixed.png",
        title="Error-reject, test digits + negatives (accepted negative: error)",
        max_reject_percent=100 * min(1.0, mixed_chosen.reject_rate + 0.1),
    )
    shown = np.flatnonzero(accepted)
    image_grid(
        negatives.test_images[shown],
        [f"{negatives.kind_names[negatives.test_kinds[i]]}→{test_neg.digit[i]}" for i in shown],
        out / "negatives_accepted.png",
        "Test negatives accepted as a digit (kind→digit)",
    )

    reject_section = {
        "rule": ACCEPT_RULE,
        "reject_score": score_name,
        "target_error": target_error,
        "target_negatives_validation": target_negatives,
        "threshold": chosen.digit_threshold,
        "reject_threshold": chosen.reject_threshold,
        "chosen_on": "validation digits + validation negatives",
        "validation_reject_rate": chosen.review_rate,
        "validation_accepted_error": chosen.accepted_error,
        "validation_negatives_accepted": chosen.negatives_accepted,
        "test_reject_rate": on_test.review_rate,
        "test_accepted_error": on_test.accepted_error,
        "test_negatives_accepted": on_test.negatives_accepted,
        "at_review_budget": _review_budget_point(
            validation,
            validation_labels,
            test,
            test_labels,
            validation_neg,
            test_neg,
            chosen.reject_threshold,
        ),
    }
    mixed_labels = np.r_[test_labels, np.full(len(test_neg.digit), 10)]
    negatives_section = {
        "validation_size": len(validation_neg.digit),
        "test_size": len(test_neg.digit),
        "test_accepted_share": on_test.negatives_accepted,
        "test_accepted_by_kind": per_kind,
        "mixed_error_at_threshold": mixed_chosen.accepted_error,
        "mixed_reject_rate_at_threshold": mixed_chosen.reject_rate,
    }
    if eleven:
        mixed = softmax(np.r_[test_logits, negatives.test_logits], temperature)
        negatives_section["ece_digits_and_negatives"] = expected_calibration_error(
            mixed, mixed_labels
        )
        negatives_section["test_negatives_argmax_not_digit"] = float(
            (negatives.test_logits.argmax(1) == 10).mean()
        )
        negatives_section["test_digits_argmax_not_digit"] = float(
            (test_logits.argmax(1) == 10).mean()
        )

    def at_rule(logits: NDArray) -> dict[str, float]:
        scores = scores_from_logits(logits, temperature)
        point = operating_point_measure(
            scores, test_labels, test_neg, chosen.digit_threshold, chosen.reject_threshold
        )
        return {
            "accuracy": float((scores.digit == test_labels).mean()),
            "review_rate": point.review_rate,
            "accepted_error": point.accepted_error,
        }

    if negatives.renormalized_test_logits is not None:
        negatives_section["test_digits_renormalized"] = {
            "what": "MNIST test digits enlarged 1.5-4x and normalized by the production function",
            **at_rule(negatives.renormalized_test_logits),
        }
    if negatives.variant_test_logits:
        negatives_section["test_digits_variants"] = {
            name: at_rule(logits) for name, logits in negatives.variant_test_logits.items()
        }
    if negatives.lookalikes is not None:
        before = scores_from_logits(negatives.lookalikes.test_logits_before, temperature)
        negatives_section["lookalikes_dropped"] = {
            **negatives.lookalikes.lookalike_filter,
            "dropped": negatives.lookalikes.dropped,
            "test_size_before": len(before.digit),
            "test_accepted_share_before": float(
                accepted_mask(before, chosen.digit_threshold, chosen.reject_threshold).mean()
            ),
        }
    return {"reject": reject_section, "negatives": negatives_section}
