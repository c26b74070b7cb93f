"""CTC decoding on hand-made logit sequences."""

import itertools

import numpy as np
import pytest

from ml.strings import BLANK
from ml.strings.decode import ctc_beam_decode, ctc_greedy_decode, viterbi_align


def frames(*labels: int, sure: float = 8.0) -> np.ndarray:
    """Logits [T, 11] whose argmax per frame is ``labels``."""
    logits = np.zeros((len(labels), 11), dtype=np.float32)
    logits[np.arange(len(labels)), labels] = sure
    return logits


def test_greedy_merges_repeats_and_drops_blanks():
    """Repeated labels collapse to one character; a blank between repeats keeps both."""
    reading = ctc_greedy_decode(frames(BLANK, 1, 1, BLANK, 1, 2, 2, BLANK, BLANK, 3))
    assert reading.text == "1123"
    assert len(reading.char_confidences) == 4
    assert all(0.99 < c <= 1.0 for c in reading.char_confidences)


def test_all_blank_and_zero_frames_give_the_empty_string():
    """Only blanks (or no frames at all) decode to an empty string with no characters."""
    assert ctc_greedy_decode(frames(BLANK, BLANK)).text == ""
    assert ctc_beam_decode(frames(BLANK, BLANK)).text == ""
    empty = ctc_beam_decode(np.zeros((0, 11), np.float32))
    assert empty.text == "" and empty.char_confidences == ()


def test_beam_sums_alignments_where_greedy_cannot():
    """Beam search prefers the string with the most probability over all its alignments."""
    # Each frame: blank 0.4, "7" 0.35, "1" 0.25. The best path is blank-blank ("" at 0.16),
    # but "7" has 0.35*0.4 + 0.4*0.35 + 0.35*0.35 = 0.4025 in total.
    probs = np.array([[0.0] * 11, [0.0] * 11])
    probs[:, BLANK], probs[:, 7], probs[:, 1] = 0.4, 0.35, 0.25
    probs[probs == 0] = 1e-9
    logits = np.log(probs).astype(np.float32)
    assert ctc_greedy_decode(logits).text == ""
    beam = ctc_beam_decode(logits, beam_width=8, n_best=3)
    assert beam.text == "7"
    assert beam.field_confidence == pytest.approx(0.4025, rel=1e-3)


def test_n_best_is_sorted_and_starts_with_the_reading():
    """The n-best list is in falling score order, distinct, and its head is the reading."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(12, 11)).astype(np.float32)
    beam = ctc_beam_decode(logits, beam_width=10, n_best=5)
    scores = [c.score for c in beam.n_best]
    assert scores == sorted(scores, reverse=True)
    assert len({c.text for c in beam.n_best}) == len(beam.n_best)
    assert beam.n_best[0].text == beam.text


def test_beam_equals_greedy_on_confident_output():
    """On peaky logits beam and greedy agree, with the same per-character confidences."""
    logits = frames(4, BLANK, 0, 0, BLANK, 0, 9)
    greedy, beam = ctc_greedy_decode(logits), ctc_beam_decode(logits)
    assert greedy.text == beam.text == "4009"
    assert np.allclose(greedy.char_confidences, beam.char_confidences)


def test_viterbi_alignment_collapses_to_the_text():
    """A forced alignment of a text collapses back to that text."""
    rng = np.random.default_rng(1)
    log_probs = np.log(rng.dirichlet(np.ones(11), size=9))
    path = viterbi_align(log_probs, "1223")
    collapsed = [int(x) for i, x in enumerate(path) if x != BLANK and (i == 0 or x != path[i - 1])]
    assert collapsed == [1, 2, 2, 3]


@pytest.mark.parametrize("text", ["", "7", "12", "33", "1221"])
def test_viterbi_alignment_is_the_most_probable_one(text):
    """No labelling that collapses to the text scores higher than the forced alignment (every
    labelling over the text's characters and the blank, enumerated)."""
    rng = np.random.default_rng(len(text))
    n_frames = 7
    log_probs = np.log(rng.dirichlet(np.ones(11) * 0.3, size=n_frames))
    alphabet = sorted({BLANK, *(int(c) for c in text)})

    def collapse(path):
        kept = [x for i, x in enumerate(path) if x != BLANK and (i == 0 or x != path[i - 1])]
        return "".join(str(x) for x in kept)

    def score(path):
        return float(log_probs[np.arange(n_frames), list(path)].sum())

    best = max(
        score(path)
        for path in itertools.product(alphabet, repeat=n_frames)
        if collapse(path) == text
    )
    path = viterbi_align(log_probs, text)

    assert collapse(list(path)) == text
    assert score(path) == pytest.approx(best)
