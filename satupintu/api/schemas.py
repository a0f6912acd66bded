"""Input and output schemas of the HTTP API (marshmallow, via APIFlask).

Every input string is capped so a huge value is a 400, never a slow write;
unknown fields are refused, naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import EXCLUDE, RAISE, ValidationError

from ..config import (
    COLOUR_RE,
    ID_RE,
    PREFIX_RE,
    SAFE_LINE_RE,
    SERVICE_NUMBERS,
    UNSAFE_CHARACTERS,
    bad_character,
)
from ..model import PRIORITY_GROUPS, TicketStatus
from ..users import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    PASSWORD_RULE,
    ROLE_RULE,
    ROLES,
    USERNAME_RE,
    USERNAME_RULE,
)

MAX_STR = 64


class StrictBoolean(Boolean):
    """Only JSON true/false (marshmallow would also take "yes", 1, "on" ...)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(Integer):
    """Only JSON numbers without a fraction: not "5", not 5.5, not true (marshmallow's strict
    mode takes it as 1); 5.0 is 5, as JSON Schema's `integer` says."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class FullMatch(Regexp):
    """A pattern the whole string must match, as JSON Schema reads `^...$` (Python's `$` would
    also match before a final newline)."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class SafeLine(FullMatch):
    """A line without control or text-direction characters (config.bad_character's rule);
    with `blank=False` also not empty or only spaces."""

    # JavaScript's \s spelled out: Python's \s differs (e.g. on U+FEFF), so it is not used.
    SPACES = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    NOT_BLANK = re.compile(
        f"^[^{UNSAFE_CHARACTERS}]*[^{SPACES}{UNSAFE_CHARACTERS}][^{UNSAFE_CHARACTERS}]*$"
    )

    def __init__(self, blank: bool = True) -> None:
        super().__init__(SAFE_LINE_RE if blank else self.NOT_BLANK)
        self.blank = blank

    def __call__(self, value: Any) -> Any:
        problem = bad_character(value) or (
            "must not be empty" if self.regex.fullmatch(value) is None else ""
        )
        if problem:
            raise ValidationError(problem)
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


PRIORITY_RULE = (
    f'must be one of {", ".join(PRIORITY_GROUPS)}, or left out (or "") for an ordinary ticket'
)


class IssueIn(In):
    service = Text(metadata={"description": "service id, e.g. ktp", "example": "ktp"})
    priority = String(
        load_default="",
        validate=OneOf(("", *PRIORITY_GROUPS), error=PRIORITY_RULE),
        metadata={
            "enum": ["", *PRIORITY_GROUPS],
            "description": "priority group (UU 25/2009 Pasal 29), called before ordinary tickets: "
            "lansia (elderly), disabilitas (disabled), ibu_hamil (pregnant), anak "
            "(with small children); empty or left out for none",
        },
    )


class IdempotencyIn(Schema):
    """The optional Idempotency-Key header of POST /tickets (other headers are ignored)."""

    class Meta:
        unknown = EXCLUDE

    key = String(
        data_key="Idempotency-Key",
        load_default="",
        validate=Regexp(
            r"^[\x21-\x7e]{1,128}$", error=("1 to 128 visible ASCII characters (e.g. a UUID)")
        ),
        metadata={
            "description": (
                "a new random value (e.g. a UUID) for each ticket the kiosk wants; "
                "send the same value again when retrying after a network error or a "
                "503, and the ticket the first request made is returned (201, header "
                "Idempotent-Replayed: true) instead of a second one. Kept for the "
                "office's local day and per kiosk user; the same key with a "
                "different body is refused (422 idempotency_key_reused)."
            ),
            "example": "5f0c8a4e-2b7d-4c1e-9a63-0d1f2e3b4c5d",
        },
    )


class CallIn(In):
    ticket = Text(metadata={"description": "ticket id, or today's number such as A012"})


class TransferIn(In):
    service = Text(metadata={"description": "the service the ticket goes to"})
    keep_place = StrictBoolean(
        load_default=True,
        metadata={"description": "keep its original place in line (true) or go to the back"},
    )


class AssignmentIn(In):
    id = Text(metadata={"description": "service id"})
    weight = StrictInteger(load_default=1, validate=Range(1, 100))


