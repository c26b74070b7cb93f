"""Comb fields of a page are read in one batch through the digit model."""

from pathlib import Path

import numpy as np

import ml
from ml.infer import DigitRecognizer
from recognition.reading import comb_fields_read

WEIGHTS = Path(ml.__file__).resolve().parent / "weights" / "digits" / "digits-cnn-v1.onnx"
MNIST_300 = Path(__file__).resolve().parents[1] / "ml" / "fixtures" / "mnist_test_300.npz"


class CountingRecognizer(DigitRecognizer):
    """The committed model, counting the batches it is given."""

    calls = 0

    def predict(self, images):
        self.calls += 1
        return super().predict(images)


def test_the_written_boxes_of_every_comb_go_through_the_model_in_one_batch():
    with np.load(MNIST_300) as data:
        images = data["images"][:7].astype(np.float32) / 255
        labels = data["labels"][:7]
    blank = np.zeros((28, 28), np.float32)
    first = np.stack([images[0], blank, images[1], images[2]])
    empty = np.stack([blank, blank])
    second = np.stack(list(images[3:7]))
    recognizer = CountingRecognizer(WEIGHTS)

    readings = comb_fields_read(
        recognizer,
        [
            (first, [False, True, False, False]),
            (empty, [True, True]),
            (second, [False] * 4),
        ],
    )

    assert recognizer.calls == 1
    assert [r.value for r in readings] == [
        "".join(map(str, labels[0:3])),
        "",
        "".join(map(str, labels[3:7])),
    ]
    assert len(readings[0].characters) == 3 and readings[1].characters == []


def test_pages_without_written_boxes_do_not_call_the_model():
    recognizer = CountingRecognizer(WEIGHTS)
    blank = np.zeros((2, 28, 28), np.float32)

    readings = comb_fields_read(recognizer, [(blank, [True, True])])

    assert recognizer.calls == 0
    assert readings[0].value == "" and readings[0].confidence == 1.0
