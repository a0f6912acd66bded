"""The lock files pin every dependency pyproject.toml names (make install uses --no-deps)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalize(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])


def pinned(lock: str) -> set[str]:
    names = set()
    for line in (ROOT / lock).read_text().splitlines():
        if line and not line.startswith("#"):
            names.add(normalize(line.split("==")[0]))
    return names


def test_every_dependency_is_in_both_locks_and_every_test_extra_in_the_test_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement_name(d) for d in project["dependencies"]}
    test = {requirement_name(d) for d in project["optional-dependencies"]["test"]}
    assert core - pinned("requirements.lock") == set(), "run `make lock`"
    assert (core | test) - pinned("requirements-test.lock") == set(), "run `make lock`"
    # control: the check sees a name that is really missing
    assert "not-a-real-package" not in pinned("requirements-test.lock")
