"""Counters: the public board, the clerk's actions and the manager's assignments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response

from ..auth import current_principal, is_staff, require
from ..engine import Engine
from ..model import Counter
from ..operation import Outcome
from ..shapes import counter_json, ticket_json
from . import api_doc, bp, config, engine
from .schemas import (
    ActionOut,
    CallIn,
    CounterDetailOut,
    CountersOut,
    ServicesIn,
    TransferIn,
    WaitingOut,
)

TAG = "Counters"


def _counter_json(c: Counter, staff: bool) -> dict[str, Any]:
    eng = engine()
    current = eng.store.ticket(eng.branch, c.current) if c.current else None
    return counter_json(c, current, eng.tz, staff)


def action_result(outcome: Outcome) -> dict[str, Any]:
    """What a clerk action returns: the ticket it touched and the counter after it.

    Built from the outcome alone: the operation knows the counter's current
    ticket, so nothing is read back.
    """
    tz = engine().tz
    t, c = outcome.ticket, outcome.counter
    return {
        "ticket": ticket_json(t, tz, config().counter_name(t.counter)) if t else None,
        "counter": counter_json(c, outcome.current, tz, staff=True) if c else None,
    }


@bp.get("/counters")
@bp.output(CountersOut)
@api_doc("List counters", tag=TAG)
def list_counters() -> dict[str, Any]:
    """Every counter with its state, services and current ticket (staff also see the clerk)."""
    staff = is_staff()
    return {"counters": [_counter_json(c, staff) for c in engine().counters()]}


@bp.get("/counters/<counter_id>")
@bp.output(CounterDetailOut)
@api_doc("Get a counter", (404,), tag=TAG)
def get_counter(counter_id: str) -> dict[str, Any]:
    """One counter (staff also see the clerk)."""
    return _counter_json(engine().counter(counter_id), is_staff())


@bp.get("/counters/<counter_id>/waiting")
@require("clerk")
@bp.output(WaitingOut)
@api_doc("Waiting tickets a counter may call", (404,), tag=TAG, auth=True)
def waiting(counter_id: str) -> dict[str, Any]:
    """Waiting tickets of the counter's services: priority first, then place in line."""
    eng = engine()
    return {"tickets": [ticket_json(t, eng.tz) for t in eng.waiting_for(counter_id)]}


@bp.post("/counters/<counter_id>/open")
@require("clerk")
@bp.output(ActionOut)
@api_doc("Open a counter", (404,), tag=TAG, auth=True)
def open_counter(counter_id: str) -> dict[str, Any]:
    """Open the counter under the calling user's name."""
    principal = current_principal()
    assert principal is not None
    return action_result(engine().open_counter(counter_id, clerk=principal.username))


@bp.post("/counters/<counter_id>/call-next")
@require("clerk")
@bp.output(ActionOut)
@api_doc(
    "Call the next ticket",
    (404, 409),
    tag=TAG,
    auth=True,
    extra={204: "Nobody waits for this counter's services"},
)
def call_next(counter_id: str) -> dict[str, Any] | Response:
    """Call the next ticket by the branch policy; 204 when nobody waits."""
    outcome = engine().call_next(counter_id)
    if outcome.ticket is None:
        return Response(status=204)
    return action_result(outcome)


@bp.post("/counters/<counter_id>/call")
@require("clerk")
@bp.input(CallIn, arg_name="body")
@bp.output(ActionOut)
@api_doc("Call a specific ticket", (400, 404, 409), tag=TAG, auth=True)
def call_ticket(counter_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call one ticket (by id or today's number): waiting, parked, or a late no-show."""
    return action_result(engine().call(counter_id, body["ticket"]))


@bp.post("/counters/<counter_id>/transfer")
@require("clerk")
@bp.input(TransferIn, arg_name="body")
@bp.output(ActionOut)
@api_doc("Transfer the current ticket to another service", (400, 404, 409), tag=TAG, auth=True)
def transfer(counter_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send the counter's ticket to wait for another service, keeping its number."""
    return action_result(engine().transfer(counter_id, body["service"], body["keep_place"]))


@bp.put("/counters/<counter_id>/services")
@require("manager")
@bp.input(ServicesIn, arg_name="body")
@bp.output(ActionOut)
@api_doc("Set the services a counter takes", (400, 404), tag=TAG, auth=True)
def set_services(counter_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the counter's assignment (service ids with weights); the next call obeys it."""
    services = [(s["id"], s["weight"]) for s in body["services"]]
    return action_result(engine().set_services(counter_id, services))


# Actions that take nothing but the counter: (path, summary, description, engine method).
SIMPLE_ACTIONS: list[tuple[str, str, str, Callable[[Engine, str], Outcome]]] = [
    ("pause", "Pause a counter", "Stop calling for a while (a break).", Engine.pause_counter),
    (
        "close",
        "Close a counter",
        "Close it; refused while a ticket is at the counter.",
        Engine.close_counter,
    ),
    ("recall", "Recall the current ticket", "Announce the called number again.", Engine.recall),
    ("start", "Start serving", "The citizen arrived at the counter.", Engine.start),
    (
        "complete",
        "Complete the current ticket",
        "Service done; frees the counter.",
        Engine.complete,
    ),
    (
        "no-show",
        "Mark a no-show",
        "The called citizen did not come; frees the counter.",
        Engine.no_show,
    ),
    (
        "park",
        "Park the current ticket",
        "Set aside (e.g. fetching a document); frees the counter; unpark puts it back in line.",
        Engine.park,
    ),
]


def _simple_action(
    path: str, summary: str, description: str, operation: Callable[[Engine, str], Outcome]
) -> None:
    def view(counter_id: str) -> dict[str, Any]:
        return action_result(operation(engine(), counter_id))

    view.__name__ = f"counter_{path.replace('-', '_')}"
    view.__doc__ = f"{summary}.\n\n{description}"
    documented = api_doc(summary, (404, 409), tag=TAG, auth=True)(view)
    bp.post(f"/counters/<counter_id>/{path}")(require("clerk")(bp.output(ActionOut)(documented)))


for _action in SIMPLE_ACTIONS:
    _simple_action(*_action)
