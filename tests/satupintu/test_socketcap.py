"""The websocket cap's bookkeeping: totals, per address, release, addresses behind a proxy."""

from __future__ import annotations

from satupintu.socketcap import SocketCap, client_address


def test_caps_total_and_per_address_and_frees_on_release():
    cap = SocketCap(total=3, per_address=2)
    assert cap.admit("a1", "10.0.0.1") is None
    assert cap.admit("a2", "10.0.0.1") is None
    refusal = cap.admit("a3", "10.0.0.1")
    assert refusal == {
        "error": "too_many_sockets",
        "message": "10.0.0.1 has its maximum of 2 live connections; try again later",
    }
    assert cap.admit("b1", "10.0.0.2") is None  # another address still gets in
    assert cap.admit("c1", "10.0.0.3")["message"].startswith("the server has its maximum of 3")
    cap.release("a1")
    cap.release("a1")  # twice, or an unknown sid: no harm
    cap.release("zz")
    assert cap.open == 2 and cap.refused == 2
    assert cap.admit("a3", "10.0.0.1") is None


def test_the_cap_counts_the_address_the_proxy_layer_resolved():
    assert (
        client_address({"REMOTE_ADDR": "10.1.1.7", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}) == "10.1.1.7"
    )  # a header alone never picks the address (proxy.py decides trust)
    assert client_address({}) == "?"
