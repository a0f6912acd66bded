"""Input and output schemas of the HTTP API (marshmallow, via APIFlask).

Every input string is capped so a huge value is a 400, never a slow write;
unknown fields are refused, naming the field.
"""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import RAISE

from ..model import PRIORITY_GROUPS, TicketStatus
from ..users import ROLES

MAX_STR = 64


class StrictBoolean(Boolean):
    """Only JSON true/false (marshmallow would also take "yes", 1, "on" ...)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Text(required: bool = True, max_len: int = MAX_STR, **kwargs: Any) -> String:  # noqa: N802
    """A capped, non-empty string field."""
    return String(required=required, validate=Length(min=1, max=max_len), **kwargs)


class In(Schema):
    class Meta:
        unknown = RAISE


# -- inputs ---------------------------------------------------------------------


class LoginIn(In):
    username = Text(metadata={"example": "kiosk1"})
    password = Text(max_len=128, metadata={"example": "a long secret"})


class IssueIn(In):
    service = Text(metadata={"description": "service id, e.g. ktp", "example": "ktp"})
    priority = String(load_default="", validate=OneOf(("", *PRIORITY_GROUPS)),
                      metadata={"description": "priority group (UU 25/2009 Pasal 29), "
                                               "empty for none"})


class CallIn(In):
    ticket = Text(metadata={"description": "ticket id, or today's number such as A012"})


class TransferIn(In):
    service = Text(metadata={"description": "the service the ticket goes to"})
    keep_place = StrictBoolean(load_default=True, metadata={
        "description": "keep its original place in line (true) or go to the back"})


class AssignmentIn(In):
    id = Text(metadata={"description": "service id"})
    weight = Integer(load_default=1, strict=True, validate=Range(1, 100))


class ServicesIn(In):
    services = List(Nested(AssignmentIn), required=True, validate=Length(min=1, max=100))


# -- outputs --------------------------------------------------------------------


class TicketOut(Schema):
    id = String()
    number = String(metadata={"example": "A012"})
    service = String()
    origin_service = String()
    priority = String(allow_none=True)
    status = String(metadata={"enum": [s.value for s in TicketStatus]})
    counter = String(allow_none=True)
    counter_name = String(allow_none=True)
    recalls = Integer()
    issued_at = String(allow_none=True, metadata={"format": "date-time"})
    called_at = String(allow_none=True, metadata={"format": "date-time"})
    started_at = String(allow_none=True, metadata={"format": "date-time"})
    finished_at = String(allow_none=True, metadata={"format": "date-time"})
    day = String()


class TicketStatusOut(TicketOut):
    people_ahead = Integer(metadata={"description": "waiting tickets called before this one"})
    estimated_wait_s = Integer(allow_none=True)


class IssuedOut(TicketStatusOut):
    url = String(metadata={"description": "the citizen's tracking page (QR code)"})


class AssignmentOut(Schema):
    id = String()
    weight = Integer()


class CounterOut(Schema):
    id = String()
    name = String()
    state = String(metadata={"enum": ["open", "paused", "closed"]})
    services = List(Nested(AssignmentOut))
    current = Nested(TicketOut, allow_none=True)
    clerk = String(allow_none=True, metadata={"description": "staff views only"})


class CounterDetailOut(CounterOut):
    """A top-level counter (its own class: apispec warns when a nested schema is reused)."""


class ActionOut(Schema):
    ticket = Nested(TicketOut, allow_none=True)
    counter = Nested(CounterOut, allow_none=True)


class ServiceOut(Schema):
    id = String()
    prefix = String()
    name = Dict(metadata={"description": "{id: Indonesian, en: English}"})
    colour = String()
    target_wait_min = Integer()
    service_time_min = Integer()
    daily_quota = Integer()
    enabled = Boolean()
    standard = Dict(metadata={"description": "the published service standard"})
    waiting = Integer()
    estimated_wait_s = Integer(allow_none=True)
    counters_open = Integer()


class ServicesOut(Schema):
    services = List(Nested(ServiceOut))


class CountersOut(Schema):
    counters = List(Nested(CounterOut))


class WaitingOut(Schema):
    tickets = List(Nested(TicketOut))


class CallOut(Schema):
    ticket = String()
    number = String()
    service = String()
    counter = String()
    counter_name = String()
    recall = Boolean()
    at = String(metadata={"format": "date-time"})


class SnapshotOut(Schema):
    seq = Integer(metadata={"description": "the branch sequence this state is at"})
    branch = String()
    day = String()
    services = List(Nested(ServiceOut))
    counters = List(Nested(CounterOut))
    recent_calls = List(Nested(CallOut))


class TokenOut(Schema):
    token = String()
    username = String()
    role = String(metadata={"enum": list(ROLES)})
    expires_at = String(metadata={"format": "date-time"})


class MeOut(Schema):
    username = String()
    role = String(metadata={"enum": list(ROLES)})
    expires_at = String(metadata={"format": "date-time"})
