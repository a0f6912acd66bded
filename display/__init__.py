"""The hall display: calls in large type, spoken announcements, waiting counts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "display",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/display/static",
)

from . import routes  # noqa: E402,F401  (routes on bp)
