"""Smoke runs of the benchmarks (--quick): they still run and print sane figures.

Not timed assertions: the figures themselves are checked only for being real
numbers; docs/performance.md is written by the full runs, by hand.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import benchlib  # noqa: E402


def run_bench(script: str, *args: str, timeout: float = 120) -> str:
    """Run bench/<script> --quick and return its stdout (fails on a non-zero exit)."""
    doc_before = benchlib.DOC.read_text() if benchlib.DOC.exists() else None
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    doc_after = benchlib.DOC.read_text() if benchlib.DOC.exists() else None
    assert doc_after == doc_before, "--quick must never write docs/performance.md"
    return proc.stdout


def table_rows(output: str, first_cell: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith(f"| {first_cell}")
    ]


@pytest.mark.redis
@pytest.mark.slow
def test_bench_engine_quick():
    out = run_bench("bench_engine.py")
    assert "command: `.venv/bin/python bench/bench_engine.py --quick`" in out
    for store in ("sqlite", "redis", "redis-everysec"):
        (row,) = table_rows(out, store + " ")
        issue_ops, call_ops = float(row[1]), float(row[4])
        assert issue_ops > 0 and call_ops > 0, row
    levels = table_rows(out, "0 ") + table_rows(out, "200 ") + table_rows(out, "400 ")
    assert len(levels) == 6  # served and unserved, three fill levels each
    for row in levels:  # a column per store: "p50 (p99)"
        assert len(row) == 3
        assert all(re.fullmatch(r"\d+\.\d\d \(\d+\.\d\d\)", c) for c in row[1:]), row


def test_write_section_replaces_only_its_own(tmp_path):
    doc = tmp_path / "performance.md"
    benchlib.write_section("engine", ["engine v1"], doc)
    benchlib.write_section("print", ["print v1"], doc)
    benchlib.write_section("engine", ["engine v2", "two lines"], doc)
    text = doc.read_text()
    assert text.startswith("# Performance")
    assert "engine v1" not in text and "engine v2\ntwo lines" in text
    assert "print v1" in text
    assert text.index("bench:engine") < text.index("bench:print")  # kept its place


def test_percentile_nearest_rank():
    values = [float(i) for i in range(1, 101)]
    assert benchlib.pct(values, 50) == 50.0
    assert benchlib.pct(values, 99) == 99.0
    assert benchlib.pct(values, 100) == 100.0
    assert benchlib.pct([3.0], 99) == 3.0


@pytest.mark.redis
@pytest.mark.slow
def test_bench_callnext_quick_engine_and_http():
    out = run_bench("bench_callnext.py", "--http", timeout=300)
    rows = table_rows(out, "engine ") + table_rows(out, "HTTP ")
    assert [r[0] for r in rows] == [
        "engine sqlite",
        "engine redis",
        "HTTP sqlite (1 serve process)",
        "HTTP redis (2 serve processes)",
    ]
    for row in rows:
        claimed, issued = row[1].split("/")
        assert claimed == issued == "80", row
        assert row[2:5] == ["0", "0", "0"], row  # none twice, none missed, store agrees
        assert float(row[5]) > 0, row
    assert "No ticket was claimed twice" in out


@pytest.mark.redis
@pytest.mark.slow
def test_bench_http_quick():
    out = run_bench("bench_http.py", timeout=300)
    conc = table_rows(out, "sqlite |") + table_rows(out, "redis |")
    assert [(r[0], r[1]) for r in conc] == [
        ("sqlite", "1"),
        ("sqlite", "4"),
        ("redis", "1"),
        ("redis", "4"),
    ]
    for row in conc:
        assert float(row[5]) > 0 and row[6] == "0", row  # tickets/s, no errors
    flat = table_rows(out, "0 |") + table_rows(out, "100 |")
    assert len(flat) == 2 and all(len(r) == 3 for r in flat)
    scale = [r for r in table_rows(out, "") if r[0] in ("1", "2") and r[2].endswith("x")]
    assert [r[0] for r in scale] == ["1", "2"] and all(float(r[1]) > 0 for r in scale)


@pytest.mark.redis
@pytest.mark.slow
def test_bench_events_quick():
    out = run_bench("bench_events.py", timeout=300)
    rows = [r for r in table_rows(out, "") if r[0] in ("sqlite", "redis")]
    assert [(r[0], r[1].split()[0], r[2]) for r in rows] == [
        ("sqlite", "threading", "1"),
        ("redis", "threading", "2"),
        ("sqlite", "gevent", "1"),
    ]
    for row in rows:
        assert row[3] == "20/20" and row[5] == "60/60", row  # every client got every call
        p50, p99, top = (float(x) for x in row[6:9])
        assert 0 < p50 <= p99 <= top, row


@pytest.mark.redis
@pytest.mark.slow
def test_bench_backup_quick():
    out = run_bench("bench_backup.py")
    rows = table_rows(out, "sqlite ") + table_rows(out, "redis ")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("sqlite", "1", "100"),
        ("sqlite", "2", "200"),
        ("redis", "1", "100"),
        ("redis", "2", "200"),
    ]
    for row in rows:
        for seconds in (row[4], row[6]):  # backup and restore: real, measured numbers
            assert re.fullmatch(r"\d+\.\d{3}", seconds) and float(seconds) < 60, row


@pytest.mark.redis
def test_bench_limits_quick():
    out = run_bench("bench_limits.py")
    rows = table_rows(out, "sqlite ") + table_rows(out, "redis ")
    assert [(r[0], r[1]) for r in rows] == [("sqlite", "50"), ("redis", "50")]
    for row in rows:
        assert all(float(v) > 0 for v in row[2:4]), row  # measured, not placeholders


def test_bench_city_quick():
    out = run_bench("bench_city.py")
    assert "command: `.venv/bin/python bench/bench_city.py --quick`" in out
    (row,) = table_rows(out, "generated Jakarta")
    assert row[1] == "318" and float(row[3]) > 0, row
    (demo,) = table_rows(out, "demo city")
    assert demo[1] == "4", demo
