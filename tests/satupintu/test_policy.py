"""The routing policy alone: which head of which line a counter calls next."""

from __future__ import annotations

from collections import Counter as Tally

from satupintu.model import Counter, CounterState, Routing, Ticket, TicketStatus
from satupintu.policy import Heads, choose

NOW = 10_000.0
TARGETS = {"ktp": 1200.0, "kk": 1200.0, "info": 600.0}


def ticket(
    number: str, service: str, sort_key: int, priority: str = "", issued_at: float = 0.0
) -> Ticket:
    return Ticket(
        id=f"id-{number}",
        branch="main",
        day="2025-12-02",
        number=number,
        service=service,
        origin_service=service,
        priority=priority,
        status=TicketStatus.WAITING,
        sort_key=sort_key,
        issued_at=issued_at or float(sort_key),
    )


def counter(
    services=(("ktp", 1), ("kk", 1), ("info", 1)),
    streak: int = 0,
    credits: dict[str, int] | None = None,
) -> Counter:
    return Counter(
        "1",
        "main",
        "Loket 1",
        CounterState.OPEN,
        tuple(services),
        routing=Routing(streak, dict(credits or {})),
    )


def pick(policy: str, c: Counter, heads: Heads, max_streak: int = 3):
    return choose(policy, c, heads, TARGETS, NOW, max_streak)


def test_nobody_waiting() -> None:
    assert pick("fifo", counter(), {}) is None
    assert pick("fifo", counter(), {"ktp": (None, None), "kk": (None, None)}) is None


def test_only_the_counters_services_count() -> None:
    heads = {"kk": (None, ticket("B001", "kk", 1)), "ktp": (None, ticket("A001", "ktp", 5))}
    assert pick("fifo", counter([("ktp", 1)]), heads).ticket.number == "A001"
    assert pick("fifo", counter([("info", 1)]), heads) is None


def test_fifo_takes_the_longest_waiting_across_services() -> None:
    heads = {
        "ktp": (None, ticket("A001", "ktp", 7)),
        "kk": (None, ticket("B001", "kk", 3)),
        "info": (None, ticket("G001", "info", 9)),
    }
    choice = pick("fifo", counter(streak=2, credits={"ktp": 1}), heads)
    assert choice.ticket.number == "B001"
    assert choice.routing == Routing(0, {"ktp": 1})  # an ordinary call ends the streak


def test_fifo_ties_broken_by_id() -> None:
    heads = {"ktp": (None, ticket("A001", "ktp", 4)), "kk": (None, ticket("B001", "kk", 4))}
    assert pick("fifo", counter(), heads).ticket.number == "A001"  # "id-A001" < "id-B001"


def test_priority_first_oldest_priority_across_services() -> None:
    heads = {
        "ktp": (ticket("A005", "ktp", 20, "lansia"), ticket("A001", "ktp", 1)),
        "kk": (ticket("B004", "kk", 15, "anak"), None),
    }
    choice = pick("fifo", counter(streak=1), heads)
    assert choice.ticket.number == "B004"
    assert choice.routing.priority_streak == 2


def test_streak_cap_lets_an_ordinary_ticket_through() -> None:
    heads = {"ktp": (ticket("A005", "ktp", 20, "lansia"), ticket("A001", "ktp", 1))}
    assert pick("fifo", counter(streak=2), heads).ticket.number == "A005"
    capped = pick("fifo", counter(streak=3), heads)
    assert (capped.ticket.number, capped.routing.priority_streak) == ("A001", 0)
    assert pick("fifo", counter(streak=1), heads, max_streak=1).ticket.number == "A001"


def test_streak_cap_ignored_when_only_priority_waits() -> None:
    heads = {"ktp": (ticket("A005", "ktp", 20, "ibu_hamil"), None)}
    choice = pick("fifo", counter(streak=3, credits={"kk": -1}), heads)
    assert choice.ticket.number == "A005"
    assert choice.routing == Routing(4, {"kk": -1})  # credits untouched by priority calls


def test_sla_largest_wait_over_target() -> None:
    heads = {
        "ktp": (None, ticket("A001", "ktp", 1, issued_at=NOW - 1500)),  # 1500/1200 = 1.25
        "info": (None, ticket("G001", "info", 2, issued_at=NOW - 900)),  # 900/600 = 1.5
    }
    assert pick("sla", counter(), heads).ticket.number == "G001"
    assert pick("fifo", counter(), heads).ticket.number == "A001"
    heads["info"] = (None, ticket("G001", "info", 2, issued_at=NOW - 600))  # 1.0
    assert pick("sla", counter(), heads).ticket.number == "A001"


def test_sla_ties_go_to_the_older_ticket_and_unknown_targets_default() -> None:
    heads = {
        "ktp": (None, ticket("A001", "ktp", 5, issued_at=NOW - 1200)),
        "kk": (None, ticket("B001", "kk", 2, issued_at=NOW - 1200)),
    }
    assert pick("sla", counter(), heads).ticket.number == "B001"
    odd = counter([("pbg", 1), ("ktp", 1)])
    heads = {
        "pbg": (None, ticket("D001", "pbg", 1, issued_at=NOW - 1000)),  # 1000/900 default
        "ktp": (None, ticket("A001", "ktp", 2, issued_at=NOW - 1300)),  # 1300/1200
    }
    assert pick("sla", odd, heads).ticket.number == "D001"


def rotate(c: Counter, heads: Heads, calls: int) -> list[str]:
    """Services chosen by repeated weighted calls, carrying the routing memory."""
    chosen = []
    for _ in range(calls):
        choice = pick("weighted", c, heads)
        chosen.append(choice.ticket.service)
        c = c.evolve(routing=choice.routing)
    return chosen


def full_heads(*services: str) -> Heads:
    return {s: (None, ticket(f"{s}-1", s, i + 1)) for i, s in enumerate(services)}


def test_weighted_two_to_one_rotation() -> None:
    order = rotate(counter([("ktp", 2), ("kk", 1)]), full_heads("ktp", "kk"), 9)
    assert order == ["ktp", "kk", "ktp"] * 3  # smooth: never kk twice, never ktp thrice


def test_weighted_three_services() -> None:
    c = counter([("ktp", 3), ("kk", 2), ("info", 1)])
    order = rotate(c, full_heads("ktp", "kk", "info"), 12)
    assert Tally(order[:6]) == Tally(order[6:]) == {"ktp": 3, "kk": 2, "info": 1}


def test_weighted_skips_empty_lines_without_banking_credit() -> None:
    c = counter([("ktp", 1), ("kk", 1)])
    only_ktp = {"ktp": (None, ticket("A001", "ktp", 1)), "kk": (None, None)}
    for _ in range(4):
        choice = pick("weighted", c, only_ktp)
        assert choice.ticket.service == "ktp"
        c = c.evolve(routing=choice.routing)
    assert c.routing.credits == {"ktp": 0, "kk": 0}  # kk did not save up a burst
    assert rotate(c, full_heads("ktp", "kk"), 4) == ["ktp", "kk", "ktp", "kk"]


def test_weighted_still_serves_priority_first() -> None:
    heads = full_heads("ktp", "kk")
    heads["kk"] = (ticket("B009", "kk", 30, "disabilitas"), heads["kk"][1])
    choice = pick("weighted", counter([("ktp", 5), ("kk", 1)]), heads)
    assert choice.ticket.number == "B009"
