"""The clerk's counter page: open the counter, call, serve, transfer."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "counter",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/counter/static",
)

from . import routes  # noqa: E402,F401  (routes on bp)