class ServicesIn(In):
    services = List(Nested(AssignmentIn), required=True, validate=Length(min=1, max=100))


# The catalogue editor's fields, with config.toml's rules (satupintu/config.py) stated
# here too so the OpenAPI document has them; a unique prefix and id depend on the other
# services, so the engine checks those (409).
ITEM = 500  # one requirement or procedure step, or a standard text
ITEMS = 50


def Item(max_len: int = ITEM, **kwargs: Any) -> String:  # noqa: N802
    """A capped line that may be empty."""
    return String(validate=[Length(max=max_len), SafeLine()], **kwargs)


ID_RULE = "must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"


def Number(name: str, **metadata: Any) -> Integer:  # noqa: N802
    """One of a service's numbers, in config.toml's range."""
    _, low, high = SERVICE_NUMBERS[name]
    return StrictInteger(
        validate=Range(low, high, error="must be between {min} and {max}"), metadata=metadata
    )


class NameIn(In):
    id = String(
        required=True,
        validate=[Length(max=120), SafeLine(blank=False)],
        metadata={"description": "Indonesian"},
    )
    en = String(
        validate=[Length(max=120), SafeLine()], metadata={"description": "English (may be empty)"}
    )


class StandardIn(In):
    requirements = List(Item(), validate=Length(max=ITEMS))
    procedure = List(Item(), validate=Length(max=ITEMS))
    processing_time = Item()
    fee = Item(metadata={"description": '"Gratis" shows as free'})
    fee_basis = Item()
    product = Item()
    complaint = Item()


def Prefix(**kwargs: Any) -> String:  # noqa: N802
    """The letter of a service's ticket numbers."""
    return String(
        validate=FullMatch(PREFIX_RE, error="must be one capital letter A-Z"),
        metadata={"example": "A", "description": "unique among the services"},
        **kwargs,
    )


class ServiceEditIn(In):
    """Fields of a service to change; the ones left out stay as they are."""

    version = StrictInteger(
        metadata={"description": "the catalogue version the editor loaded; 409 if it changed since"}
    )
    prefix = Prefix()
    name = Nested(NameIn)
    colour = String(
        validate=FullMatch(COLOUR_RE, error="must be #RRGGBB"), metadata={"example": "#1565C0"}
    )
    target_wait_min = Number("target_wait_min")
    service_time_min = Number("service_time_min")
    daily_quota = Number("daily_quota", description="0 = no quota")
    enabled = StrictBoolean()
    standard = Nested(StandardIn, metadata={"description": "published standard items to change"})


class ServiceNewIn(ServiceEditIn):
    """A new service (defaults as in config.toml for the fields left out)."""

    id = String(
        required=True,
        validate=FullMatch(ID_RE, error=ID_RULE),
        metadata={"example": "paspor", "description": "unique among the services"},
    )
    prefix = Prefix(required=True)
    name = Nested(NameIn, required=True)


class ReprintIn(In):
    kiosk = Text(
        required=False,
        metadata={
            "description": "the kiosk whose printer to use (default: the one that issued it)"
        },
    )


class PreviewQuery(In):
    paper = String(
        validate=OneOf(("80", "58")),
        metadata={"description": "paper width in mm (default: the issuing kiosk's printer's)"},
    )


class VersionQuery(In):
    version = Integer(
        metadata={"description": "the catalogue version the editor loaded; 409 if it changed since"}
    )


# Staff accounts: the rules are satupintu/users.py's, written here too so that the
# OpenAPI document states them (pattern, enum, lengths) and a refusal names the field.
def Role(**kwargs: Any) -> String:  # noqa: N802
    """One of the roles."""
    return String(
        required=True,
        validate=OneOf(ROLES, error=ROLE_RULE),
        metadata={"example": "clerk"},
        **kwargs,
    )


def Password(**kwargs: Any) -> String:  # noqa: N802
    """A new password (its sessions and tokens end when it changes)."""
    return String(
        required=True,
        validate=Length(MIN_PASSWORD, MAX_PASSWORD, error=PASSWORD_RULE),
        metadata={
            "example": "kata-sandi-panjang",
            "description": (
                "also refused (400) when too easy to guess: a common password, a run "
                "like 12345678, the user name, fewer than 4 different characters, "
                "or shorter than 8 without the spaces at either end"
            ),
        },
        **kwargs,
    )


