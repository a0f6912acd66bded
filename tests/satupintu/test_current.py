"""The app's parts: one typed accessor each (satupintu/current.py), set by create_app."""

from __future__ import annotations

import pytest
from flask import Flask

from satupintu import current
from satupintu.config import Config
from satupintu.engine import Engine
from satupintu.store.base import Store


def test_create_app_sets_every_core_part(app):
    engine = current.engine.get(app)
    assert isinstance(engine, Engine)
    assert isinstance(current.config.get(app), Config)
    assert isinstance(current.store.get(app), Store)
    assert current.store.get(app) is engine.store and current.config.get(app) is engine.config
    with app.test_request_context("/"):
        assert current.engine() is engine  # the app handling the request


def test_a_part_not_set_is_a_clear_error():
    bare = Flask(__name__)
    assert current.engine.find(bare) is None
    with pytest.raises(RuntimeError, match="satupintu.engine is not set"):
        current.engine.get(bare)
    with bare.app_context():
        with pytest.raises(RuntimeError, match="satupintu.engine is not set"):
            current.engine()


def test_no_part_is_looked_up_by_a_string_key():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    ours = re.compile(r"""extensions(\[|\.get\()\s*["']satupintu""")
    found = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("satupintu", "printer", "kiosk", "display", "counter", "manager", "tests")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "current.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ours.search(line)
    ]
    assert found == [], "use satupintu/current.py's Part accessors"
    assert ours.search("app.extensions" + '["satupintu.engine"]')  # control: it would match
