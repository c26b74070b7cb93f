"""`make run`'s worker gets one process per core it may run on, plus one."""

from __future__ import annotations

import os

from hdrsite import launch


def test_the_worker_runs_one_process_per_usable_core_plus_one(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3}, raising=False)

    assert launch.worker_concurrency_default() == 3


def test_without_affinity_the_core_count_is_used(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)

    assert launch.worker_concurrency_default() == 5


def test_an_unknown_core_count_counts_as_one(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)

    assert launch.worker_concurrency_default() == 2
