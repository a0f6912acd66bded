"""Managing accounts from the manager's page: /api/v1/users (rules in satupintu/users.py)."""

from __future__ import annotations

import pytest

from satupintu import current
from satupintu.errors import NoSuchUser, SelfLockout
from satupintu.users import add_user, remove_user, reset_user
from tests.apihelpers import Actor

NEW = {"username": "loket7", "role": "clerk", "password": "kata-sandi-panjang-7"}


def login(app, username: str, password: str) -> int:
    return (
        app.test_client()
        .post("/api/v1/auth/session", json={"username": username, "password": password})
        .status_code
    )


def test_only_managers_manage_users(anon, clerk, kiosk, manager):
    assert anon.get("/users", expect=401)
    assert clerk.get("/users", expect=403).get_json()["error"] == "forbidden"
    assert kiosk.post("/users", expect=403, json=NEW)
    names = [u["username"] for u in manager.get("/users").get_json()["users"]]
    assert names == ["clerk1", "kiosk1", "manager1"]
    assert "password_hash" not in manager.get("/users").get_data(as_text=True)


def test_add_reset_and_remove_a_clerk(app, manager: Actor):
    created = manager.post("/users", expect=201, json=NEW).get_json()
    assert created["username"] == "loket7" and created["role"] == "clerk"
    assert login(app, "loket7", NEW["password"]) == 200
    assert manager.post("/users", expect=409, json=NEW).get_json()["error"] == "user_exists"

    manager.put("/users/loket7", json={"role": "kiosk", "password": "sandi-baru-yang-panjang"})
    assert login(app, "loket7", NEW["password"]) == 401
    assert login(app, "loket7", "sandi-baru-yang-panjang") == 200

    manager.request("DELETE", "/users/loket7", expect=204)
    assert login(app, "loket7", "sandi-baru-yang-panjang") == 401
    assert manager.request("DELETE", "/users/loket7", expect=404).get_json()["field"] == "username"


def test_bad_input_names_the_field(manager):
    assert manager.post("/users", expect=400, json=["x"]).get_json()["error"] == "bad_request"
    assert (
        manager.post("/users", expect=415, data="x").get_json()["error"] == "unsupported_media_type"
    )
    body = manager.post(
        "/users", expect=400, json={"role": "clerk", "password": NEW["password"]}
    ).get_json()
    assert body["field"] == "username"
    body = manager.post(
        "/users", expect=400, json={"username": "a b", "role": "clerk", "password": NEW["password"]}
    ).get_json()
    assert body["field"] == "username"
    for hidden in ("loket7\n", "lok\u202eet7", "loket7\x00"):  # hiding or reordering
        body = manager.post("/users", expect=400, json={**NEW, "username": hidden}).get_json()
        assert body["field"] == "username"
    body = manager.post("/users", expect=400, json={**NEW, "role": "boss"}).get_json()
    assert body["field"] == "role"
    body = manager.post("/users", expect=400, json={**NEW, "password": 7}).get_json()
    assert body["field"] == "password"
    body = manager.post("/users", expect=400, json={**NEW, "password": "short"}).get_json()
    assert body["field"] == "password" and "8-128" in body["message"]
    body = manager.put("/users/clerk1", expect=400, json={"role": "clerk"}).get_json()
    assert body["field"] == "password"
    assert [u["username"] for u in manager.get("/users").get_json()["users"]] == ["manager1"]


@pytest.mark.parametrize("password", [" " * 8, " " * 20, "12345678", "password1", "aaaaaaaaaa"])
def test_blank_or_trivial_passwords_are_refused(manager, password):
    body = manager.post("/users", expect=400, json={**NEW, "password": password}).get_json()
    assert body["field"] == "password"
    manager.put("/users/manager1", expect=400, json={"role": "manager", "password": password})
    named = manager.post("/users", expect=400, json={**NEW, "password": "loket7-loket7"})
    assert named.get_json()["field"] == "password"  # the user's own name
    assert "loket7" not in [u["username"] for u in manager.get("/users").get_json()["users"]]


def test_a_manager_cannot_lock_themself_out(manager):
    refused = manager.request("DELETE", "/users/manager1", expect=409).get_json()
    assert refused["field"] == "username"
    manager.put(
        "/users/manager1", expect=409, json={"role": "clerk", "password": "sandi-baru-yang-panjang"}
    )
    assert [
        u["role"] for u in manager.get("/users").get_json()["users"] if u["username"] == "manager1"
    ] == ["manager"]


def test_the_not_yourself_rule_lives_in_the_core(app):
    store = current.store.get(app)
    add_user(store, "boss", "manager", NEW["password"])
    with pytest.raises(SelfLockout):
        reset_user(store, "boss", "clerk", NEW["password"], by="boss")
    with pytest.raises(SelfLockout):
        remove_user(store, "boss", by="boss")
    assert store.user("boss").role == "manager"
    # Keeping one's own manager role is fine; the CLI (by=None) may do anything.
    assert (
        reset_user(store, "boss", "manager", "sandi-baru-yang-panjang", by="boss").role == "manager"
    )
    with pytest.raises(NoSuchUser):
        reset_user(store, "nobody", "clerk", NEW["password"], by="boss")
    remove_user(store, "boss")
    assert store.user("boss") is None
