"""Print jobs and printer statuses on both stores: kept until acknowledged, acked once."""

from __future__ import annotations

import threading

from printer.jobs import Job, JobState, make_jobs
from printer.status import PrinterState, PrinterStatus


def job(kiosk="K1", ticket="t1", created=1000.0, payload="G0A=") -> Job:
    return Job(Job.new_id(), kiosk, ticket, payload, created)


def test_jobs_wait_until_acknowledged(store):
    jobs = make_jobs(store, "main")
    first, second, other = job(created=1000), job(ticket="t2", created=1001), job(kiosk="K2")
    for j in (second, first, other):
        jobs.add(j)
    assert [j.id for j in jobs.pending("K1", now=1010, ttl=120)] == [first.id, second.id]
    assert jobs.finish(first.id, JobState.PRINTED, "", now=1011)
    assert [j.id for j in jobs.pending("K1", now=1012, ttl=120)] == [second.id]
    got = jobs.get(first.id)
    assert got is not None and got.state is JobState.PRINTED and got.acked == 1011
    assert [j.id for j in jobs.pending("K2", now=1012, ttl=120)] == [other.id]


def test_an_ack_counts_once(store):
    jobs = make_jobs(store, "main")
    j = job()
    jobs.add(j)
    assert jobs.finish(j.id, JobState.PRINTED, "", now=1001) is True
    assert jobs.finish(j.id, JobState.PRINTED, "", now=1002) is False  # the repeated ack
    assert jobs.finish(j.id, JobState.FAILED, "late", now=1003) is False
    assert jobs.get(j.id).state is JobState.PRINTED
    assert jobs.finish("no-such-job", JobState.PRINTED, "", now=1004) is False


def test_concurrent_acks_of_one_job_one_wins(store):
    jobs = make_jobs(store, "main")
    j = job()
    jobs.add(j)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def ack() -> None:
        mine = make_jobs(store, "main")  # like another server process
        barrier.wait()
        results.append(mine.finish(j.id, JobState.PRINTED, "", now=1001))

    threads = [threading.Thread(target=ack) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_stale_jobs_expire_instead_of_printing_late(store):
    jobs = make_jobs(store, "main")
    old, fresh = job(created=1000), job(created=1100)
    jobs.add(old)
    jobs.add(fresh)
    assert [j.id for j in jobs.pending("K1", now=1150, ttl=120)] == [fresh.id]
    assert jobs.get(old.id).state is JobState.EXPIRED


def test_attempts_and_jobs_of_a_ticket(store):
    jobs = make_jobs(store, "main")
    a, b = job(ticket="tx", created=1000), job(ticket="tx", created=1001)
    jobs.add(a)
    jobs.add(b)
    jobs.add(job(ticket="ty"))
    jobs.delivered(a.id)
    jobs.delivered(a.id)
    assert jobs.get(a.id).attempts == 2
    assert [j.id for j in jobs.for_ticket("tx")] == [a.id, b.id]
    assert jobs.get(a.id).payload == "G0A="


def test_printer_status_is_kept(store):
    jobs = make_jobs(store, "main")
    assert jobs.status("K1") is None
    jobs.set_status(PrinterStatus("K1", PrinterState.PAPER_OUT, "kertas habis", since=5.0,
                                  updated=6.0, printer="network 10.0.0.5:9100"))
    jobs.set_status(PrinterStatus("K2", PrinterState.OK, since=1.0, updated=2.0, seen=2.0))
    status = make_jobs(store, "main").status("K1")
    assert status is not None
    assert (status.state, status.detail, status.since, status.printer) == (
        PrinterState.PAPER_OUT, "kertas habis", 5.0, "network 10.0.0.5:9100")
    assert status.to_dict()["alert"] is True
    assert [s.kiosk for s in jobs.statuses()] == ["K1", "K2"]
    assert jobs.statuses()[1].seen == 2.0
    assert make_jobs(store, "other-branch").statuses() == []
