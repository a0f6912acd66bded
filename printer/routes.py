"""HTTP for printing: the ticket preview, a ticket's print state, reprints, printer statuses.

    GET  /api/v1/tickets/<id>/preview.png?paper=80|58   public by id (staff also by number)
    GET  /api/v1/tickets/<id>/print                     public: queued/printed/failed/none
    POST /api/v1/tickets/<id>/reprint  {kiosk?}         clerk or manager
    GET  /api/v1/printers                               clerk or manager

Their schemas are in satupintu/api/schemas.py with the rest of the API's.

The issuing response (POST /api/v1/tickets) also has a `print` field: the
issuing route hands the ticket to PrintService.print_issued and returns what it
answers (schema `PrintOut` in satupintu/api/schemas.py).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, FileSchema
from flask import Response, request

from satupintu.access import find_ticket
from satupintu.api import ERRORS, SECURITY
from satupintu.api.schemas import PreviewQuery, PrintersOut, PrintStateOut, ReprintIn, ReprintOut
from satupintu.auth import is_staff, require
from satupintu.errors import KioskRequired, NoSuchKiosk, QueueError
from satupintu.printer_settings import PAPERS

from .preview import png_bytes
from .service import PrintService, printing

bp = APIBlueprint("printer", __name__, url_prefix="/api/v1")


class NoPrinter(QueueError):
    code = "no_printer"
    status = 409


def service() -> PrintService:
    return printing()


TAG = "Printing"


def doc(
    summary: str, errors: tuple[int, ...], auth: bool = False, extra: dict[int, Any] | None = None
) -> Any:
    """The OpenAPI summary, errors and security of a printing route (like satupintu.api's)."""
    codes = sorted(set(errors) | {401} | ({403} if auth else set()))
    return bp.doc(
        summary=summary,
        tags=[TAG],
        security=SECURITY if auth else None,
        responses={**(extra or {}), **{code: ERRORS[code] for code in codes}},
    )


@bp.get("/tickets/<ticket_id>/preview.png")
@bp.input(PreviewQuery, location="query", arg_name="query")
@bp.output(
    FileSchema(type="string", format="binary"),
    content_type="image/png",
    description="The ticket as a PNG",
)
@doc("The printed ticket as a PNG (kiosk fallback when printing fails)", (400, 404))
def preview(ticket_id: str, query: dict[str, Any]) -> Response:
    """The ticket as the kiosk's printer prints it (paper=80 or 58 overrides)."""
    svc = service()
    ticket = find_ticket(svc.engine, ticket_id, staff=is_staff())
    paper = query.get("paper")
    kiosk = svc.kiosk(ticket.kiosk)
    if paper is None:
        profile = kiosk.printer.profile if kiosk else PAPERS["80"]
    else:
        same = kiosk is not None and kiosk.printer.paper == paper
        profile = kiosk.printer.profile if same and kiosk else PAPERS[paper]
    ahead, wait = svc.engine.position(ticket)
    face = svc.printed_ticket(ticket, ahead, wait, request.host_url)
    png = png_bytes(face, svc.engine.service(ticket.service), svc.config.office, profile)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"  # people ahead changes
    return response


@bp.get("/tickets/<ticket_id>/print")
@bp.output(PrintStateOut)
@doc("Whether a ticket was printed", (404,))
def print_state(ticket_id: str) -> dict[str, Any]:
    """queued, printed, failed (show the preview) or none (the kiosk has no printer)."""
    svc = service()
    ticket = find_ticket(svc.engine, ticket_id, staff=is_staff())
    info = svc.print_info(ticket)
    if info is None:
        return {
            "ticket": ticket.id,
            "kiosk": None,
            "state": "none",
            "preview": f"/api/v1/tickets/{ticket.id}/preview.png",
        }
    return info


@bp.post("/tickets/<ticket_id>/reprint")
@require("clerk")
@bp.input(ReprintIn, arg_name="body")
@bp.output(ReprintOut, status_code=202, description="Queued on the kiosk's printer")
@doc("Print a ticket again", (400, 404, 409), auth=True)
def reprint(ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Queue the ticket again on its kiosk's printer, or on `kiosk` from the body.

    404 `no_such_kiosk` for an unknown kiosk; 409 `kiosk_required` when the ticket was
    not issued at a kiosk and none is named, `no_printer` when the kiosk has no printer.
    """
    svc = service()
    ticket = svc.engine.ticket(ticket_id)
    name = body.get("kiosk", ticket.kiosk)
    kiosk = svc.kiosk(name)
    if kiosk is None:
        known = ", ".join(svc.kiosks) or "none configured"
        if "kiosk" in body:
            raise NoSuchKiosk(f"no kiosk {name!r} (kiosks: {known})", field="kiosk")
        raise KioskRequired(
            f"ticket {ticket.number} was not issued at a kiosk; name the "
            f"kiosk whose printer to use (kiosks: {known})",
            field="kiosk",
        )
    if kiosk.printer.type == "none":
        raise NoPrinter(f"kiosk {kiosk.id} has no printer", field="kiosk")
    return {"print": svc.reprint(ticket, kiosk, request.host_url)}


@bp.get("/printers")
@require("clerk")
@bp.output(PrintersOut)
@doc("Every kiosk printer's state", (), auth=True)
def printers() -> dict[str, Any]:
    """Each kiosk printer's state: ok, paper_near_end (a warning), paper_out, cover_open,
    offline or error (alerts); kiosks without a printer are left out. Network, USB and
    serial printers not heard from for 30 s are asked again in the background.
    """
    svc = service()
    svc.refresh()  # stale statuses are re-read in the background: printer_status events
    return {
        "printers": [svc.status_view(k.id) for k in svc.kiosks.values() if k.printer.type != "none"]
    }
