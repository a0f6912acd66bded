"""The JSON HTTP API under /api/v1: the same API the pages and devices use.

One blueprint; one module per resource. Errors have one shape everywhere
(see errors.py). Live updates go over Socket.IO (satupintu/sockets.py); a
client that sees a gap in `seq`, or reconnects, fetches GET /api/v1/snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiflask import APIBlueprint
from flask import current_app

from ..config import Config
from ..engine import Engine

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")

ERRORS = {
    400: "Bad input; `field` names the culprit",
    401: "No, invalid or expired credentials",
    403: "This role may not do this",
    404: "No such ticket, counter or service",
    409: "Not allowed in the current state",
    413: "Body too large",
    429: "Rate limited or daily quota full",
}
SECURITY = ["BearerAuth", "SessionCookie"]


def api_doc(summary: str, errors: tuple[int, ...] = (), tag: str = "",
            auth: bool = False, extra: dict[int, str] | None = None) -> Callable[[Any], Any]:
    """The OpenAPI summary, tag, error responses and security of one route."""
    codes = set(errors) | ({401, 403} if auth else set())
    responses: dict[int, str] = {code: ERRORS[code] for code in sorted(codes)}
    return bp.doc(
        summary=summary,
        tags=[tag] if tag else None,
        responses={**(extra or {}), **responses},
        security=SECURITY if auth else None,
    )


def engine() -> Engine:
    return current_app.extensions["satupintu.engine"]


def config() -> Config:
    return current_app.extensions["satupintu.config"]


from . import auth_routes, counters, services, tickets  # noqa: E402,F401  (routes on bp)


def init_api(app: Any) -> None:
    """Register the API blueprint, its error shape and its OpenAPI security schemes."""
    from .errors import register_error_handlers

    app.config["SECURITY_SCHEMES"] = {
        "BearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "a token from POST /api/v1/auth/token"},
        "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                          "description": "pages: POST /api/v1/auth/session"},
    }
    app.config["TAGS"] = [
        {"name": "Auth", "description": "tokens (devices) and sessions (pages)"},
        {"name": "Services", "description": "the catalogue and the live snapshot"},
        {"name": "Tickets", "description": "issue, follow, cancel"},
        {"name": "Counters", "description": "clerk actions and assignments"},
    ]
    register_error_handlers(app)
    app.register_blueprint(bp)
