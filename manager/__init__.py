"""The manager's page: live board, assignments, catalogue, printers, users, figures."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "manager",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/manager/static",
)

from . import routes  # noqa: E402,F401  (routes on bp)
