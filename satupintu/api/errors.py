"""One JSON error shape for everything under /api: {"error": code, "message": text, "field"?}."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import redis
from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import QueueError

# The store's server or file cannot be reached: 503, not a 500 (nothing was written).
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    sqlite3.OperationalError,
)

# Header values as APIFlask's HTTPError may carry them (werkzeug accepts each).
Headers = Mapping[str, str | list[str] | tuple[str, ...]]

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "bad_request",
    429: "rate_limited",
    500: "internal_error",
    503: "store_unavailable",
}

# The error shape as an OpenAPI schema, used for every documented error response.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable machine code, e.g. no_such_ticket"},
        "message": {"type": "string", "description": "what is wrong, for people"},
        "field": {"type": "string", "description": "the input field to blame, if any"},
    },
}


def _first_problem(messages: Any, path: str = "") -> tuple[str, str]:
    """The first (field path, message) in marshmallow's nested error dict."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "path", "form", "headers", "cookies") and not path:
                return _first_problem(value, "")
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            elif key == "_schema":
                sub = path
            else:
                sub = f"{path}.{key}" if path else str(key)
            return _first_problem(value, sub)
    if isinstance(messages, list) and messages:
        if all(isinstance(m, str) for m in messages):
            return path, messages[0]
        return _first_problem(messages[0], path)
    return path, str(messages)


def error_response(
    status: int,
    code: str | None,
    message: str,
    field: str | None = None,
    headers: Headers | None = None,
) -> Response:
    """Build the JSON error response."""
    body: dict[str, Any] = {"error": code or CODES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        if key.lower() not in ("content-type", "content-length"):
            response.headers[key] = value
    return response


def _page_error(status: int, message: str, headers: Headers | None = None) -> Response:
    """Errors outside /api: a plain page (role blueprints may register nicer ones)."""
    html = (
        f"<!doctype html><meta charset=utf-8><title>{status}</title>"
        f"<h1>{status}</h1><p>{message}</p>"
    )
    response = Response(html, status=status, mimetype="text/html")
    for key, value in (headers or {}).items():
        if key.lower() not in ("content-type", "content-length"):
            response.headers[key] = value
    return response


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX) or request.path.rstrip("/") == "/api"


def http_error(error: HTTPError) -> Response:
    """APIFlask's error processor: validation errors and abort()s."""
    headers = dict(error.headers or {})
    # HTTPError.__init__ fills a missing message from the status; only its
    # class attribute says `str | None`.
    error_message = error.message or ""
    if not _is_api():
        return _page_error(error.status_code, error_message, headers)
    if error.detail:  # a validation error: name the field
        field, problem = _first_problem(error.detail)
        status = 400 if error.status_code == 422 else error.status_code
        if not field and problem == "Invalid input type.":
            problem = "the JSON body must be an object"
        message = f"{field}: {problem}" if field else problem
        return error_response(status, "bad_request", message, field or None, headers)
    code = error.extra_data.get("error") if error.extra_data else None
    return error_response(error.status_code, code, error_message, None, headers)


def werkzeug_error(exc: HTTPException) -> Response:
    """404 for unknown routes, 405, 413, malformed JSON (400) ..."""
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    if not _is_api():
        return _page_error(status, exc.name, headers)
    message = exc.description or exc.name
    data = getattr(exc, "data", None)  # webargs puts {"messages": {"json": [...]}} here
    if status == 400 and isinstance(data, dict) and "messages" in data:
        message = "the body is not valid JSON"
    elif status == 404:
        message = f"no such API route: {request.method} {request.path[:200]}"
    elif status == 413:
        message = "the request body is too large"
    return error_response(status, None, message, None, headers)


def queue_error(exc: QueueError) -> Response:
    """Refusals from the engine, auth and rate limits."""
    field = exc.details.get("field")
    headers = {}
    if "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    if not _is_api():
        return _page_error(exc.status, exc.message, headers)
    return error_response(
        exc.status, exc.code, exc.message, field if isinstance(field, str) else None, headers
    )


def too_deep(exc: RecursionError) -> Response:
    """JSON nested thousands deep blows Python's parser stack: bad input, not a crash."""
    if request.is_json and _is_api():
        return error_response(400, "bad_request", "the JSON body is nested too deeply")
    return internal_error(exc)


def _route() -> str:
    """The route template for logs: the URL may hold a citizen's ticket id."""
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def store_unavailable(exc: Exception) -> Response:
    """Redis down, SQLite locked past its timeout or its disk full: nothing was written; retry."""
    from flask import current_app

    if isinstance(exc, sqlite3.OperationalError) and not any(
        words in str(exc) for words in ("locked", "unable to open", "disk I/O", "full")
    ):
        return internal_error(exc)  # a bug in a query, not an unreachable file
    current_app.logger.error("store unavailable on %s %s: %s", request.method, _route(), exc)
    g.satupintu_store_error = True  # counted in satupintu_store_errors_total (health.py)
    message = "the queue store is not reachable right now; try again in a moment"
    if not _is_api():
        return _page_error(
            503, "Layanan antrean sedang tidak tersedia / service unavailable", {"Retry-After": "2"}
        )
    return error_response(503, "store_unavailable", message, headers={"Retry-After": "2"})


def internal_error(exc: Exception) -> Response:
    """Anything unexpected: logged with its traceback, a JSON 500 without internals."""
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, _route())
    if not _is_api():
        return _page_error(500, "Terjadi kesalahan di server / internal server error")
    return error_response(500, "internal_error", "internal server error; it has been logged")


def register_error_handlers(app: APIFlask) -> None:
    """Install the JSON error shape for /api (and plain pages elsewhere)."""
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400
    app.config["VALIDATION_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["HTTP_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.error_processor(http_error)
    # error_processor also installs APIFlask's own werkzeug handler; ours replaces it
    # because it keeps the status-specific messages (malformed JSON, 413, unknown route).
    app.register_error_handler(HTTPException, werkzeug_error)
    app.register_error_handler(QueueError, queue_error)
    app.register_error_handler(RecursionError, too_deep)
    for unreachable in STORE_UNAVAILABLE:
        app.register_error_handler(unreachable, store_unavailable)
    app.register_error_handler(Exception, internal_error)
