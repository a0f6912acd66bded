"""The JSON HTTP API under /api/v1: the same API the pages and devices use.

One blueprint; one module per resource. Errors have one shape everywhere
(see errors.py). Live updates go over Socket.IO (satupintu/sockets.py); a
client that sees a gap in `seq`, or reconnects, fetches GET /api/v1/snapshot.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from apiflask import APIBlueprint
from flask import request

from .. import current
from ..auth import current_principal
from ..errors import BadRequest, NotFound, UnsupportedMediaType

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")

ERRORS = {
    400: "Bad input; `field` names the culprit",
    401: "No, invalid or expired credentials",
    403: "This role may not do this",
    404: "No such ticket, counter or service",
    409: "Not allowed in the current state",
    413: "Body too large",
    415: "The body is not application/json",
    429: "Rate limited or daily quota full",
}
# typed as APIFlask's doc(security=...) takes it (its list is invariant)
SECURITY: list[str | dict[str, list[Any]]] = ["BearerAuth", "SessionCookie"]
API_DESCRIPTION = """\
The queue of one office. Devices and scripts log in with `POST /auth/token` and
send `Authorization: Bearer <token>`; pages log in with `POST /auth/session`
(cookie). Roles: public (read), kiosk (issue tickets), clerk (counter actions),
manager (everything). Every error is `{"error": code, "message": text}` plus
`field` when one input field is to blame.

**Live updates (Socket.IO, path `/socket.io`).** Emit `join` `{room, token?}`;
the ack is `{ok: true, room, seq}` or `{ok: false, error, message}`. Rooms:
`display` (public, every event), `ticket:<id>` (public, that ticket),
`counter:<id>` (clerk/manager, that counter), `manager` (manager, every event,
staff payload). Events: `ticket_issued`, `ticket_called` (with `announcement`
`{id, en}` and `recall`), `ticket_updated`, `counter_updated`, `queue_updated`,
`catalogue_updated` (a manager edited the services: reload them); each
payload has the branch sequence number `seq`. On connect, on reconnect,
or when a `seq` is skipped, fetch `GET /api/v1/snapshot` and apply only events
with a larger `seq`.
"""
MAX_PATH_ARG = 64
LOGIN_ENDPOINTS = ("api.get_token", "api.login_session", "api.logout")


@bp.before_request
def check_request() -> None:
    """Refuse absurd path ids and bodies that are not JSON before any view runs."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and len(value) > MAX_PATH_ARG:
            raise NotFound(f"no such {name.removesuffix('_id')}: the id is too long")
    # Bodies must be JSON: a form or text/plain post (what a cross-site form can send)
    # is refused outright rather than read as an empty body.
    if (
        request.method in ("POST", "PUT", "PATCH")
        and request.content_length
        and not request.is_json
    ):
        raise UnsupportedMediaType("send the body as application/json")
    if request.is_json and request.content_length:
        check_json_numbers(request.get_data(cache=True))
    # Resolve who is asking on every route, so a bad or expired token is a 401 even
    # where it is optional, and clients notice; logging in again must still work.
    if request.endpoint not in LOGIN_ENDPOINTS:
        current_principal()
    # The first request of a new local day ends what the last one left open.
    engine().close_days_if_due()


def check_json_numbers(data: bytes) -> None:
    """400 for a JSON number past Python's int-string limit (the parser raises ValueError).

    webargs only turns JSONDecodeError into a 400, so the digit limit would be a 500;
    other malformed bodies are left to it (same message as before).
    """
    try:
        json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    except ValueError as exc:
        if "digits" not in str(exc):
            raise
        raise BadRequest(
            f"the body has a number with too many digits (at most {sys.get_int_max_str_digits()})"
        ) from None


def api_doc(
    summary: str,
    errors: tuple[int, ...] = (),
    tag: str = "",
    auth: bool = False,
    extra: dict[int, str] | None = None,
) -> Callable[[Any], Any]:
    """The OpenAPI summary, tag, error responses and security of one route.

    Every route may answer 401: a bad or expired token is refused even where none is
    needed (check_request, the principal's lookup).
    """
    codes = set(errors) | {401} | ({403} if auth else set())
    responses: dict[int, str] = {code: ERRORS[code] for code in sorted(codes)}
    return bp.doc(
        summary=summary,
        tags=[tag] if tag else None,
        responses={**(extra or {}), **responses},
        security=SECURITY if auth else None,
    )


def mark_required_bodies(spec: dict[str, Any]) -> dict[str, Any]:
    """Say `requestBody.required` where the body's schema has required fields (APIFlask
    leaves it out, so clients and fuzzers would think an empty body is fine)."""
    schemas = spec.get("components", {}).get("schemas", {})
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if not body:
                continue
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if schemas.get(ref.rsplit("/", 1)[-1], {}).get("required"):
                    body["required"] = True
    return spec


# The app's engine and config for the route at hand: `engine()`, `config()`.
engine = current.engine
config = current.config


from . import (  # noqa: E402,F401  (routes on bp)
    auth_routes,
    catalogue,
    counters,
    reports,
    services,
    tickets,
    users,
)


def init_api(app: Any) -> None:
    """Register the API blueprint, its error shape and its OpenAPI security schemes."""
    from .errors import register_error_handlers
    from .login_guard import init_login_guard

    app.config["SECURITY_SCHEMES"] = {
        "BearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "a token from POST /api/v1/auth/token",
        },
        "SessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "session",
            "description": "pages: POST /api/v1/auth/session",
        },
    }
    app.config["DESCRIPTION"] = API_DESCRIPTION
    app.spec_processor(mark_required_bodies)
    app.config["TAGS"] = [
        {"name": "Auth", "description": "tokens (devices) and sessions (pages)"},
        {"name": "Services", "description": "the catalogue and the live snapshot"},
        {"name": "Tickets", "description": "issue, follow, cancel"},
        {"name": "Counters", "description": "clerk actions and assignments"},
        {"name": "Reports", "description": "today's figures (managers)"},
        {"name": "Users", "description": "staff and kiosk accounts (managers)"},
    ]
    init_login_guard(app)  # the login and issuing limits, counted in the store
    register_error_handlers(app)
    app.register_blueprint(bp)
