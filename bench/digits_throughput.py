"""Digit recognition throughput: digits/s at batch 1, 64 and 256, ONNX Runtime vs eager torch.

    python bench/digits_throughput.py [--runs 20] [--threads N] [--model ml/weights/digits/X.onnx]

Prints JSON: hardware, versions, and per (engine, batch) the median, spread and digits/s. On a
machine with CUDA, ONNX Runtime's CUDA provider and torch on the GPU are measured as well.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench._common import batch_timing, emit
from ml.infer import DigitRecognizer

WEIGHTS = (
    Path(__file__).resolve().parent.parent / "ml" / "weights" / "digits" / "digits-cnn-v1.onnx"
)
BATCHES = (1, 64, 256)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--model", type=Path, default=WEIGHTS, help="digit ONNX model (with card)")
    args = parser.parse_args()
    weights = args.model

    import torch

    from ml.models import create_model

    rng = np.random.default_rng(0)
    results = []
    engines = {
        "onnxruntime-cpu": DigitRecognizer(
            weights, providers=["CPUExecutionProvider"], threads=args.threads
        )
    }
    if torch.cuda.is_available():
        engines["onnxruntime-cuda"] = DigitRecognizer(
            weights, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
        )
    for name, recognizer in engines.items():
        for size in BATCHES:
            batch = rng.random((size, 1, 28, 28), dtype=np.float32)
            results.append(
                {"engine": name, **batch_timing(recognizer.logits, batch, args.runs, unit="digits")}
            )

    if args.threads:
        torch.set_num_threads(args.threads)
    # Eager torch with the card's architecture and args (weights do not change the cost).
    card = engines["onnxruntime-cpu"].card
    model = create_model(card.get("architecture", "digit_cnn"), **card.get("args", {})).eval()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        model.to(device)
        for size in BATCHES:
            batch = rng.random((size, 1, 28, 28), dtype=np.float32)

            def run(array, device=device):
                with torch.inference_mode():
                    out = model(torch.from_numpy(array).to(device))
                    if device == "cuda":
                        torch.cuda.synchronize()
                    return out

            results.append(
                {
                    "engine": f"torch-eager-{device}",
                    **batch_timing(run, batch, args.runs, unit="digits"),
                }
            )

    emit(
        {
            "benchmark": "digits_throughput",
            "model": weights.name,
            "torch_threads": torch.get_num_threads(),
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
