"""HTTP for printing: the ticket preview, a ticket's print state, reprints, printer statuses.

    GET  /api/v1/tickets/<id>/preview.png?paper=80|58   public (by the unguessable id)
    GET  /api/v1/tickets/<id>/print                     public: queued/printed/failed/none
    POST /api/v1/tickets/<id>/reprint  {kiosk?}         clerk or manager
    GET  /api/v1/printers                               clerk or manager

The issuing response (POST /api/v1/tickets) also has a `print` field: the
printing listener leaves it in `g.satupintu_print` while the engine issues, and
the API's handler returns it (schema `PrintOut` in satupintu/api/schemas.py).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request

from satupintu.access import find_ticket
from satupintu.api import SECURITY
from satupintu.auth import is_staff, require
from satupintu.errors import BadRequest, QueueError

from .config import PAPERS
from .preview import png_bytes
from .service import PrintService

bp = APIBlueprint("printer", __name__, url_prefix="/api/v1")


class NoPrinter(QueueError):
    code = "no_printer"
    status = 409


def service() -> PrintService:
    return current_app.extensions["satupintu.printing"]


@bp.get("/tickets/<ticket_id>/preview.png")
@bp.doc(summary="The printed ticket as a PNG (kiosk fallback when printing fails)",
        tags=["Printing"], responses={200: "image/png", 404: "No such ticket"})
def preview(ticket_id: str) -> Response:
    """The ticket as the kiosk's printer prints it (paper=80 or 58 overrides)."""
    svc = service()
    ticket = find_ticket(svc.engine, ticket_id, staff=is_staff())
    paper = request.args.get("paper")
    if paper is not None and paper not in PAPERS:
        raise BadRequest("paper must be 80 or 58", field="paper")
    kiosk = svc.kiosk(ticket.kiosk)
    if paper is None:
        profile = kiosk.printer.profile if kiosk else PAPERS["80"]
    else:
        same = kiosk is not None and kiosk.printer.paper == paper
        profile = kiosk.printer.profile if same and kiosk else PAPERS[paper]
    data = svc.ticket_data(ticket, svc.public_url or request.host_url)
    png = png_bytes(data, svc.engine.service(ticket.service), svc.config.office, profile)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"  # people ahead changes
    return response


@bp.get("/tickets/<ticket_id>/print")
@bp.doc(summary="Whether a ticket was printed", tags=["Printing"])
def print_state(ticket_id: str) -> dict[str, Any]:
    """queued, printed, failed (show the preview) or none (the kiosk has no printer)."""
    svc = service()
    ticket = find_ticket(svc.engine, ticket_id, staff=is_staff())
    info = svc.print_info(ticket)
    if info is None:
        return {"ticket": ticket.id, "kiosk": None, "state": "none",
                "preview": f"/api/v1/tickets/{ticket.id}/preview.png"}
    return info


@bp.post("/tickets/<ticket_id>/reprint")
@require("clerk")
@bp.doc(summary="Print a ticket again", tags=["Printing"], security=SECURITY,
        responses={202: "Queued", 400: "Bad input", 401: "Not logged in",
                   403: "Kiosks may not reprint", 404: "No such ticket",
                   409: "The kiosk has no printer"})
def reprint(ticket_id: str) -> tuple[dict[str, Any], int]:
    """Queue the ticket again on its kiosk's printer, or on `kiosk` from the body."""
    svc = service()
    ticket = svc.engine.ticket(ticket_id)
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object {kiosk?: string}")
    name = body.get("kiosk", ticket.kiosk)
    if not isinstance(name, str):
        raise BadRequest("kiosk must be a string", field="kiosk")
    kiosk = svc.kiosk(name)
    if kiosk is None:
        known = ", ".join(svc.kiosks) or "none configured"
        raise BadRequest(f"name the kiosk whose printer to use (kiosks: {known})",
                         field="kiosk")
    if kiosk.printer.type == "none":
        raise NoPrinter(f"kiosk {kiosk.id} has no printer", field="kiosk")
    return {"print": svc.submit(ticket, kiosk, request.host_url, reprint=True)}, 202


@bp.get("/printers")
@require("clerk")
@bp.doc(summary="Every kiosk printer's state", tags=["Printing"], security=SECURITY,
        responses={401: "Not logged in", 403: "Staff only"})
def printers() -> dict[str, Any]:
    """Each kiosk printer's state: ok, paper_near_end (a warning), paper_out, cover_open,
    offline or error (alerts); kiosks without a printer are left out. Network, USB and
    serial printers not heard from for 30 s are asked again in the background.
    """
    svc = service()
    svc.refresh()  # stale statuses are re-read in the background: printer_status events
    return {"printers": [svc.status_view(k.id) for k in svc.kiosks.values()
                         if k.printer.type != "none"]}

