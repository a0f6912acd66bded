"""Domain objects: tickets, counters, their states and the one transition table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from .errors import InvalidTransition, TicketExpired


class TicketStatus(str, Enum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    PARKED = "parked"
    EXPIRED = "expired"  # still open when its day ended (or its service was removed)


class CounterState(str, Enum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


def local_day(moment: float, tz: ZoneInfo) -> str:
    """The office's local date (YYYY-MM-DD) at epoch seconds `moment`: a ticket's day."""
    return datetime.fromtimestamp(moment, tz).date().isoformat()


# Priority groups named by UU 25/2009 Pasal 29.
PRIORITY_GROUPS = ("lansia", "disabilitas", "ibu_hamil", "anak")


def _statuses(*names: str) -> frozenset[TicketStatus]:
    return frozenset(TicketStatus(n) for n in names)


# action -> (statuses it may start from, status it leaves the ticket in).
# This table is the only place that says which changes are allowed.
TRANSITIONS: dict[str, tuple[frozenset[TicketStatus], TicketStatus]] = {
    # from no_show: a late citizen called back by number
    "call": (_statuses("waiting", "parked", "no_show"), TicketStatus.CALLED),
    "recall": (_statuses("called"), TicketStatus.CALLED),
    "start": (_statuses("called"), TicketStatus.SERVING),
    "complete": (_statuses("called", "serving"), TicketStatus.DONE),  # complete implies start
    "no_show": (_statuses("called"), TicketStatus.NO_SHOW),
    "park": (_statuses("called", "serving"), TicketStatus.PARKED),
    "unpark": (_statuses("parked"), TicketStatus.WAITING),
    "transfer": (_statuses("waiting", "called", "serving", "parked"), TicketStatus.WAITING),
    "cancel": (_statuses("waiting", "called", "parked"), TicketStatus.CANCELLED),
    # Closing the day (day_close.py): whatever is still open ends; nothing leaves it.
    "expire": (_statuses("waiting", "called", "serving", "parked"), TicketStatus.EXPIRED),
}

# Statuses a ticket is still open in: expiring ends them at the day's end.
OPEN = TRANSITIONS["expire"][0]

# Statuses in which a ticket occupies its counter.
AT_COUNTER = _statuses("called", "serving")

# Counter action -> the counter states it is offered in and the state it leaves.
# (The API also lets an open counter be opened again: a clerk taking over the desk.)
COUNTER_TRANSITIONS: dict[str, tuple[frozenset[CounterState], CounterState]] = {
    "open": (frozenset({CounterState.PAUSED, CounterState.CLOSED}), CounterState.OPEN),
    "pause": (frozenset({CounterState.OPEN}), CounterState.PAUSED),
    "close": (frozenset({CounterState.OPEN, CounterState.PAUSED}), CounterState.CLOSED),
}
# What a counter may do with the ticket at it: the TRANSITIONS that start there.
TICKET_ACTIONS_AT_COUNTER = ("recall", "start", "complete", "no_show", "park", "transfer")


def check_transition(action: str, status: TicketStatus, day: str = "") -> TicketStatus:
    """Return the status `action` leads to from `status`, or raise InvalidTransition
    (TicketExpired, with the ticket's `day` if given, for an expired ticket)."""
    sources, target = TRANSITIONS[action]
    if status is TicketStatus.EXPIRED:
        raise TicketExpired(
            f"cannot {action.replace('_', '-')} an expired ticket: it was not served on its "
            "day (or its service was removed), so it can no longer be called or changed; "
            "the citizen takes a new number",
            **({"day": day} if day else {}),
        )
    if status not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise InvalidTransition(
            f"cannot {action.replace('_', '-')} a ticket that is {status.value} "
            f"(allowed from: {allowed})",
            status=status.value,
            action=action,
        )
    return target


@dataclass(frozen=True)
class Ticket:
    """One numbered ticket of one local day."""

    id: str
    branch: str
    day: str  # local date, YYYY-MM-DD
    number: str  # "A012"
    service: str  # the service it queues for now (changes on transfer)
    origin_service: str  # the service it was issued for
    priority: str  # "" or one of PRIORITY_GROUPS
    status: TicketStatus
    sort_key: int  # place in line: branch sequence at issue, kept on transfer
    issued_at: float
    called_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    counter: str = ""
    recalls: int = 0
    transfers: int = 0
    kiosk: str = ""
    version: int = 1

    @property
    def is_priority(self) -> bool:
        return bool(self.priority)

    def evolve(self, **changes: Any) -> Ticket:
        """A copy with `changes` and the version bumped."""
        return replace(self, version=self.version + 1, **changes)

    def to_record(self) -> dict[str, str]:
        """Flat string fields, for stores."""
        return {k: _str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Ticket:
        return cls(
            id=record["id"],
            branch=record["branch"],
            day=record["day"],
            number=record["number"],
            service=record["service"],
            origin_service=record["origin_service"],
            priority=record["priority"] or "",
            status=TicketStatus(record["status"]),
            sort_key=int(record["sort_key"]),
            issued_at=float(record["issued_at"]),
            called_at=float(record["called_at"] or 0),
            started_at=float(record["started_at"] or 0),
            finished_at=float(record["finished_at"] or 0),
            counter=record["counter"] or "",
            recalls=int(record["recalls"] or 0),
            transfers=int(record["transfers"] or 0),
            kiosk=record["kiosk"] or "",
            version=int(record["version"]),
        )

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.service} {self.status.value} id={self.id}>"


@dataclass(frozen=True)
class Routing:
    """A counter's routing memory: priority streak and weighted-rotation credits."""

    priority_streak: int = 0
    credits: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"priority_streak": self.priority_streak, "credits": self.credits})

    @classmethod
    def from_json(cls, text: str) -> Routing:
        data = json.loads(text or "{}")
        return cls(int(data.get("priority_streak", 0)), dict(data.get("credits", {})))


