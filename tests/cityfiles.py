"""Write cities for tests and benchmarks: copies of the demo city, or a generated one."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "city"
# Jakarta's PTSP network (shared/data/ptsp-services.md): 318 offices.
JAKARTA_LEVELS = (("province", 1), ("city", 6), ("kecamatan", 44), ("kelurahan", 267))
# What each level decides and takes in, as in the demo city's office files.
LEVEL_SERVICES = {
    "province": (["pbg", "nib", "pbb", "info"], ["ktp", "kk", "akta"]),
    "city": (["pbg", "nib", "pbb", "info"], ["ktp", "kk", "akta"]),
    "kecamatan": (["ktp", "kk", "akta", "nib", "info"], ["pbg", "pbb"]),
    "kelurahan": (["ktp", "kk", "akta", "info"], ["pbg", "nib", "pbb"]),
}


def copy_demo(target: Path) -> Path:
    """A writable copy of the demo city folder; returns the folder."""
    shutil.copytree(DEMO, target)
    return target


def office_text(office_id: str, level: str, n: int = 0) -> str:
    """The TOML of one generated office of `level` (n spreads its coordinates)."""
    offers, takes_in = LEVEL_SERVICES[level]
    lat, lon = -6.10 - (n % 40) * 0.005, 106.70 + (n // 40) * 0.02
    quoted = ", ".join(f'"{s}"' for s in offers)
    taken = ", ".join(f'"{s}"' for s in takes_in)
    return f'''[office]
id = "{office_id}"
name = "PTSP {level.title()} {n}"
level = "{level}"
address = "Jl. Contoh No. {n}, Jakarta"
latitude = {lat:.4f}
longitude = {lon:.4f}
offers = [{quoted}]
takes_in = [{taken}]

[hours]
mon = "07:30-16:00"
tue = "07:30-16:00"
wed = "07:30-16:00"
thu = "07:30-16:00"
fri = "07:30-16:30"

[[counters]]
id = "1"
name = "Loket 1"
services = [{quoted}]

[[counters]]
id = "2"
name = "Loket 2"

[[kiosks]]
id = "K1"
name = "Kiosk"
'''


def generate_city(target: Path, levels: tuple[tuple[str, int], ...] = JAKARTA_LEVELS) -> Path:
    """A city with the demo catalogue and `levels` offices (318 by default); the folder."""
    (target / "offices").mkdir(parents=True)
    shutil.copy(DEMO / "city.toml", target / "city.toml")
    n = 0
    for level, count in levels:
        for i in range(count):
            office_id = f"{level[:4]}-{i + 1:03d}"
            (target / "offices" / f"{office_id}.toml").write_text(
                office_text(office_id, level, n), encoding="utf-8"
            )
            n += 1
    return target
