"""The lock files pin every dependency pyproject.toml names, within its range (`make lock`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def pins(lock: str) -> dict[str, Version]:
    pinned = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{lock}: {line!r} is not pinned with =="
            pinned[canonicalize_name(name)] = Version(version)
    return pinned


def unlocked(requirements: list[str], pinned: dict[str, Version]) -> list[str]:
    """The requirements the pins miss or do not satisfy."""
    missing = []
    for text in requirements:
        req = Requirement(text)
        version = pinned.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            missing.append(f"{text} (locked: {version})")
    return missing


def test_the_locks_pin_what_pyproject_asks_for():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    app, test = project["dependencies"], project["optional-dependencies"]["test"]
    hint = "; run `make lock` and commit requirements*.lock"
    assert unlocked(app, pins("requirements.lock")) == [], "requirements.lock" + hint
    assert unlocked(app + test, pins("requirements-test.lock")) == [], (
        "requirements-test.lock" + hint
    )


def test_a_missing_or_outdated_pin_is_found():
    pinned = {"flask": Version("3.1.0"), "redis": Version("4.6.0")}
    assert unlocked(["flask>=3.0", "redis>=5", "qrcode>=7.4"], pinned) == [
        "redis>=5 (locked: 4.6.0)",
        "qrcode>=7.4 (locked: None)",
    ]
