"""The public finds a ticket only by its id, staff also by today's number: one rule
(satupintu/access.py) behind the API, the printing routes, the ticket page and the rooms."""

from __future__ import annotations

import pytest

from satupintu.access import find_ticket
from satupintu.errors import NoSuchTicket
from tests.apihelpers import join


@pytest.fixture
def app(socket_app):
    return socket_app  # Flask-SocketIO's test client refuses the Redis message queue


def test_find_ticket_by_id_for_everyone_by_number_for_staff(engine):
    ticket = engine.issue("ktp").ticket
    assert find_ticket(engine, ticket.id, staff=False) == ticket
    assert find_ticket(engine, ticket.id, staff=True) == ticket
    assert find_ticket(engine, "a1", staff=True) == ticket  # the clerk's shorthand
    for ref in ("A001", "a1", ticket.id.lower() + "x", "x" * 65, ""):
        with pytest.raises(NoSuchTicket):
            find_ticket(engine, ref, staff=False)


def test_every_public_door_takes_the_id_and_refuses_the_number(
    app, kiosk, clerk, anon, socket_client
):
    ticket = kiosk.take_ticket("ktp")
    by_id, by_number = ticket["id"], ticket["number"]
    pages = app.test_client()
    # the API
    assert anon.get(f"/tickets/{by_id}").get_json()["number"] == by_number
    assert anon.get(f"/tickets/{by_number}", 404).get_json()["error"] == "no_such_ticket"
    assert clerk.get(f"/tickets/{by_number}").get_json()["id"] == by_id
    # the printing routes
    assert anon.get(f"/tickets/{by_id}/print").get_json()["ticket"] == by_id
    assert anon.get(f"/tickets/{by_number}/print", 404).get_json()["error"] == "no_such_ticket"
    assert anon.get(f"/tickets/{by_number}/preview.png", 404)
    assert clerk.get(f"/tickets/{by_number}/print").get_json()["ticket"] == by_id
    assert clerk.get(f"/tickets/{by_number}/preview.png").mimetype == "image/png"
    # the citizen's page (even a clerk opens it only by id: it is the QR code's page)
    assert pages.get(f"/t/{by_id}").status_code == 200
    assert pages.get(f"/t/{by_number}").status_code == 404
    assert clerk.client.get(f"/t/{by_number}", headers=clerk.headers()).status_code == 404
    # the ticket's room
    sc = socket_client()
    assert join(sc, f"ticket:{by_id}")["ok"]
    refused = join(sc, f"ticket:{by_number}", clerk.token)
    assert refused == {"ok": False, "error": "no_such_ticket", "message": refused["message"]}
