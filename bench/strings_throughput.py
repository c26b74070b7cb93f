"""Digit-string recognition throughput: strings/s at batch 1 and 64 with the committed model.

    python bench/strings_throughput.py [--runs 10] [--threads N] [--beam 8]

Reads the committed test strings (mixed widths, half cheque style) and prints JSON: hardware,
versions and, per batch size, the median and spread of the time per batch for the model alone
(``logits``) and for the full reading (model + beam decoding), with strings/s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import batch_timing, emit
from ml.infer import StringRecognizer
from ml.strings.fixtures import string_fixture_read

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "ml" / "weights" / "strings" / "strings-crnn-v2.onnx"
FIXTURE = ROOT / "tests" / "ml" / "strings" / "fixtures" / "strings_80.npz"
BATCHES = (1, 64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--beam", type=int, default=8, help="beam width (1 = greedy)")
    args = parser.parse_args()
    recognizer = StringRecognizer(WEIGHTS, providers=["CPUExecutionProvider"], threads=args.threads)
    strips, _ = string_fixture_read(FIXTURE)
    results = []
    for size in BATCHES:
        batch = (strips * (size // len(strips) + 1))[:size]
        results.append(
            {"stage": "model", **batch_timing(recognizer.logits, batch, args.runs, unit="strings")}
        )
        read = lambda b: recognizer.recognize(b, beam_width=args.beam)  # noqa: E731
        results.append(
            {
                "stage": f"model+decode(beam {args.beam})",
                **batch_timing(read, batch, args.runs, unit="strings"),
            }
        )
    emit(
        {
            "model": recognizer.version,
            "mean_width": sum(s.shape[1] for s in strips) / len(strips),
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