def KioskId() -> String:  # noqa: N802
    """The [[kiosks]] id a kiosk user is bound to (its printer prints what it issues)."""
    return String(
        load_default="",
        validate=Length(max=MAX_STR),
        metadata={
            "example": "K1",
            "description": "kiosk users: the [[kiosks]] id of the device, so "
            "its printer prints the tickets it issues; empty for none",
        },
    )


class UserIn(In):
    username = String(
        required=True,
        validate=FullMatch(USERNAME_RE, error=USERNAME_RULE),
        metadata={"example": "loket7"},
    )
    role = Role()
    password = Password()
    kiosk = KioskId()


class UserResetIn(In):
    role = Role()
    password = Password()
    kiosk = KioskId()


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
    place = List(
        Integer(),
        metadata={
            "description": "place in its service's line: [0 priority / 1 normal, sort key]; "
            "the waiting tickets with a smaller place are the people ahead"
        },
    )


class TicketStatusOut(TicketOut):
    people_ahead = Integer(metadata={"description": "waiting tickets called before this one"})
    estimated_wait_s = Integer(allow_none=True)
    seq = Integer(
        metadata={
            "description": "the branch seq this answer is at least as new as: "
            "line_changed moves with a larger seq are not in "
            "people_ahead yet"
        }
    )


PRINTER_STATES = ["ok", "paper_near_end", "paper_out", "cover_open", "offline", "error"]


class PrintOut(Schema):
    """What the kiosk is told about printing the ticket it just issued (printer/service.py)."""

    ticket = String()
    kiosk = String(
        allow_none=True,
        metadata={"description": "the kiosk whose printer prints it (null: not issued at a kiosk)"},
    )
    state = String(
        metadata={
            "enum": ["queued", "printed", "failed", "none"],
            "description": "failed or none: show the ticket on screen (preview, message)",
        }
    )
    preview = String(metadata={"description": "the ticket as a PNG, for the on-screen fallback"})
    printer = String(
        metadata={"description": "the printer's state when known", "enum": PRINTER_STATES}
    )
    printer_message = String(metadata={"description": "the printer's state in Indonesian"})
    message = String(metadata={"description": "failed or none: what to tell the citizen"})
    message_en = String()


class PrintStateOut(PrintOut):
    """A ticket's print (its own class: apispec warns when a nested schema is reused)."""


class ReprintOut(Schema):
    print = Nested(PrintOut)


class PrinterOut(Schema):
    """One kiosk printer's state (printer/status.py PrinterStatus)."""

    kiosk = String()
    name = String()
    type = String(metadata={"enum": ["network", "usb", "serial", "file", "cups", "agent"]})
    paper = String(metadata={"enum": ["80", "58"]})
    state = String(metadata={"enum": PRINTER_STATES})
    alert = Boolean(metadata={"description": "tickets do not print in this state"})
    warning = Boolean(metadata={"description": "prints, but see to it soon (paper near end)"})
    message = String(metadata={"description": "the state in Indonesian"})
    message_en = String()
    detail = String(metadata={"description": "the last error, in words"})
    since = Float(metadata={"description": "epoch seconds the state began"})
    updated = Float()
    seen = Float(metadata={"description": "agent printers: when the agent was last heard from"})
    printer = String(metadata={"description": "which printer, e.g. network 10.0.0.5:9100"})


class PrintersOut(Schema):
    printers = List(Nested(PrinterOut))


class IssuedOut(TicketStatusOut):
    url = String(metadata={"description": "the citizen's tracking page (QR code)"})
    print = Nested(
        PrintOut,
        allow_none=True,
        metadata={
            "description": "the print of the ticket; null if no kiosk printer is involved "
            "(not issued by a kiosk user)"
        },
    )


class ReplayedOut(Schema):
    """The response header that marks a replayed issue (POST /tickets)."""

    replayed = String(
        data_key="Idempotent-Replayed",
        metadata={
            "description": "`true` when this is the ticket an earlier request with the same "
            "Idempotency-Key made (nothing new was issued)"
        },
    )


