"""Store calls per HTTP operation (tests/storecalls.py; docs/performance.md "Store calls")."""

from __future__ import annotations

import pytest

from tests.storecalls import measure

WRITES = {"commit", "issue", "put_catalogue_edits"}
READS_OF_RECORDS = {"ticket", "ticket_by_number", "counter", "counters"}
CLERK_OPERATIONS = ("call-next", "recall", "start", "complete", "no-show", "park", "unpark",
                    "transfer", "cancel", "pause", "open")


@pytest.fixture(scope="module")
def calls() -> dict[str, list[str]]:
    # Without the token check's user read: how a request is authenticated is not
    # the operation's cost (and may be cached).
    return {op: [c for c in names if c != "user"] for op, names in measure().items()}


def test_call_next_reads_once_writes_once(calls: dict[str, list[str]]) -> None:
    # counters (the counter and the estimates' open counters), the line heads, the
    # write, the fresh waiting counts for queue_updated: 7 calls with the token
    # check before the engine's collaborators and outcomes carried what it wrote.
    assert calls["call-next"] == ["counters", "heads", "commit", "waiting_counts"]


@pytest.mark.parametrize("operation", CLERK_OPERATIONS)
def test_nothing_is_read_back_after_the_write(calls: dict[str, list[str]],
                                              operation: str) -> None:
    names = calls[operation]
    writes = [i for i, name in enumerate(names) if name in WRITES]
    assert len(writes) == 1, names  # one atomic write per operation
    after = names[writes[0] + 1:]
    assert not set(after) & READS_OF_RECORDS, names
    # Positive control: the reads the operation needs do happen, before the write.
    assert set(names[:writes[0]]) & READS_OF_RECORDS, names
