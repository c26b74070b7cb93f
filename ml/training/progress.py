"""A minimal progress bar on stderr (tqdm is not a dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line as batches complete; prints a plain line per epoch when not a terminal."""

    def __init__(self, total: int, prefix: str, stream: TextIO | None = None, width: int = 24):
        self.total = max(1, total)
        self.prefix = prefix
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.interactive = self.stream.isatty()
        self._last_draw = 0.0

    def update(self, done: int, **metrics: float) -> None:
        """Show ``done`` of ``total`` steps with the given running metrics (at most 10 draws/s)."""
        if not self.interactive:
            return
        now = time.perf_counter()
        if done < self.total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        text = " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        elapsed = now - self.started
        self.stream.write(f"\r{self.prefix} [{bar}] {done}/{self.total} {text} {elapsed:.0f}s")
        self.stream.flush()

    def close(self, summary: str) -> None:
        """End the bar with a one-line summary."""
        if self.interactive:
            self.stream.write("\r\x1b[2K")
        self.stream.write(f"{self.prefix} {summary}\n")
        self.stream.flush()
