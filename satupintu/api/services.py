"""The public catalogue and the live snapshot displays start (and resync) from."""

from __future__ import annotations

from typing import Any

from ..auth import current_principal
from . import api_doc, bp, engine
from .schemas import ServicesOut, SnapshotOut


@bp.get("/services")
@bp.output(ServicesOut)
@api_doc("List services", tag="Services")
def list_services() -> dict[str, Any]:
    """Every service with its published standard, people waiting and estimated wait.

    `version` is the catalogue's (managers' edits); it changes with every
    `catalogue_updated` event.
    """
    eng = engine()
    listing = eng.catalogue.current()
    rows = eng.services_with_waits(listing.services)
    return {
        "version": listing.version,
        "services": [{**row, "source": listing.sources[row["id"]]} for row in rows],
    }


@bp.get("/snapshot")
@bp.output(SnapshotOut)
@api_doc("Snapshot of the whole hall", tag="Services")
def snapshot() -> dict[str, Any]:
    """Services, counters and recent calls at branch sequence `seq`.

    Socket.IO clients fetch this when they connect, reconnect, or see a gap
    in event `seq`s, then apply only events with a larger seq. Staff (token
    or session) also see clerk names.
    """
    principal = current_principal()
    return engine().snapshot(staff=principal is not None and principal.is_staff)
