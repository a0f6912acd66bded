"""Managers edit the service catalogue live (satupintu/catalogue.py keeps the edits).

    PATCH  /api/v1/services/<id>            change some fields of a service
    POST   /api/v1/services                 add a service (201; on no counter yet)
    DELETE /api/v1/services/<id>/override   back to what config.toml says

Each answers {version, service}; a refused edit (400 naming the field, 404,
409 when `version` is stale) changes nothing. Every page reloads the
services on the `catalogue_updated` event.
"""

from __future__ import annotations

from typing import Any

from ..auth import require
from ..catalogue import Edited
from . import api_doc, bp, engine
from .schemas import ServiceEditedOut, ServiceEditIn, ServiceNewIn, VersionQuery

TAG = "Services"


def service_row(service_id: str) -> tuple[dict[str, Any], int]:
    """A service as GET /services lists it (waiting, estimate, source), and the version."""
    eng = engine()
    listing = eng.catalogue.current()
    service = eng.service(service_id)
    row = eng.services_with_waits((service,))[0]
    return {**row, "source": listing.sources.get(service_id, "config")}, listing.version


def edited(done: Edited) -> dict[str, Any]:
    row, _ = service_row(done.service.id)
    return {"version": done.version, "service": row}


@bp.patch("/services/<service_id>")
@require("manager")
@bp.input(ServiceEditIn, arg_name="body")
@bp.output(ServiceEditedOut)
@api_doc("Edit a service", (400, 404, 409), tag=TAG, auth=True)
def edit_service(service_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change a service's name, prefix, colour, times, quota, availability or standard items.

    Only the fields sent change; the next ticket uses them, on every server.
    A new prefix numbers new tickets from 001 (tickets keep their numbers).
    """
    version = body.pop("version", None)
    return edited(engine().update_service(service_id, body, version))


@bp.post("/services")
@require("manager")
@bp.input(ServiceNewIn, arg_name="body")
@bp.output(ServiceEditedOut, status_code=201)
@api_doc("Add a service", (400, 409), tag=TAG, auth=True)
def add_service(body: dict[str, Any]) -> dict[str, Any]:
    """Add a service to the catalogue; no counter takes it until a manager assigns it."""
    version = body.pop("version", None)
    return edited(engine().add_service(body, version))


@bp.delete("/services/<service_id>/override")
@require("manager")
@bp.input(VersionQuery, location="query", arg_name="query")
@bp.output(ServiceEditedOut)
@api_doc("Reset a service to config.toml", (404, 409), tag=TAG, auth=True)
def reset_service(service_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """Drop the managers' edits of a service (409 for a service added on the page)."""
    return edited(engine().reset_service(service_id, query.get("version")))
