"""The store contract: every test runs on SQLite and on Redis (the `store` fixture)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from satupintu import engine as engine_module
from satupintu.engine import Engine
from satupintu.errors import QuotaFull
from satupintu.model import Call, Counter, CounterState, Ticket, TicketStatus
from satupintu.operation import Outcome
from satupintu.printjobs import JobState, PrinterState, PrinterStatus, PrintJob
from satupintu.store.base import Change, ChangedMeanwhile, Issued, Store, User
from tests.conftest import Clock, make_backend

B = "main"
DAY = "2025-12-02"
NEXT_DAY = "2025-12-03"
W, C, S, D, P = (
    TicketStatus.WAITING,
    TicketStatus.CALLED,
    TicketStatus.SERVING,
    TicketStatus.DONE,
    TicketStatus.PARKED,
)
_ids = itertools.count(1)


# -- helpers ------------------------------------------------------------------


def draft(
    service: str = "ktp",
    priority: str = "",
    day: str = DAY,
    branch: str = B,
    ticket_id: str | None = None,
    at: float = 1_000.0,
) -> Ticket:
    return Ticket(
        id=ticket_id or f"t{next(_ids):05d}",
        branch=branch,
        day=day,
        number="",
        service=service,
        origin_service=service,
        priority=priority,
        status=W,
        sort_key=0,
        issued_at=at,
        kiosk="k1",
    )


def issue(
    store: Store,
    service: str = "ktp",
    prefix: str = "A",
    priority: str = "",
    day: str = DAY,
    quota: int = 0,
    seq_count: int = 0,
    **kw,
) -> Issued:
    return store.issue(draft(service, priority, day, **kw), prefix, quota, seq_count)


def take(store: Store, **kw) -> Ticket:
    return issue(store, **kw).ticket


def move(store: Store, t: Ticket, seq_count: int = 0, **changes) -> Ticket:
    """Commit one ticket change and return the new ticket."""
    new = t.evolve(**changes)
    store.commit(B, Change(tickets=[(t, new)], seq_count=seq_count))
    return new


def counter(
    counter_id: str = "1", branch: str = B, state: CounterState = CounterState.CLOSED
) -> Counter:
    return Counter(counter_id, branch, f"Loket {counter_id}", state, (("ktp", 1), ("kk", 2)))


def call_of(t: Ticket, at: float, recall: bool = False) -> Call:
    return Call(t.id, t.number, t.service, "1", "Loket 1", at, recall)


def numbers(tickets: list[Ticket]) -> list[str]:
    return [t.number for t in tickets]


def snapshot(store: Store) -> dict:
    """Everything observable about branch B on DAY, to prove a refused write changed nothing."""
    return {
        "seq": store.seq(B),
        "tickets": store.day_tickets(B, DAY),
        "counters": store.counters(B),
        "calls": store.recent_calls(B, 50),
        "counts": store.waiting_counts(B, DAY),
        "ktp": store.waiting(B, DAY, "ktp"),
        "kk": store.waiting(B, DAY, "kk"),
        "times": store.service_times(B, DAY, "ktp"),
    }


# -- numbering and quota ------------------------------------------------------


def test_numbers_count_per_day_and_prefix(store: Store):
    assert [take(store).number for _ in range(3)] == ["A001", "A002", "A003"]
    assert take(store, service="kk", prefix="B").number == "B001"
    assert take(store, day=NEXT_DAY).number == "A001"
    assert take(store).number == "A004"
    assert take(store, branch="other").number == "A001"  # branches count apart


def test_numbers_are_never_reused(store: Store):
    first = take(store)
    move(store, first, status=TicketStatus.CANCELLED, finished_at=2_000.0)
    assert take(store).number == "A002"
    assert store.ticket_by_number(B, DAY, "A001").status is TicketStatus.CANCELLED


def test_quota_refuses_and_writes_nothing(store: Store):
    issue(store, quota=2)
    issue(store, quota=2, seq_count=1)
    before = snapshot(store)
    with pytest.raises(QuotaFull) as refused:
        issue(store, quota=2, seq_count=2)
    assert str(refused.value) == "daily quota of 2 tickets reached"
    assert refused.value.details == {"service": "ktp"}
    assert snapshot(store) == before
    # No number was burnt by the refusal; other services and days are not limited.
    assert take(store, quota=3).number == "A003"
    assert take(store, service="kk", prefix="B", quota=2).number == "B001"
    assert take(store, day=NEXT_DAY, quota=2).number == "A001"


def test_quota_counts_tickets_issued_not_waiting(store: Store):
    t = take(store, quota=1)
    move(store, t, status=C, counter="1", called_at=1_100.0)
    with pytest.raises(QuotaFull):
        issue(store, quota=1)
    assert take(store, quota=0).number == "A002"  # quota 0: no limit


def test_issue_returns_the_stored_ticket(store: Store):
    issued = issue(store, priority="lansia", seq_count=2)
    t = issued.ticket
    assert (t.number, t.status, t.version, t.priority) == ("A001", W, 1, "lansia")
    assert t.sort_key == issued.seqs[0] - 1
    assert store.ticket(B, t.id) == t
    assert store.ticket(B, "nope") is None
    assert store.ticket("other", t.id) is None


# -- sequence numbers ---------------------------------------------------------


def test_seqs_are_contiguous_across_issue_and_commit(store: Store):
    assert store.seq(B) == 0
    a = issue(store, seq_count=2)
    assert a.ticket.sort_key == 1 and a.seqs == [2, 3]
    b = issue(store, seq_count=0)
    assert b.ticket.sort_key == 4 and b.seqs == []
    assert store.seq(B) == 4
    assert store.commit(B, Change(seq_count=3)) == [5, 6, 7]
    assert store.commit(B, Change(seq_count=0)) == []
    assert store.seq(B) == 7
    moved = b.ticket.evolve(status=C)
    assert store.commit(B, Change(tickets=[(b.ticket, moved)], seq_count=1)) == [8]
    assert take(store).sort_key == 9
    assert store.seq("other") == 0


# -- commit guards ------------------------------------------------------------


def test_stale_ticket_conflicts_and_nothing_of_the_change_is_written(store: Store):
    store.seed_counters([counter(state=CounterState.OPEN)])
    a, b = take(store), take(store)
    stale_b = b
    b = move(store, b, status=C, counter="2", called_at=1_050.0)
    before = snapshot(store)
    c = store.counter(B, "1")
    change = Change(
        tickets=[
            (a, a.evolve(status=C, counter="1", called_at=1_100.0)),
            (stale_b, stale_b.evolve(status=C, counter="1", called_at=1_100.0)),
        ],
        counters=[(c, c.evolve(current=a.id))],
        calls=[call_of(a, 1_100.0)],
        seq_count=3,
    )
    with pytest.raises(ChangedMeanwhile, match="ticket A002 changed meanwhile"):
        store.commit(B, change)
    assert snapshot(store) == before  # a's write and the counter's, whose guards passed, too
    assert store.ticket(B, a.id) == a


def test_stale_counter_conflicts_and_nothing_is_written(store: Store):
    store.seed_counters([counter()])
    c = store.counter(B, "1")
    opened = c.evolve(state=CounterState.OPEN)
    store.commit(B, Change(counters=[(c, opened)], seq_count=1))
    a = take(store)
    before = snapshot(store)
    with pytest.raises(ChangedMeanwhile, match="counter 1 changed meanwhile"):
        store.commit(
            B,
            Change(
                tickets=[(a, a.evolve(status=C))],
                counters=[(c, c.evolve(current=a.id))],
                seq_count=2,
            ),
        )
    assert snapshot(store) == before
    assert store.counter(B, "1") == opened


def test_commit_of_a_missing_ticket_conflicts(store: Store):
    ghost = draft()
    with pytest.raises(ChangedMeanwhile):
        store.commit(B, Change(tickets=[(ghost, ghost.evolve(status=C))], seq_count=1))
    assert store.ticket(B, ghost.id) is None
    assert store.seq(B) == 0


def test_counter_paired_with_none_is_created_only_if_absent(store: Store):
    new = counter("9")
    assert store.commit(B, Change(counters=[(None, new)], seq_count=1)) == [1]
    assert store.counter(B, "9") == new
    with pytest.raises(ChangedMeanwhile):
        store.commit(B, Change(counters=[(None, new.evolve(name="again"))], seq_count=1))
    assert store.counter(B, "9") == new
    assert store.seq(B) == 1


def test_commit_writes_records_and_calls(store: Store):
    store.seed_counters([counter(state=CounterState.OPEN)])
    a = take(store)
    c = store.counter(B, "1")
    called = a.evolve(status=C, counter="1", called_at=1_100.0)
    busy = c.evolve(current=a.id)
    assert store.commit(
        B,
        Change(
            tickets=[(a, called)], counters=[(c, busy)], calls=[call_of(a, 1_100.0)], seq_count=3
        ),
    ) == [2, 3, 4]
    assert store.ticket(B, a.id) == called
    assert store.counter(B, "1") == busy
    assert store.recent_calls(B) == [call_of(a, 1_100.0)]


# -- lines follow statuses ----------------------------------------------------


def test_a_ticket_is_in_its_line_exactly_while_waiting(store: Store):
    a, b = take(store), take(store)
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A001", "A002"]
    a = move(store, a, status=C, counter="1", called_at=1_100.0)
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A002"]
    assert store.heads(B, DAY, ("ktp",))["ktp"] == (None, b)
    a = move(store, a, status=P, counter="")
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A002"]
    a = move(store, a, status=W)  # unpark: back at its original place
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A001", "A002"]
    assert store.waiting_counts(B, DAY) == {"ktp": 2}
    for t in (a, b):
        move(store, t, status=TicketStatus.CANCELLED, finished_at=1_200.0)
    assert store.waiting(B, DAY, "ktp") == []
    assert store.waiting_counts(B, DAY) == {}
    assert store.heads(B, DAY, ("ktp",)) == {"ktp": (None, None)}


def test_transfer_moves_the_ticket_to_the_other_line_keeping_its_place(store: Store):
    a = take(store)  # ktp, sort_key 1
    k1 = take(store, service="kk", prefix="B")  # kk, sort_key 2
    a = move(store, a, status=C, counter="1", called_at=1_100.0)
    a = move(store, a, status=W, service="kk", counter="", called_at=0.0, transfers=1)
    assert numbers(store.waiting(B, DAY, "kk")) == ["A001", "B001"]  # kept sort_key 1
    assert store.waiting(B, DAY, "ktp") == []
    assert store.waiting_counts(B, DAY) == {"kk": 2}
    assert store.people_ahead(k1) == 1
    # A transfer of a waiting ticket to the back of another line (new sort_key).
    a = move(store, a, service="ktp", sort_key=store.seq(B) + 1, transfers=2)
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A001"]
    assert numbers(store.waiting(B, DAY, "kk")) == ["B001"]
    assert store.ticket(B, a.id) == a


def test_priority_change_moves_between_priority_and_ordinary(store: Store):
    a, b = take(store), take(store)
    b = move(store, b, priority="disabilitas")
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A002", "A001"]
    assert store.heads(B, DAY, ("ktp",))["ktp"] == (b, a)


# -- reading the lines --------------------------------------------------------


def test_heads_and_waiting_put_priority_first_then_place_in_line(store: Store):
    a1 = take(store)
    p1 = take(store, priority="lansia")
    a2 = take(store)
    p2 = take(store, priority="ibu_hamil")
    k1 = take(store, service="kk", prefix="B")
    assert numbers(store.waiting(B, DAY, "ktp")) == ["A002", "A004", "A001", "A003"]
    assert numbers(store.waiting(B, DAY, "ktp", limit=3)) == ["A002", "A004", "A001"]
    assert numbers(store.waiting(B, DAY, "ktp", limit=1)) == ["A002"]
    heads = store.heads(B, DAY, ("ktp", "kk", "izin"))
    assert heads == {"ktp": (p1, a1), "kk": (None, k1), "izin": (None, None)}
    assert store.heads(B, DAY, ()) == {}
    assert store.heads(B, NEXT_DAY, ("ktp",)) == {"ktp": (None, None)}
    assert [t.version for t in store.waiting(B, DAY, "ktp")] == [1, 1, 1, 1]
    del a2, p2


def test_equal_places_order_by_ticket_id(store: Store):
    late = take(store, ticket_id="zz-late")
    early = take(store, ticket_id="aa-early")
    late = move(store, late, sort_key=early.sort_key)
    assert [t.id for t in store.waiting(B, DAY, "ktp")] == ["aa-early", "zz-late"]
    assert store.heads(B, DAY, ("ktp",))["ktp"] == (None, early)
    assert store.people_ahead(late) == 0 and store.people_ahead(early) == 0


def test_waiting_counts_per_service(store: Store):
    assert store.waiting_counts(B, DAY) == {}
    take(store), take(store, priority="anak")
    k = take(store, service="kk", prefix="B")
    take(store, day=NEXT_DAY)
    assert store.waiting_counts(B, DAY) == {"ktp": 2, "kk": 1}
    move(store, k, status=C, counter="1", called_at=1_100.0)
    assert store.waiting_counts(B, DAY) == {"ktp": 2}
    assert store.waiting_counts(B, NEXT_DAY) == {"ktp": 1}


def test_people_ahead(store: Store):
    i1 = issue(store)
    i2 = issue(store)
    ip = issue(store, priority="lansia")
    i3 = issue(store)
    ip2 = issue(store, priority="anak")
    take(store, service="kk", prefix="B")
    assert [i.people_ahead for i in (i1, i2, ip, i3, ip2)] == [0, 1, 0, 3, 1]
    assert [i.waiting for i in (i1, i2, ip, i3, ip2)] == [1, 2, 3, 4, 5]
    tickets = [i.ticket for i in (i1, i2, ip, i3, ip2)]
    assert [store.people_ahead(t) for t in tickets] == [2, 3, 0, 4, 1]
    move(store, i1.ticket, status=C, counter="1", called_at=1_100.0)
    assert store.people_ahead(i3.ticket) == 3
    assert store.people_ahead(ip2.ticket) == 1
    # A ticket never counts itself, even asked about with a later place than stored.
    assert store.people_ahead(replace(ip.ticket, sort_key=10**6)) == 1
    assert store.people_ahead(replace(i3.ticket, sort_key=10**6)) == 3


# -- logs, reports, lookups ---------------------------------------------------


def test_recent_calls_newest_first(store: Store):
    a, b = take(store), take(store)
    a = move(store, a, status=C, counter="1", called_at=1_100.0)
    store.commit(B, Change(calls=[call_of(a, 1_100.0)]))
    store.commit(B, Change(calls=[call_of(b, 1_200.0), call_of(a, 1_300.0, recall=True)]))
    calls = store.recent_calls(B)
    assert [(c.number, c.at, c.recall) for c in calls] == [
        ("A001", 1_300.0, True),
        ("A002", 1_200.0, False),
        ("A001", 1_100.0, False),
    ]
    assert store.recent_calls(B, limit=1) == calls[:1]
    assert store.recent_calls("other") == []


def test_service_times_of_done_tickets_newest_first(store: Store):
    a, b, c = take(store), take(store), take(store)
    k = take(store, service="kk", prefix="B")
    a = move(store, a, status=C, called_at=1_100.0)
    a = move(store, a, status=S, started_at=1_130.0)
    move(store, a, status=D, finished_at=1_430.5)  # 300.5 s from the start
    b = move(store, b, status=C, called_at=1_500.0)
    move(store, b, status=D, finished_at=1_620.0)  # never started: 120 s from the call
    c = move(store, c, status=C, called_at=1_700.0)
    move(store, c, status=TicketStatus.NO_SHOW, finished_at=1_800.0)  # not done: not counted
    k = move(store, k, status=C, called_at=1_900.0)
    move(store, k, status=D, finished_at=1_960.0)
    assert store.service_times(B, DAY, "ktp") == [120.0, 300.5]
    assert store.service_times(B, DAY, "ktp", limit=1) == [120.0]
    assert store.service_times(B, DAY, "kk") == [60.0]
    assert store.service_times(B, NEXT_DAY, "ktp") == []


def test_day_tickets_lists_every_ticket_of_the_day(store: Store):
    a, b = take(store), take(store, service="kk", prefix="B")
    take(store, day=NEXT_DAY)
    a = move(store, a, status=C, called_at=1_100.0)
    assert store.day_tickets(B, DAY) == [a, b]
    assert numbers(store.day_tickets(B, NEXT_DAY)) == ["A001"]
    assert store.day_tickets(B, "2025-12-04") == []


def test_ticket_by_number(store: Store):
    a = take(store)
    b = take(store, day=NEXT_DAY)
    assert store.ticket_by_number(B, DAY, "A001") == a
    assert store.ticket_by_number(B, NEXT_DAY, "A001") == b
    assert store.ticket_by_number(B, DAY, "A002") is None
    assert store.ticket_by_number("other", DAY, "A001") is None
    a = move(store, a, status=C, called_at=1_100.0)
    assert store.ticket_by_number(B, DAY, "A001") == a


# -- counters, users, secrets -------------------------------------------------


def test_seed_counters_is_idempotent_and_keeps_state(store: Store):
    store.seed_counters([counter("2"), counter("1")])
    assert [c.id for c in store.counters(B)] == ["1", "2"]
    c = store.counter(B, "1")
    opened = c.evolve(state=CounterState.OPEN, clerk="budi")
    store.commit(B, Change(counters=[(c, opened)]))
    store.seed_counters([counter("1"), counter("2"), counter("3")])
    assert store.counters(B) == [opened, counter("2"), counter("3")]
    assert store.counter(B, "4") is None
    assert store.counters("other") == []


def test_users(store: Store):
    assert store.users() == [] and store.user("siti") is None
    siti = User("siti", "manager", "hash-1", 1_000.5)
    store.put_user(User("budi", "clerk", "hash-2", 1_001.0))
    store.put_user(siti)
    assert store.user("siti") == siti
    assert [u.username for u in store.users()] == ["budi", "siti"]
    replaced = User("siti", "clerk", "hash-3", 1_002.0)
    store.put_user(replaced)
    assert store.user("siti") == replaced
    assert store.delete_user("siti") is True
    assert store.delete_user("siti") is False
    assert store.users() == [User("budi", "clerk", "hash-2", 1_001.0)]
    lobby = User("kiosk1", "kiosk", "hash-4", 1_003.0, kiosk="K1")  # bound to a kiosk
    store.put_user(lobby)
    assert store.user("kiosk1") == lobby and store.user("budi").kiosk == ""


def test_secret_keeps_the_first_value_forever(store: Store):
    assert store.secret("session", "first") == "first"
    assert store.secret("session", "second") == "first"
    assert store.secret("other", "x") == "x"


# -- rate limits and ended sessions -------------------------------------------


def test_hits_slide_out_of_their_window(store: Store):
    now = 1_000_000.0
    assert [store.hit("login:siti", 3, 60, now + i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert store.hit("login:siti", 3, 60, now + 10) == pytest.approx(50.0)  # not counted
    assert store.hit("login:budi", 3, 60, now + 10) == 0.0  # keys are separate
    assert store.hit("login:siti", 3, 60, now + 60.5) == 0.0  # the first hit left
    assert store.hit("login:siti", 3, 60, now + 60.6) == pytest.approx(0.4)
    store.clear_hits("login:siti")
    assert store.hit("login:siti", 3, 60, now + 60.7) == 0.0


def second_handle(store: Store, request) -> Store:
    """Another connection to the same data, as a second server process would have."""
    from satupintu.store.redis import RedisStore
    from satupintu.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path)
    return RedisStore(request.getfixturevalue("redis_server").url)


def test_racing_hits_count_at_most_the_limit(store: Store, request):
    """Check-and-count is one atomic step, also between two handles (two processes)."""
    other = second_handle(store, request)
    counted: list[float] = []
    barrier = threading.Barrier(16)

    def guess(handle: Store) -> None:
        barrier.wait()
        for _ in range(10):
            counted.append(handle.hit("issue:kiosk1", 25, 60, 5_000.0))

    threads = [threading.Thread(target=guess, args=(store if i % 2 else other,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert len(counted) == 160
    assert counted.count(0.0) == 25
    assert all(w == pytest.approx(60.0) for w in counted if w)


def test_ended_sessions_are_remembered_until_they_would_expire(store: Store):
    now = time.time()
    assert store.session_ended("s1", now) is False
    store.end_session("s1", now + 3600)
    assert store.session_ended("s1", now) is True
    assert store.session_ended("s2", now) is False
    assert store.session_ended("s1", now + 3601) is False  # it would have expired anyway


# -- the managers' catalogue edits --------------------------------------------

EDITS = {
    "ktp": {"daily_quota": 5, "standard": {"fee": "Rp 10.000", "requirements": ["KK", "Akta"]}},
    "paspor": {"id": "paspor", "prefix": "Q", "name": {"id": "Paspor – baru", "en": ""}},
    "akta": {"enabled": False},
}


def test_catalogue_edits_start_empty_and_each_write_bumps_the_version(store: Store):
    assert store.catalogue_edits(B) == (0, {})
    assert store.put_catalogue_edits(B, EDITS, 0, seq_count=1) == [1]
    version, stored = store.catalogue_edits(B)
    assert (version, stored) == (1, EDITS)
    assert list(stored) == ["ktp", "paspor", "akta"]  # the order services were edited in
    assert store.put_catalogue_edits(B, {"kk": {"prefix": "Z"}}, 1, seq_count=0) == []
    assert store.catalogue_edits(B) == (2, {"kk": {"prefix": "Z"}})
    assert store.catalogue_edits("other") == (0, {})  # per branch


def test_stale_catalogue_version_conflicts_and_writes_nothing(store: Store):
    store.put_catalogue_edits(B, EDITS, 0, seq_count=1)
    take(store)
    before = (snapshot(store), store.catalogue_edits(B))
    for stale in (0, 2, 7):
        with pytest.raises(ChangedMeanwhile):
            store.put_catalogue_edits(B, {"kk": {"prefix": "Z"}}, stale, seq_count=2)
    assert (snapshot(store), store.catalogue_edits(B)) == before


def test_catalogue_seqs_are_contiguous_with_issue_and_commit(store: Store):
    assert take(store).sort_key == 1
    assert store.put_catalogue_edits(B, EDITS, 0, seq_count=2) == [2, 3]
    assert store.commit(B, Change(seq_count=1)) == [4]
    assert store.put_catalogue_edits("other", {}, 0, seq_count=1) == [1]  # another branch's
    assert store.seq(B) == 4


def test_racing_catalogue_writes_from_one_version_only_one_wins(store: Store):
    results: list[str] = []
    start = threading.Barrier(6)

    def write(n: int) -> None:
        start.wait()
        try:
            store.put_catalogue_edits(B, {"ktp": {"daily_quota": n}}, 0, seq_count=1)
            results.append(f"won {n}")
        except ChangedMeanwhile:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r.startswith("won")]
    assert len(winners) == 1 and results.count("conflict") == 5
    version, stored = store.catalogue_edits(B)
    assert version == 1 and f"won {stored['ktp']['daily_quota']}" == winners[0]
    assert store.seq(B) == 1


# -- print jobs and printer statuses -------------------------------------------


def job(
    kiosk: str = "K1", ticket: str = "t1", created: float = 1000.0, payload: str = "G0A="
) -> PrintJob:
    return PrintJob(PrintJob.new_id(), kiosk, ticket, payload, created)


def twin(store: Store) -> Store:
    """A second store on the same data, as another server process opens it."""
    if store.name == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(store.path)  # type: ignore[attr-defined]
    from satupintu.store.redis import RedisStore

    kw = store.redis.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    return RedisStore(f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}")


def test_print_jobs_wait_until_finished_oldest_first(store: Store):
    first, second, other = job(created=1000), job(ticket="t2", created=1001), job(kiosk="K2")
    for j in (second, first, other):
        store.add_print_job(B, j)
    assert [j.id for j in store.pending_print_jobs(B, "K1", now=1010, ttl=120)] == [
        first.id,
        second.id,
    ]
    assert store.finish_print_job(B, first.id, JobState.PRINTED, "", now=1011)
    assert [j.id for j in store.pending_print_jobs(B, "K1", now=1012, ttl=120)] == [second.id]
    got = store.print_job(B, first.id)
    assert got is not None and got.state is JobState.PRINTED and got.acked == 1011
    assert got == replace(first, state=JobState.PRINTED, acked=1011.0)
    assert [j.id for j in store.pending_print_jobs(B, "K2", now=1012, ttl=120)] == [other.id]
    assert store.print_job(B, "no-such-job") is None
    assert store.print_job("other-branch", first.id) is None


def test_a_print_job_finishes_once(store: Store):
    j = job()
    store.add_print_job(B, j)
    assert store.finish_print_job(B, j.id, JobState.FAILED, "kertas habis", now=1001) is True
    assert store.finish_print_job(B, j.id, JobState.PRINTED, "", now=1002) is False  # a repeat
    got = store.print_job(B, j.id)
    assert got is not None and (got.state, got.detail, got.acked) == (
        JobState.FAILED,
        "kertas habis",
        1001.0,
    )
    assert store.finish_print_job(B, "no-such-job", JobState.PRINTED, "", now=1004) is False
    assert store.pending_print_jobs(B, "K1", now=1005, ttl=120) == []


def test_racing_finishes_of_one_print_job_one_wins(store: Store):
    j = job()
    store.add_print_job(B, j)
    other = twin(store)
    results: dict[int, bool] = {}
    barrier = threading.Barrier(8)

    def ack(n: int) -> None:
        mine = other if n % 2 else store  # half of them through another process's store
        barrier.wait()
        results[n] = mine.finish_print_job(B, j.id, JobState.PRINTED, str(n), now=1001)

    threads = [threading.Thread(target=ack, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sorted(results.values()) == [False] * 7 + [True]
    winner = next(n for n, won in results.items() if won)
    got = store.print_job(B, j.id)
    assert got is not None and got.detail == str(winner)


def test_stale_print_jobs_expire_instead_of_printing_late(store: Store):
    old, fresh = job(created=1000), job(created=1100)
    store.add_print_job(B, old)
    store.add_print_job(B, fresh)
    assert [j.id for j in store.pending_print_jobs(B, "K1", now=1150, ttl=120)] == [fresh.id]
    got = store.print_job(B, old.id)
    assert got is not None and (got.state, got.acked) == (JobState.EXPIRED, 1150.0)
    # expired is final: the agent's late acknowledgement changes nothing
    assert store.finish_print_job(B, old.id, JobState.PRINTED, "", now=1160) is False
    assert store.finish_print_job(B, fresh.id, JobState.PRINTED, "", now=1160) is True


def test_print_job_attempts_and_jobs_of_a_ticket(store: Store):
    a, b = job(ticket="tx", created=1000), job(ticket="tx", created=1001)
    for j in (b, a, job(ticket="ty")):
        store.add_print_job(B, j)
    store.print_job_delivered(B, a.id)
    store.print_job_delivered(B, a.id)
    store.print_job_delivered(B, "no-such-job")  # a no-op, not an error
    got = store.print_job(B, a.id)
    assert got is not None and (got.attempts, got.payload) == (2, "G0A=")
    assert [j.id for j in store.ticket_print_jobs(B, "tx")] == [a.id, b.id]
    assert store.ticket_print_jobs(B, "tz") == []
    assert store.print_job(B, "no-such-job") is None


def test_a_finished_print_job_added_is_never_pending(store: Store):
    done = replace(job(), state=JobState.PRINTED, acked=1000.5)
    store.add_print_job(B, done)
    assert store.pending_print_jobs(B, "K1", now=1001, ttl=120) == []
    assert store.print_job(B, done.id) == done
    assert store.finish_print_job(B, done.id, JobState.FAILED, "", now=1002) is False


def test_printer_statuses_are_kept_per_branch(store: Store):
    assert store.printer_status(B, "K1") is None and store.printer_statuses(B) == []
    k2 = PrinterStatus("K2", PrinterState.OK, since=1.0, updated=2.0, seen=2.0)
    k1 = PrinterStatus(
        "K1",
        PrinterState.PAPER_OUT,
        "kertas habis",
        since=5.0,
        updated=6.0,
        printer="network 10.0.0.5:9100",
    )
    store.put_printer_status(B, k2)
    store.put_printer_status(B, k1)
    assert store.printer_status(B, "K1") == k1
    assert store.printer_statuses(B) == [k1, k2]  # by kiosk
    replaced = replace(k1, state=PrinterState.OK, detail="", updated=9.0)
    store.put_printer_status(B, replaced)
    assert store.printer_status(B, "K1") == replaced
    assert store.printer_statuses("other-branch") == []
    assert store.printer_status("other-branch", "K1") is None


def test_printing_allocates_no_sequence_numbers(store: Store):
    take(store)
    before = store.seq(B)
    j = job()
    store.add_print_job(B, j)
    store.finish_print_job(B, j.id, JobState.PRINTED, "", now=1001)
    store.put_printer_status(B, PrinterStatus("K1"))
    assert store.seq(B) == before


# -- both backends, same answers ----------------------------------------------


def office_day(engine: Engine, clock: Clock) -> list:
    """A scripted morning through the engine; returns everything it observed."""
    e, seen = engine, []

    def do(op: Callable[[], Outcome]) -> None:
        o = op()
        seen.append(
            (
                o.ticket,
                o.counter,
                o.people_ahead,
                o.estimated_wait_s,
                [(x.name, x.seq, x.ticket, x.counter, x.payload(staff=True)) for x in o.events],
            )
        )
        clock.advance(37.5)

    for service, priority in [
        ("ktp", ""),
        ("ktp", "lansia"),
        ("kk", ""),
        ("ktp", ""),
        ("akta", ""),
        ("kk", "anak"),
        ("ktp", ""),
    ]:
        do(lambda: e.issue(service, priority=priority, kiosk="k1"))
    do(lambda: e.open_counter("1", clerk="budi"))
    do(lambda: e.open_counter("2"))
    do(lambda: e.call_next("1"))
    do(lambda: e.recall("1"))
    do(lambda: e.start("1"))
    do(lambda: e.complete("1"))
    do(lambda: e.call_next("2"))
    do(lambda: e.transfer("2", "akta"))
    do(lambda: e.call_next("2"))
    do(lambda: e.no_show("2"))
    do(lambda: e.call("2", "A001"))  # a late citizen called back by number
    do(lambda: e.park("2"))
    do(lambda: e.unpark("A001"))
    do(lambda: e.set_services("1", [("akta", 1), ("kk", 2)]))
    do(lambda: e.call_next("1"))
    do(lambda: e.complete("1"))
    do(lambda: e.call_next("1"))
    do(lambda: e.cancel(e.counter("1").current))
    do(lambda: e.issue("ktp"))
    do(lambda: e.pause_counter("2"))
    day = e.today()
    store = e.store
    seen.append(
        (
            e.snapshot(staff=True),
            store.day_tickets(e.branch, day),
            store.waiting_counts(e.branch, day),
            store.recent_calls(e.branch, 50),
            {s: store.service_times(e.branch, day, s) for s in e.config.service_ids},
            {s: store.waiting(e.branch, day, s) for s in e.config.service_ids},
            store.heads(e.branch, day, e.config.service_ids),
            store.seq(e.branch),
        )
    )
    return seen


@pytest.mark.redis
def test_sqlite_and_redis_answer_the_same(request, tmp_path, config, monkeypatch):
    runs = []
    for backend in ("sqlite", "redis"):
        ids = itertools.count(1)
        monkeypatch.setattr(engine_module, "new_ticket_id", lambda: f"id{next(ids):04d}")
        store = make_backend(backend, request, tmp_path)
        try:
            clock = Clock()
            runs.append(office_day(Engine(config, store, clock=clock), clock))
        finally:
            store.close()
    sqlite, redis = runs
    assert len(sqlite) == len(redis)
    for step, (a, b) in enumerate(zip(sqlite, redis, strict=True)):
        assert a == b, f"step {step}"
