"""Store calls per HTTP operation (tests/storecalls.py; docs/performance.md "Store calls")."""

from __future__ import annotations

import pytest

from tests.storecalls import measure

WRITES = {"commit", "issue", "put_catalogue_edits"}
READS_OF_RECORDS = {"ticket", "ticket_by_number", "counter", "counters", "heads", "waiting_counts"}
CLERK_OPERATIONS = (
    "call-next",
    "recall",
    "start",
    "complete",
    "no-show",
    "park",
    "unpark",
    "transfer",
    "cancel",
    "pause",
    "open",
)


@pytest.fixture(scope="module")
def calls() -> dict[str, list[str]]:
    return measure()


def test_call_next_reads_once_writes_once(calls: dict[str, list[str]]) -> None:
    # The operation: counters (the counter and the estimates' open counters), the line
    # heads, the write, the fresh waiting counts for queue_updated. Before the engine's
    # collaborators and outcomes carried what it wrote, it also read the counters
    # again and the API read the ticket back.
    engine_part = ["counters", "heads", "commit", "waiting_counts"]
    names = calls["call-next"]
    assert names[-len(engine_part) :] == engine_part, names
    # What comes before is the request's own checks (token, session), no queue records.
    assert not set(names[: -len(engine_part)]) & (READS_OF_RECORDS | WRITES), names


@pytest.mark.parametrize("operation", CLERK_OPERATIONS)
def test_nothing_is_read_back_after_the_write(calls: dict[str, list[str]], operation: str) -> None:
    names = calls[operation]
    writes = [i for i, name in enumerate(names) if name in WRITES]
    assert len(writes) == 1, names  # one atomic write per operation
    after = names[writes[0] + 1 :]
    # Only the fresh waiting counts for queue_updated may follow the write.
    assert set(after) <= {"waiting_counts"}, names
    # Positive control: the reads the operation needs do happen, before the write.
    assert set(names[: writes[0]]) & READS_OF_RECORDS, names


def test_issuing_does_not_read_the_new_ticket_back(calls: dict[str, list[str]]) -> None:
    # The route hands the issued ticket to printing and builds its answer from the
    # Outcome; after the write only the counters are read, for the estimates.
    names = calls["issue (POST /tickets)"]
    assert names.count("issue") == 1, names
    after = names[names.index("issue") + 1 :]
    assert after == ["counters"], names
