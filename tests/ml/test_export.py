"""A checkpoint exports to ONNX that keeps the digit contract and matches torch."""

from __future__ import annotations

import numpy as np
import torch

from ml.checkpoint import checkpoint_save
from ml.export import model_export
from ml.infer import DigitRecognizer
from ml.models import create_model


def test_export_writes_a_contract_conforming_model_with_its_card(tmp_path):
    torch.manual_seed(0)
    model = create_model("lenet5").eval()
    checkpoint = checkpoint_save(tmp_path / "m.pt", model, architecture="lenet5", args={})

    card = model_export(checkpoint, tmp_path / "m.onnx", report_dir=None, version="test-1")

    recognizer = DigitRecognizer(tmp_path / "m.onnx")
    session = recognizer.session
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    for n in (1, 7):
        batch = np.random.default_rng(n).random((n, 1, 28, 28), dtype=np.float32)
        logits = recognizer.logits(batch)
        assert logits.shape == (n, 10) and logits.dtype == np.float32
        with torch.no_grad():
            expected = model(torch.from_numpy(batch)).numpy()
        assert np.abs(logits - expected).max() <= 1e-4
    assert card["version"] == "test-1" and recognizer.version == "test-1"
    assert card["onnx"]["parity_max_abs_logit_difference"] <= 1e-4
