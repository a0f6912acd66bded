"""Tickets: issue (kiosk), follow (public), cancel and unpark (clerk)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import request

from .. import current
from ..access import find_ticket
from ..auth import current_principal, is_staff, require
from ..errors import QuotaFull, RateLimited
from ..model import Ticket
from ..shapes import ticket_json
from . import api_doc, bp, config, engine
from .counters import action_result
from .login_guard import issue_limiter
from .schemas import ActionOut, IdempotencyIn, IssuedOut, IssueIn, ReplayedOut, TicketStatusOut


def seconds_to_midnight() -> int:
    """Seconds until the office's next local midnight, when the day's numbers reset."""
    tz = config().office.tz
    now = datetime.now(tz)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tz)
    return max(1, int((midnight - now).total_seconds()))


def ticket_url(ticket_id: str) -> str:
    """The citizen's tracking page, absolute from the request host (for the QR code)."""
    return f"{request.host_url.rstrip('/')}/t/{ticket_id}"


def status_view(t: Ticket) -> dict[str, Any]:
    """A ticket's public view with its place in line and estimated wait."""
    eng = engine()
    ahead, wait = eng.position(t)
    # Read after the count: a change landing between the two reads (one store round trip)
    # is then missed rather than counted twice, so a phone shows one more ahead, never fewer.
    seq = eng.store.seq(eng.branch)
    return {
        **ticket_json(t, eng.tz, eng.config.counter_name(t.counter)),
        "people_ahead": ahead,
        "estimated_wait_s": wait,
        "seq": seq,
    }


@bp.post("/tickets")
@require("kiosk")
@bp.input(IdempotencyIn, location="headers", arg_name="headers")
@bp.input(IssueIn, arg_name="body")
@bp.output(IssuedOut, status_code=201, headers=ReplayedOut)
@api_doc(
    "Issue a ticket",
    (400, 404, 409, 429),
    tag="Tickets",
    auth=True,
    extra={422: "The Idempotency-Key was used today for a different request"},
)
def issue_ticket(headers: dict[str, Any], body: dict[str, Any]) -> Any:
    """Take a number for a service (kiosk or manager); 429 if rate-limited or the quota is full.

    Send an `Idempotency-Key` header and retry with the same one after a network
    error or a 503: the answer is the ticket the first request made, never a second one.
    """
    principal = current_principal()
    assert principal is not None
    wait = issue_limiter().hit(principal.username)
    if wait:
        raise RateLimited(
            f"at most {config().auth.issue_per_minute} tickets a minute from one kiosk; "
            "try again shortly",
            retry_after=int(wait) + 1,
        )
    try:
        outcome = engine().issue(
            body["service"], body["priority"], kiosk=principal.kiosk_id, key=headers["key"]
        )
    except QuotaFull as exc:
        exc.details.setdefault("retry_after", seconds_to_midnight())  # numbers reset then
        raise
    t = outcome.ticket
    assert t is not None
    printer = current.printing.find()
    printing = None
    if printer is not None:  # a replay answers for the first request's print (or prints now)
        how = printer.print_replayed if outcome.replayed else printer.print_issued
        printing = how(t, outcome.people_ahead, outcome.estimated_wait_s, request.host_url)
    answer = {
        **ticket_json(t, engine().tz),
        "people_ahead": outcome.people_ahead,
        "estimated_wait_s": outcome.estimated_wait_s,
        "url": ticket_url(t.id),
        "print": printing,
    }
    if outcome.replayed:
        return answer, 201, {"Idempotent-Replayed": "true"}
    return answer


@bp.get("/tickets/<ticket_id>")
@bp.output(TicketStatusOut)
@api_doc("Follow a ticket", (404,), tag="Tickets")
def get_ticket(ticket_id: str) -> dict[str, Any]:
    """A ticket's status, place in line and estimated wait (public, by id; staff also by number)."""
    return status_view(find_ticket(engine(), ticket_id, staff=is_staff()))


@bp.post("/tickets/<ticket_id>/cancel")
@require("clerk")
@bp.output(ActionOut)
@api_doc("Cancel a ticket", (404, 409), tag="Tickets", auth=True)
def cancel_ticket(ticket_id: str) -> dict[str, Any]:
    """Cancel a waiting, called or parked ticket (by id or today's number)."""
    return action_result(engine().cancel(ticket_id))


@bp.post("/tickets/<ticket_id>/unpark")
@require("clerk")
@bp.output(ActionOut)
@api_doc("Put a parked ticket back in line", (404, 409), tag="Tickets", auth=True)
def unpark_ticket(ticket_id: str) -> dict[str, Any]:
    """Return a parked ticket to its line at its original place."""
    return action_result(engine().unpark(ticket_id))
