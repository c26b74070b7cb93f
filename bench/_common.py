"""What every benchmark prints besides its figures: hardware, versions, and run statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from importlib import metadata


def environment() -> dict:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {
            p: version(p)
            for p in ("django", "celery", "torch", "onnxruntime", "opencv-python-headless", "numpy")
        },
    }


def summary(values: list[float]) -> dict:
    """Median, spread (min, max, stdev) and tail percentiles of a list of measurements."""
    ordered = sorted(values)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "runs": len(values),
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": ordered[0],
        "max": ordered[-1],
        "p95": percentile(0.95),
        "p99": percentile(0.99),
    }


def emit(figures: dict) -> None:
    print(json.dumps({"environment": environment(), **figures}, indent=2))
