"""The hall display page (public: it shows only numbers and counters)."""

from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/display")
def page() -> str:
    """The TV page; ?counters=1,2&services=ktp,kk shows one zone, ?voice=id,en, ?sound=0."""
    return render_template("display/display.html")
