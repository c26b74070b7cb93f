"""Digit-string recognition throughput: strings/s at batch 1 and 64 with the committed model.

    python bench/strings_throughput.py [--runs 10] [--threads N] [--beam 8]

Reads the committed test strings (mixed widths, half cheque style) and prints JSON: hardware,
versions and, per batch size, the median and spread of the time per batch for the model alone
(``logits``) and for the full reading (model + beam decoding), with strings/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, summary
from ml.infer import StringRecognizer
from ml.strings.fixtures import string_fixture_read

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "ml" / "weights" / "strings" / "strings-crnn-v1.onnx"
FIXTURE = ROOT / "tests" / "ml" / "strings" / "fixtures" / "strings_80.npz"
BATCHES = (1, 64)


def measure(run, strips: list, runs: int) -> dict:
    run(strips)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run(strips)
        seconds.append(time.perf_counter() - started)
    stats = summary([s * 1000 for s in seconds])
    return {
        "batch": len(strips),
        "ms_per_batch": {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()},
        "strings_per_s_median": round(len(strips) / (stats["median"] / 1000), 1),
    }


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
        results.append({"stage": "model", **measure(recognizer.logits, batch, args.runs)})
        read = lambda b: recognizer.recognize(b, beam_width=args.beam)  # noqa: E731
        results.append(
            {"stage": f"model+decode(beam {args.beam})", **measure(read, batch, args.runs)}
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
