"""Inference with ONNX Runtime (numpy only, no torch): the recognizers the platform serves."""

from ml.infer.digits import DigitReading, DigitRecognizer
from ml.infer.session import model_card_load, onnx_session_create, providers_choose
from ml.infer.strings import StringReading, StringRecognizer

__all__ = [
    "DigitReading",
    "DigitRecognizer",
    "StringReading",
    "StringRecognizer",
    "model_card_load",
    "onnx_session_create",
    "providers_choose",
]
