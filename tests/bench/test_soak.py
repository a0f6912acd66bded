"""A brief soak (bench/bench_soak.py) on each store: no call missed, no client dropped,
the serve worker's memory flat once warmed up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_soak  # noqa: E402
import benchlib  # noqa: E402


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_brief_soak_misses_no_call_and_holds_its_memory(kind, tmp_path):
    args = argparse.Namespace(
        minutes=1.0, rate=5.0, counters=3, displays=30, phones=15, warmup=5.0, quick=False
    )
    with benchlib.redis_server() as redis:
        run = bench_soak.run_store(kind, tmp_path, redis.url if kind == "redis" else None, args)
    result = bench_soak.analyse(run)
    assert run["connected"] == 45
    assert result["calls"] > 100  # the soak did call (about 5 a second)
    assert result["phone_calls"] > 20  # and phones heard their own tickets called
    assert result["missed_display"] == 0 and result["missed_phone"] == 0
    assert len(result["display"]) == result["calls"] * 30  # every display heard every call
    assert result["reconnects"] == 0 and result["disconnects"] == 0
    assert not run["errors"], run["errors"][:3]
    assert len(result["rss"]) >= 6  # sampled every 10 s
    assert result["rss_growth"] < 0.10, result["rss"]


def test_soak_analysis_counts_a_missed_call():
    """The control: a call one display never heard is missed, and a phone that never heard
    its ticket's call too; a reconnect is counted."""
    run = {
        "connected": 3,
        "cpu": 1.0,
        "rss": [(0, 100.0), (10, 100.0), (20, 101.0)],
        "called": {"t1": 1.0, "t2": 2.0, "t3": 3.0},
        "gathered": [
            (
                0,
                {"t1": [1.1, 1.2], "t2": [2.1], "t3": [3.1, 3.2]},
                {"t1": 1.3},
                {
                    "frames": 9,
                    "connects": 4,
                    "disconnects": 1,
                    "joined": {"t1": 0.5, "t3": 2.5, "t2": 2.5},
                },
                2,
            )
        ],
    }
    result = bench_soak.analyse(run)
    assert result["missed_display"] == 1  # t2 reached one of the two displays
    assert result["missed_phone"] == 1  # t3 was called, its phone never heard
    # t2's phone joined after the call (not followed); t1 and t3 were followed
    assert result["reconnects"] == 1 and result["phone_calls"] == 2
