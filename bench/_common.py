"""What every benchmark prints besides its figures: hardware, versions, and run statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
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


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pending.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_cpu_seconds() -> float | None:
    """User + system CPU seconds of the whole machine, every core and process (Linux /proc/stat):
    what the database server and the broker spend too. None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    # cpu  user nice system idle iowait irq softirq steal ...
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


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


def rounded(stats: dict, digits: int) -> dict:
    """``stats`` (e.g. from :func:`summary`) with its floats rounded to ``digits`` decimals."""
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in stats.items()}


def emit(figures: dict) -> None:
    print(json.dumps({"environment": environment(), **figures}, indent=2))


def batch_timing(run, batch, runs: int, *, unit: str, warmup: int = 3) -> dict:
    """Time `run(batch)` `runs` times after `warmup` calls: ms per batch and `unit`s per second."""
    for _ in range(warmup):
        run(batch)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run(batch)
        seconds.append(time.perf_counter() - started)
    stats = summary([s * 1000 for s in seconds])
    return {
        "batch": len(batch),
        "ms_per_batch": rounded(stats, 4),
        f"{unit}_per_s_median": round(len(batch) / (stats["median"] / 1000), 1),
    }
