"""bench/bench_print.py --quick still runs and prints a row per paper (no timing asserts)."""

from __future__ import annotations

from tests.bench.test_bench_smoke import run_bench, table_rows


def test_bench_print_quick():
    out = run_bench("bench_print.py")
    assert "command: `.venv/bin/python bench/bench_print.py --quick`" in out
    rows = table_rows(out, "80 mm") + table_rows(out, "58 mm")
    assert [row[1] for row in rows] == ["TM-T20II", "POS-5890"]
    for row in rows:
        render_p50 = float(row[4].split("/")[0])
        per_second = float(row[7])
        assert render_p50 > 0 and per_second > 0, row
