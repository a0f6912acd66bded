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

