"""/healthz, /readyz and /metrics for the service manager, the load balancer and Prometheus.

Also the per-request hook: latency per route template into the metrics and,
if `[log] access`, one access log line.
"""

from __future__ import annotations

import hmac
import logging
import time
from ipaddress import ip_address
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from . import current, logs, metrics
from .store import migrations

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering (no store access: cheap enough to poll every second)."""
    return jsonify({"status": "ok"})


def _printers() -> dict[str, Any]:
    engine = current.engine()
    statuses = engine.store.printer_statuses(engine.branch)
    not_ready = sorted(s.kiosk for s in statuses if not s.state.prints)
    return {"known": len(statuses), "ready": len(statuses) - len(not_ready), "not_ready": not_ready}


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to take traffic: the store answers and holds the current schema (503 if not)."""
    engine = current.engine()
    store = engine.store
    checks: dict[str, Any] = {}
    ready = True
    try:
        store.seq(engine.branch)
        version = store.schema_version()
        checks["store"] = {"ok": True, "backend": store.name}
        checks["schema"] = {
            "ok": version == migrations.CURRENT,
            "version": version,
            "expected": migrations.CURRENT,
        }
        ready = version == migrations.CURRENT
        problem = store.write_problem()
        if problem:  # reads work but writes fail (disk full): not ready for kiosks
            checks["store"] = {"ok": False, "backend": store.name, "error": "writes failing"}
            ready = False
        checks["printers"] = _printers()  # reported, never a reason to stop traffic
    except Exception as exc:  # noqa: BLE001 - any store failure means not ready
        current_app.logger.warning("readyz: store unreachable: %s", exc)
        checks["store"] = {"ok": False, "backend": store.name, "error": type(exc).__name__}
        ready = False
    body = jsonify({"status": "ready" if ready else "not_ready", "checks": checks})
    body.status_code = 200 if ready else 503
    return body


def _may_read_metrics() -> bool:
    cfg = current.config().metrics
    if cfg.token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {cfg.token}".encode())
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False  # came through the public proxy: whoever it is, not internal
    try:
        addr = ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(addr in net for net in cfg.networks())


@bp.get("/metrics")
def metrics_page() -> Response:
    """Prometheus text format; only for `[metrics] allow` addresses or the token holder."""
    cfg = current.config().metrics
    if not cfg.enabled:
        return _refuse(404, "not_found", "metrics are turned off ([metrics] enabled = false)")
    if not _may_read_metrics():
        return _refuse(
            403,
            "forbidden",
            "metrics are served to internal addresses "
            "([metrics] allow) or with the [metrics] token only",
        )
    socketio = current_app.extensions["socketio"]  # Flask-SocketIO's, set by its init_app
    body, content_type = metrics.exposition(current.engine(), socketio.server)
    return Response(body, content_type=content_type)


def _refuse(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def _count_sockets_forever(socketio: Any) -> None:
    while True:
        socketio.sleep(SOCKET_COUNT_EVERY_S)
        try:
            metrics.count_sockets(socketio.server)
        except Exception:  # noqa: BLE001 - a count is never worth the task
            logging.getLogger(__name__).debug("socket count failed", exc_info=True)


SOCKET_COUNT_EVERY_S = 5


def _started() -> None:
    g.satupintu_started = time.perf_counter()


def _finished(response: Response) -> Response:
    started = g.pop("satupintu_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    # The route template, never the URL: ticket ids and typed paths stay out of logs/labels.
    route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    metrics.observe_request(request.method, route, response.status_code, seconds)
    if g.pop("satupintu_store_error", False):
        metrics.STORE_ERRORS.labels(current.store().name).inc()
    if current.config().log.access:
        logs.access(request.method, route, response.status_code, seconds * 1000)
    return response


def init_health(app: Flask, engine: Any, socketio: Any) -> None:
    """Register the endpoints, the request hook and the metrics and change-log listeners."""
    app.register_blueprint(bp)
    if metrics.multiprocess_mode():  # under `satupintu serve`: keep this process's socket
        socketio.start_background_task(_count_sockets_forever, socketio)  # count fresh
    app.before_request(_started)
    app.after_request(_finished)
    engine.listeners.append(metrics.on_events)
    engine.listeners.append(logs.on_events)
