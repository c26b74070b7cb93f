"""CTC decoding of string logits: greedy and prefix beam search, with confidences (numpy only).

Logits are float32 ``[T, 11]`` for one string (classes 0-9 digits, 10 the blank). A character's
confidence is its highest posterior over the frames aligned to it; the field confidence is the
probability of the whole string (summed over its alignments, as the beam search estimates it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ml.strings import BLANK


@dataclass(frozen=True)
class StringCandidate:
    """One entry of an n-best list: ``text`` and its probability ``score`` in [0, 1]."""

    text: str
    score: float


@dataclass(frozen=True)
class StringReading:
    """The reading of one string.

    ``text`` the digits (may be empty); ``char_confidences`` one value in [0, 1] per character;
    ``field_confidence`` in [0, 1]; ``n_best`` candidates, most probable first (``n_best[0]``
    is ``text``). ``reject_score`` in [0, 1] says how much of the writing is not digits (see
    :mod:`ml.infer.string_reject`); None when no digit model with a reject class scored it.
    """

    text: str
    char_confidences: tuple[float, ...]
    field_confidence: float
    n_best: tuple[StringCandidate, ...]
    reject_score: float | None = None


def log_softmax(logits: NDArray[np.floating], temperature: float = 1.0) -> NDArray[np.float64]:
    """Log-probabilities of ``logits / temperature`` over the last axis (float64)."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    return scaled - np.log(np.exp(scaled).sum(axis=-1, keepdims=True))


def _char_confidences(
    probs: NDArray[np.float64], path: NDArray[np.int64]
) -> tuple[str, tuple[float, ...]]:
    text, confidences = [], []
    previous = BLANK
    for t, label in enumerate(path):
        label = int(label)
        if label != BLANK and label != previous:
            text.append(str(label))
            confidences.append(float(probs[t, label]))
        elif label != BLANK:
            confidences[-1] = max(confidences[-1], float(probs[t, label]))
        previous = label
    return "".join(text), tuple(confidences)


def ctc_greedy_decode(logits: NDArray[np.floating], temperature: float = 1.0) -> StringReading:
    """Best path decoding: argmax per frame, merge repeats, drop blanks.

    The field confidence is the product of the best path's frame probabilities, a lower bound
    of the string's probability.
    """
    log_probs = log_softmax(logits, temperature)
    if log_probs.shape[0] == 0:
        return StringReading("", (), 1.0, (StringCandidate("", 1.0),))
    path = log_probs.argmax(axis=1)
    text, confidences = _char_confidences(np.exp(log_probs), path)
    score = float(np.exp(log_probs[np.arange(len(path)), path].sum()))
    return StringReading(text, confidences, score, (StringCandidate(text, score),))


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) on plain floats: numpy scalars cost several times more per call,
    and the beam search makes thousands of these calls per string."""
    if a < b:
        a, b = b, a
    if b == -math.inf:
        return a
    return a + math.log1p(math.exp(b - a))


def viterbi_align(log_probs: NDArray[np.float64], text: str) -> NDArray[np.int64]:
    """The most probable frame labelling ``[T]`` that collapses to ``text`` (forced alignment)."""
    labels = np.array([BLANK] + [x for c in text for x in (int(c), BLANK)], dtype=np.int64)
    n_states, n_frames = len(labels), log_probs.shape[0]
    emissions = log_probs[:, labels]
    # A state is entered from itself, from the state before, or, skipping a blank, from two
    # before: the last only between two different characters.
    skip = np.zeros(n_states, dtype=bool)
    skip[2:] = (labels[2:] != BLANK) & (labels[2:] != labels[:-2])
    sources = np.arange(n_states)[None, :] - np.arange(3)[:, None]  # [3, S]: stay, -1, -2
    back = np.zeros((n_frames, n_states), dtype=np.int64)
    score = np.full(n_states, -np.inf)
    score[: min(2, n_states)] = emissions[0, : min(2, n_states)]
    options = np.full((3, n_states), -np.inf)
    for t in range(1, n_frames):
        options[0] = score
        options[1, 1:] = score[:-1]
        options[2, 2:] = np.where(skip[2:], score[:-2], -np.inf)
        # argmax takes the first best: on a tie, staying beats moving on, as before.
        choice = options.argmax(axis=0)
        back[t] = sources[choice, np.arange(n_states)]
        score = options[choice, np.arange(n_states)] + emissions[t]
    state = n_states - 1 if n_states == 1 or score[-1] >= score[-2] else n_states - 2
    path = np.zeros(n_frames, dtype=np.int64)
    for t in range(n_frames - 1, -1, -1):
        path[t] = labels[state]
        state = back[t, state]
    return path


def ctc_beam_decode(
    logits: NDArray[np.floating],
    *,
    beam_width: int = 8,
    n_best: int = 5,
    temperature: float = 1.0,
    prune_log_prob: float = -12.0,
) -> StringReading:
    """Prefix beam search over ``[T, 11]`` logits; returns the best string and an n-best list.

    Scores are string probabilities summed over alignments (exact when the beam holds every
    prefix). Classes below ``prune_log_prob`` at a frame are skipped, which on peaky CTC output
    leaves one or two per frame and keeps this fast.
    """
    log_probs = log_softmax(logits, temperature)
    if log_probs.shape[0] == 0:
        return StringReading("", (), 1.0, (StringCandidate("", 1.0),))
    # prefix -> (log P ending in blank, log P ending in non-blank)
    beams: dict[str, tuple[float, float]] = {"": (0.0, -np.inf)}
    for frame in log_probs.tolist():
        candidates = [c for c in range(10) if frame[c] > prune_log_prob]
        following: dict[str, list[float]] = defaultdict(lambda: [-np.inf, -np.inf])
        for prefix, (p_blank, p_char) in beams.items():
            total = _logaddexp(p_blank, p_char)
            entry = following[prefix]
            entry[0] = _logaddexp(entry[0], total + frame[BLANK])
            if prefix:
                last = int(prefix[-1])
                entry[1] = _logaddexp(entry[1], p_char + frame[last])
            for c in candidates:
                extended = following[prefix + str(c)]
                if prefix and int(prefix[-1]) == c:
                    # A repeated character needs a blank between the two.
                    extended[1] = _logaddexp(extended[1], p_blank + frame[c])
                else:
                    extended[1] = _logaddexp(extended[1], total + frame[c])
        ranked = sorted(following.items(), key=lambda item: -_logaddexp(*item[1]))
        beams = {prefix: (v[0], v[1]) for prefix, v in ranked[:beam_width]}
    ranked_final = sorted(((_logaddexp(*v), p) for p, v in beams.items()), reverse=True)
    n_best_list = tuple(
        StringCandidate(text, float(np.exp(score))) for score, text in ranked_final[:n_best]
    )
    best = n_best_list[0]
    _, confidences = _char_confidences(np.exp(log_probs), viterbi_align(log_probs, best.text))
    return StringReading(best.text, confidences, best.score, n_best_list)
