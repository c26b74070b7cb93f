"""Inference with ONNX Runtime (numpy only, no torch): the recognizers the platform serves."""

from ml.infer.digits import DigitReading, DigitRecognizer
from ml.infer.session import model_card_load, onnx_session_create, providers_choose

__all__ = [
    "DigitReading",
    "DigitRecognizer",
    "model_card_load",
    "onnx_session_create",
    "providers_choose",
]
