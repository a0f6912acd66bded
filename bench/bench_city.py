"""Loading and checking a city config: the demo city and a generated Jakarta of 318 offices.

    .venv/bin/python bench/bench_city.py [--quick] [--no-doc]

Times satupintu.city.load_city (read every file, parse TOML, check it all) as
`serve` and `check-config` pay it once at start. The generated city has the
demo catalogue and 1 province, 6 city, 44 kecamatan and 267 kelurahan offices.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import benchlib
from benchlib import table

from satupintu.city import load_city
from tests.cityfiles import DEMO, JAKARTA_LEVELS, generate_city


def timed(path: Path, runs: int) -> list[float]:
    """Seconds of `runs` loads of the city at `path`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_city(path)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    args = benchlib.parser(__doc__.splitlines()[0]).parse_args()
    runs = 3 if args.quick else 20
    rows = []
    with tempfile.TemporaryDirectory(prefix="satupintu-city-") as tmp:
        jakarta = generate_city(Path(tmp) / "jakarta")
        for label, path in (
            ("demo city", DEMO),
            ("config.toml (city of one)", benchlib.ROOT / "config.toml"),
            ("generated Jakarta", jakarta),
        ):
            city = load_city(path)
            times = timed(path, runs)
            rows.append(
                [
                    label,
                    len(city.offices),
                    runs,
                    f"{statistics.median(times) * 1000:.1f}",
                    f"{max(times) * 1000:.1f}",
                    f"{statistics.median(times) * 1e6 / len(city.offices):.0f}",
                ]
            )
    levels = ", ".join(f"{n} {level}" for level, n in JAKARTA_LEVELS)
    lines = [
        "## Loading a city config (`bench/bench_city.py`)",
        "",
        "`satupintu.city.load_city`: read the city file and every office file, parse and "
        f"check them (the generated Jakarta: {levels}). Paid once at start.",
        "",
        *table(["city", "offices", "loads", "median ms", "max ms", "µs per office"], rows),
        "",
        *benchlib.environment(packages=()),
    ]
    benchlib.report(args, "city", lines)


if __name__ == "__main__":
    main()
