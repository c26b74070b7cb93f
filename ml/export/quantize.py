"""INT8 quantization of the digit model for CPU inference (ONNX Runtime, static QDQ).

Activations are calibrated on MNIST validation digits (never test); the quantized file keeps the
contract (`image` [N,1,28,28] -> `logits`) and gets its own card with the accuracy and the
review figures measured on MNIST test at the fp32 model's accept threshold.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

CALIBRATION_DIGITS = 1024


class _Batches:
    """ONNX Runtime's calibration reader over float [N,1,28,28] batches."""

    def __init__(self, images: NDArray[np.float32], batch: int = 64) -> None:
        self._batches = iter(
            [{"image": images[i : i + batch]} for i in range(0, len(images), batch)]
        )

    def get_next(self):
        return next(self._batches, None)


def digits_quantize_int8(
    source: str | Path,
    output: str | Path,
    *,
    calibration: NDArray[np.uint8],
    test_images: NDArray[np.uint8],
    test_labels: NDArray[np.int64],
) -> dict[str, Any]:
    """Quantize `source` (.onnx with its card) to `output`; write and return the INT8 card."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ml.infer.session import model_card_load, onnx_session_create, softmax

    source, output = Path(source), Path(output)
    card = model_card_load(source)
    calibrate = calibration[:CALIBRATION_DIGITS, None].astype(np.float32) / 255.0
    with tempfile.TemporaryDirectory() as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared),
            str(output),
            _Batches(calibrate),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    images = test_images[:, None].astype(np.float32) / 255.0
    figures = {}
    temperature = float(card.get("calibration", {}).get("temperature", 1.0))
    threshold = float(card.get("accept_threshold", 0.99))
    for name, path in (("fp32", source), ("int8", output)):
        session = onnx_session_create(path)
        logits = np.concatenate(
            [
                session.run(["logits"], {"image": images[i : i + 512]})[0]
                for i in range(0, len(images), 512)
            ]
        )
        probabilities = softmax(logits, temperature)[:, :10]
        predicted = probabilities.argmax(1)
        accepted = probabilities.max(1) >= threshold
        figures[name] = {
            "test_accuracy": round(float((predicted == test_labels).mean()), 6),
            "test_reject_rate": round(float(1 - accepted.mean()), 6),
            "test_accepted_error": round(
                float((predicted[accepted] != test_labels[accepted]).mean()), 6
            ),
            "agreement_with_fp32": None,
        }
        figures[name]["_predicted"] = predicted
    figures["int8"]["agreement_with_fp32"] = round(
        float((figures["int8"]["_predicted"] == figures["fp32"]["_predicted"]).mean()), 6
    )
    for name in ("fp32", "int8"):
        figures[name].pop("_predicted")
    quantized = {
        **card,
        "version": f"{card.get('version', source.stem)}-int8",
        "quantization": {
            "method": "ONNX Runtime static QDQ: weights int8 per channel, activations uint8",
            "calibrated_on": f"{len(calibrate)} MNIST train validation digits",
            "from": source.name,
            "measured_on_mnist_test": figures,
            "quantized_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        # Opt in: the fp32 model stays the default until INT8 is measured on production scans.
        "default_active": False,
    }
    output.with_suffix(".json").write_text(json.dumps(quantized, indent=1))
    return quantized
