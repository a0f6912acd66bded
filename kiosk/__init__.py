"""The kiosk: touch-screen pages where citizens pick a service and take a number."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/kiosk/static",
)

from . import routes  # noqa: E402,F401  (routes on bp)