class AssignmentOut(Schema):
    id = String()
    weight = Integer()


class CounterOut(Schema):
    id = String()
    name = String()
    state = String(metadata={"enum": ["open", "paused", "closed"]})
    services = List(Nested(AssignmentOut))
    current = Nested(TicketOut, allow_none=True)
    actions = List(
        String(),
        metadata={
            "description": (
                "what a clerk may do at this counter now (the action routes' names: open, pause, "
                "close, call-next, call, recall, start, complete, no-show, park, transfer, reprint)"
            )
        },
    )
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
    counters_assigned = Integer(
        metadata={
            "description": "counters that take the service, open or not (0: nobody can call it)"
        }
    )
    counters_total = Integer(metadata={"description": "all counters of the office"})
    source = String(
        metadata={
            "enum": ["config", "edited", "added"],
            "description": "config.toml as is, config.toml with a manager's edits, or added on "
            "the manager page (GET /services and catalogue edits only)",
        }
    )


class ServicesOut(Schema):
    version = Integer(metadata={"description": "catalogue version (managers' edits)"})
    services = List(Nested(ServiceOut))


class EditedServiceOut(ServiceOut):
    """A service after an edit (its own class: apispec warns when a nested schema is reused)."""


class ServiceEditedOut(Schema):
    version = Integer(metadata={"description": "catalogue version after the edit"})
    service = Nested(EditedServiceOut)


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


class UserOut(Schema):
    username = String()
    role = String(metadata={"enum": list(ROLES)})
    kiosk = String(allow_none=True, metadata={"description": "the kiosk it is bound to"})
    created_at = String(metadata={"format": "date-time"})


class UserRowOut(UserOut):
    """A user in the list (its own class: apispec warns when a nested schema is reused)."""


class UsersOut(Schema):
    users = List(Nested(UserRowOut))


# Today's figures (satupintu/report.py).
class ServiceFiguresOut(Schema):
    id = String()
    issued = Integer(metadata={"description": "tickets issued for it today"})
    waiting = Integer()
    served = Integer()
    no_show = Integer()
    cancelled = Integer()
    expired = Integer(
        metadata={
            "description": "still open when the day ended, or their "
            "service was removed from config.toml"
        }
    )
    longest_wait_s = Integer(metadata={"description": "of the tickets waiting now"})
    oldest_waiting_at = String(allow_none=True, metadata={"format": "date-time"})
    target_wait_s = Integer()
    over_target = Boolean()
    mean_wait_s = Integer(allow_none=True, metadata={"description": "issue -> call"})
    mean_service_s = Integer(allow_none=True, metadata={"description": "start -> finish"})


class TotalsOut(Schema):
    issued = Integer()
    waiting = Integer()
    served = Integer()
    no_show = Integer()
    expired = Integer()
    mean_wait_s = Integer(allow_none=True)


class AlertOut(Schema):
    service = String()
    longest_wait_s = Integer()
    target_wait_s = Integer()


class HourlyOut(Schema):
    hours = List(String(), metadata={"description": 'local hours, "09:00" ...'})
    issued = Dict(
        keys=String(),
        values=List(Integer()),
        metadata={"description": "per service id: tickets issued in each hour"},
    )
    mean_wait_s = Dict(
        keys=String(),
        values=List(Integer(allow_none=True)),
        metadata={"description": "per service id: mean wait of the tickets called in each hour"},
    )
    mean_wait_all_s = List(Integer(allow_none=True))


class StoreProblemOut(Schema):
    since = String(metadata={"format": "date-time"})
    message = String()


class ReportOut(Schema):
    day = String(metadata={"format": "date"})
    generated_at = String(metadata={"format": "date-time"})
    services = List(Nested(ServiceFiguresOut))
    totals = Nested(TotalsOut)
    alerts = List(Nested(AlertOut), metadata={"description": "services waiting over target"})
    hourly = Nested(HourlyOut)
    store_problem = Nested(
        StoreProblemOut,
        allow_none=True,
        metadata={
            "description": "writes are failing (e.g. the disk is full) since when; null if not"
        },
    )
