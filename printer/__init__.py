"""Ticket printing: layout (ESC/POS and PNG preview), transports, jobs, the print agent.

`init_printing(app, socketio, engine)` wires it into an app (called by create_app).
"""

from __future__ import annotations

from typing import Any


def init_printing(app: Any, socketio: Any, engine: Any) -> Any:
    """Register the printing routes and agent events; the issuing route prints through the
    service this sets as the app's `printing` part (satupintu/current.py).
    """
    import os

    from satupintu import current
    from satupintu.sockets import make_notifier

    from .config import check_kiosk_printers
    from .routes import bp
    from .service import PrintService, printing
    from .sockets import init_agent_sockets

    config = current.config.get(app)
    check_kiosk_printers(config)  # ConfigError naming file and key, before anything starts
    public_url = app.config.get("SATUPINTU_PUBLIC_URL") or os.environ.get(
        "SATUPINTU_PUBLIC_URL", ""
    )
    service = PrintService(config, engine, make_notifier(socketio.server), public_url=public_url)
    printing.set(app, service)
    if "printer" not in app.blueprints:
        app.register_blueprint(bp)
    app.config["TAGS"] = [
        *app.config.get("TAGS", []),
        {"name": "Printing", "description": "ticket preview, print state, reprint, printers"},
    ]
    init_agent_sockets(socketio)
    return service