@dataclass(frozen=True)
class Counter:
    """A desk that can serve any service in its assignment."""

    id: str
    branch: str
    name: str
    state: CounterState
    services: tuple[tuple[str, int], ...]  # assignment: (service id, weight)
    current: str = ""  # ticket id at the counter, "" if none
    clerk: str = ""
    routing: Routing = field(default_factory=Routing)
    version: int = 1

    @property
    def service_ids(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.services)

    def evolve(self, **changes: Any) -> Counter:
        return replace(self, version=self.version + 1, **changes)

    def to_record(self) -> dict[str, str]:
        return {
            "id": self.id,
            "branch": self.branch,
            "name": self.name,
            "state": self.state.value,
            "services": json.dumps([list(s) for s in self.services]),
            "current": self.current,
            "clerk": self.clerk,
            "routing": self.routing.to_json(),
            "version": str(self.version),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Counter:
        return cls(
            id=record["id"],
            branch=record["branch"],
            name=record["name"],
            state=CounterState(record["state"]),
            services=tuple((s, int(w)) for s, w in json.loads(record["services"])),
            current=record["current"] or "",
            clerk=record["clerk"] or "",
            routing=Routing.from_json(record["routing"]),
            version=int(record["version"]),
        )

    def __repr__(self) -> str:
        return f"<Counter {self.id} {self.state.value} current={self.current or '-'}>"


def counter_actions(counter: Counter, current: TicketStatus | None) -> list[str]:
    """What a clerk may do at `counter` now, by the API's action names (call-next, no-show).

    From COUNTER_TRANSITIONS (closing only with no ticket at the counter), calling (an
    open counter with no ticket at it) and the TRANSITIONS the ticket at the counter
    (status `current`) may take, plus printing it again. The pages enable their
    buttons from this list.
    """
    free = not counter.current
    actions = [
        action
        for action, (sources, _) in COUNTER_TRANSITIONS.items()
        if counter.state in sources and (free or action != "close")
    ]
    if counter.state is CounterState.OPEN and free:
        actions += ["call-next", "call"]
    if current is not None:
        actions += [
            action.replace("_", "-")
            for action in TICKET_ACTIONS_AT_COUNTER
            if current in TRANSITIONS[action][0]
        ]
        actions.append("reprint")
    return actions


@dataclass(frozen=True)
class Call:
    """One announcement of a ticket at a counter (a call or a recall)."""

    ticket: str
    number: str
    service: str
    counter: str
    counter_name: str
    at: float
    recall: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Call:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


def _str(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)
