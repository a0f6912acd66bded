"""Redis store: state shared by several server processes (and machines).

The atomic writes (`issue`, `commit`, seeding a counter) are Lua scripts in
`scripts.py`; everything else is plain reads. Concurrency is optimistic: the
engine reads, decides, and `commit` writes only if every record still has the
version that was read (so `atomic()` stays the base no-op).

Keys (all built by `Keys`; one prefix, default "sp"; the branch in a hash tag
so one branch lives in one cluster slot):

    sp:{main}:ticket:<id>              hash     ticket record (Ticket.to_record)
    sp:{main}:line:<day>:<service>:p   zset     waiting priority ticket ids, score sort_key
    sp:{main}:line:<day>:<service>:n   zset     waiting ordinary ticket ids, score sort_key
    sp:{main}:lines:<day>              set      services that had a line that day
    sp:{main}:num:<day>:<prefix>       string   last number handed out (A001 -> 1)
    sp:{main}:issued:<day>:<service>   string   tickets issued for the service (quota)
    sp:{main}:bynum:<day>              hash     number -> ticket id
    sp:{main}:day:<day>                set      ticket ids of the day (reports)
    sp:{main}:idem:<day>               hash     Idempotency-Key -> JSON (its ticket, at issue)
    sp:{main}:times:<day>:<service>    list     seconds at the counter, newest first
    sp:{main}:seq                      string   branch sequence number
    sp:{main}:calls                    list     calls as JSON, newest first
    sp:{main}:counter:<id>             hash     counter record (Counter.to_record)
    sp:{main}:counters                 set      counter ids
    sp:{main}:catalogue                hash     version, overrides (JSON): managers' service edits
    sp:{main}:config_services          string   JSON list: config.toml's services last applied
    sp:{main}:schema                   string   schema version of these keys (migrations.py)
    sp:{main}:schema:lock              string   held while an upgrade runs (SET NX EX)
    sp:{main}:print:job:<id>           hash     print job (PrintJob.to_record)
    sp:{main}:print:pending:<kiosk>    zset     the kiosk's pending job ids, score created
    sp:{main}:print:ticket:<ticket>    set      the ticket's job ids
    sp:{main}:printer:<kiosk>          hash     printer status (PrinterStatus.to_record)
    sp:{main}:printers                 set      kiosks that have a printer status
    sp:users                           hash     username -> JSON
    sp:secrets                         hash     name -> value (HSETNX: first value wins)
    sp:hits:<key>                      zset     rate-limit hits (member -> time), expire with
                                                their window
    sp:ended:<session id>              string   a login ended by logout; expires when it would

Day-scoped keys and tickets expire DAY_TTL_S (40 days) after their last write,
long enough for monthly reports; print jobs and a ticket's job set JOB_TTL_S
(two days) after they were added; counters, the sequence, the call log, users,
secrets, the catalogue edits and printer statuses never expire. Equal
sort_keys order by ticket id (sorted-set members with equal scores sort by
member), like SQLite's `ORDER BY sort_key, id`.

Durability: production Redis must run with `appendonly yes` and
`appendfsync always`, so a ticket the kiosk was told about survives a crash or
power cut. The store checks this on start (CONFIG GET) and logs a warning if
not; a server that disables CONFIG only gets a note in the log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any, cast

import redis

from ..errors import IdempotencyKeyReused, QuotaFull
from ..model import OPEN, Call, Counter, Ticket, TicketStatus
from ..printjobs import JOB_TTL_S, JobState, PrinterStatus, PrintJob
from . import migrations, scripts
from .base import Change, ChangedMeanwhile, IdempotencyKey, Issued, Store, User
from .userswatch import UsersWatch

log = logging.getLogger(__name__)

CLIENT_NAME = "satupintu-"  # + pid: the name of every connection of a satupintu process
DAY_TTL_S = 40 * 24 * 3600  # day-scoped keys: kept 40 days for monthly reports
CALLS_KEPT = 200  # call log length (displays show the latest few)
TIMES_KEPT = 50  # service times kept per (day, service); the estimator reads 20


class Keys:
    """Every key of one branch, in one place."""

    def __init__(self, prefix: str, branch: str):
        self.base = f"{prefix}:{{{branch}}}"

    @property
    def ticket_prefix(self) -> str:
        return f"{self.base}:ticket:"

    def ticket(self, ticket_id: str) -> str:
        return f"{self.base}:ticket:{ticket_id}"

    def line(self, day: str, service: str, priority: bool) -> str:
        return f"{self.base}:line:{day}:{service}:{'p' if priority else 'n'}"

    def lines(self, day: str) -> str:
        return f"{self.base}:lines:{day}"

    def number(self, day: str, prefix: str) -> str:
        return f"{self.base}:num:{day}:{prefix}"

    def issued(self, day: str, service: str) -> str:
        return f"{self.base}:issued:{day}:{service}"

    def by_number(self, day: str) -> str:
        return f"{self.base}:bynum:{day}"

    def day(self, day: str) -> str:
        return f"{self.base}:day:{day}"

    def idempotency(self, day: str) -> str:
        return f"{self.base}:idem:{day}"

    def times(self, day: str, service: str) -> str:
        return f"{self.base}:times:{day}:{service}"

    @property
    def seq(self) -> str:
        return f"{self.base}:seq"

    @property
    def calls(self) -> str:
        return f"{self.base}:calls"

    @property
    def counter_prefix(self) -> str:
        return f"{self.base}:counter:"

    def counter(self, counter_id: str) -> str:
        return f"{self.base}:counter:{counter_id}"

    @property
    def counters(self) -> str:
        return f"{self.base}:counters"

    @property
    def catalogue(self) -> str:
        return f"{self.base}:catalogue"

    @property
    def config_services(self) -> str:
        return f"{self.base}:config_services"

    @property
    def schema(self) -> str:
        return f"{self.base}:schema"

    @property
    def schema_lock(self) -> str:
        return f"{self.base}:schema:lock"

    def print_job(self, job_id: str) -> str:
        return f"{self.base}:print:job:{job_id}"

    def print_pending(self, kiosk: str) -> str:
        return f"{self.base}:print:pending:{kiosk}"

    def print_ticket(self, ticket_id: str) -> str:
        return f"{self.base}:print:ticket:{ticket_id}"

    def printer(self, kiosk: str) -> str:
        return f"{self.base}:printer:{kiosk}"

    @property
    def printers(self) -> str:
        return f"{self.base}:printers"


class _Plan:
    """The writes of one commit, as the COMMIT script's JSON plan over indexed KEYS."""

    def __init__(self, seq_key: str, calls_key: str):
        self.keys: list[str] = [seq_key, calls_key]
        self.index: dict[str, int] = {}
        self.guards: list[list[Any]] = []
        self.messages: list[str] = []
        self.ops: dict[str, list[Any]] = {
            "hsets": [],
            "zrems": [],
            "zadds": [],
            "sadds": [],
            "times": [],
        }
        self.expire: set[int] = set()

    def k(self, key: str) -> int:
        """The 1-based KEYS index of `key`, adding it on first use."""
        if key not in self.index:
            self.keys.append(key)
            self.index[key] = len(self.keys)
        return self.index[key]

    def guard(self, key: str, version: int | None, message: str) -> None:
        self.guards.append([self.k(key), "" if version is None else str(version)])
        self.messages.append(message)

    def add(self, op: str, key: str, *args: Any, expire: bool = False) -> None:
        i = self.k(key)
        self.ops[op].append([i, *args])
        if expire:
            self.expire.add(i)

    def to_json(self, calls: list[str], seq_count: int) -> str:
        return json.dumps(
            {
                "guards": self.guards,
                **self.ops,
                "expire": sorted(self.expire),
                "calls": calls,
                "seq_count": seq_count,
                "ttl": DAY_TTL_S,
                "times_kept": TIMES_KEPT,
                "calls_kept": CALLS_KEPT,
            }
        )


def _flat(record: dict[str, str], skip: tuple[str, ...] = ()) -> list[str]:
    return [x for k, v in record.items() if k not in skip for x in (k, v)]


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _self_in(score: float | None, below: int | None) -> int:
    """1 if a ticket's own line score was counted (present, and under `below` if given)."""
    return int(score is not None and (below is None or score < below))


def service_seconds(t: Ticket) -> float:
    """Seconds a done ticket spent at the counter (from start, or from the call)."""
    return t.finished_at - (t.started_at if t.started_at > 0 else t.called_at)


class RedisStore(Store):
    """Shared store over one Redis server; thread-safe (one client, one pool)."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "sp", branch: str = "main"):
        self.prefix = prefix
        self.url = url
        self.branch = branch  # whose schema version this store keeps (and upgrades)
        # decode_responses: every reply is str, not the `bytes | str` the stubs
        # promise, hence the cast()s on reads below.
        # Every connection is named after this process, so `satupintu migrate` can see
        # other satupintu processes still using this Redis (CLIENT LIST) and refuse.
        self.redis = redis.Redis.from_url(
            url, decode_responses=True, client_name=f"{CLIENT_NAME}{os.getpid()}"
        )
        self._users = UsersWatch(self.redis, f"{prefix}:users:changed")  # see users_changed
        self._issue = self.redis.register_script(scripts.ISSUE)
        self._commit = self.redis.register_script(scripts.COMMIT)
        self._seed = self.redis.register_script(scripts.SEED_COUNTER)
        self._read_lines = self.redis.register_script(scripts.READ_LINES)
        self._read_counters = self.redis.register_script(scripts.READ_COUNTERS)
        self._put_catalogue = self.redis.register_script(scripts.PUT_CATALOGUE)
        self._hit = self.redis.register_script(scripts.HIT)
        self._add_print_job = self.redis.register_script(scripts.ADD_PRINT_JOB)
        self._finish_print_job = self.redis.register_script(scripts.FINISH_PRINT_JOB)
        self._print_job_delivered = self.redis.register_script(scripts.PRINT_JOB_DELIVERED)
        self.check_durability()
        self._mark_version()

    # -- schema versions (migrations.py) ----------------------------------------

    def _mark_version(self) -> None:
        """A Redis without the branch's version: data from before versions (1) or new (CURRENT)."""
        k = self.keys(self.branch)
        if self.redis.exists(k.schema):
            return
        legacy = self.redis.exists(
            k.seq, k.counters, k.catalogue, f"{self.prefix}:users", f"{self.prefix}:secrets"
        )
        version = migrations.BASELINE if legacy else migrations.CURRENT
        self.redis.set(k.schema, version, nx=True)  # the first process to decide wins

    def schema_version(self) -> int:
        return int(self.redis.get(self.keys(self.branch).schema) or migrations.BASELINE)

    def apply_step(self, step: migrations.Step) -> None:
        k = self.keys(self.branch)
        # One upgrader at a time; the lock expires if the upgrader dies.
        if not self.redis.set(k.schema_lock, "1", nx=True, ex=600):
            raise migrations.SchemaError(
                f"{self.url}: another process is upgrading the schema ({k.schema_lock}); "
                "wait for it, or delete that key if no upgrade is running"
            )
        try:
            if self.schema_version() != step.version - 1:
                raise migrations.SchemaError(
                    f"{self.url}: expected schema version {step.version - 1} before step "
                    f"{step.version}, found {self.schema_version()}"
                )
            pipe = self.redis.pipeline(transaction=True)
            step.redis(self.redis, pipe, k)
            pipe.set(k.schema, step.version)
            pipe.execute()
        finally:
            self.redis.delete(k.schema_lock)

    def other_clients(self) -> list[str]:
        """Names of other satupintu processes' connections to this Redis (CLIENT LIST)."""
        mine = f"{CLIENT_NAME}{os.getpid()}"
        names = {c.get("name", "") for c in self.redis.client_list()}
        return sorted(n for n in names if n.startswith(CLIENT_NAME) and n != mine)

    def location(self) -> str:
        url = re.sub(r"//[^@/]*@", "//", self.url)  # never print a password
        return f"{url} (branch {self.branch})"

    def keys(self, branch: str) -> Keys:
        return Keys(self.prefix, branch)

    def check_durability(self) -> bool:
        """Log a warning unless the server persists every write (AOF, fsync always)."""
        try:
            appendonly = self.redis.config_get("appendonly").get("appendonly")
            fsync = self.redis.config_get("appendfsync").get("appendfsync")
        except redis.ResponseError as exc:  # CONFIG renamed or disabled (managed Redis)
            log.info(
                "cannot check Redis persistence settings (%s); make sure the server "
                "runs with appendonly yes and appendfsync always",
                exc,
            )
            return False
        if appendonly != "yes" or fsync != "always":
            log.warning(
                "Redis runs with appendonly=%s appendfsync=%s: a crash can lose "
                "issued tickets; set appendonly yes and appendfsync always",
                appendonly,
                fsync,
            )
            return False
        return True

    def close(self) -> None:
        self._users.close()
        self.redis.close()
        self.redis.connection_pool.disconnect()

    # -- writes ---------------------------------------------------------------

    def seed_counters(self, counters: list[Counter]) -> None:
        for c in counters:
            k = self.keys(c.branch)
            self._seed(keys=[k.counter(c.id), k.counters], args=[c.id, *_flat(c.to_record())])

    def issue(
        self,
        draft: Ticket,
        prefix: str,
        quota: int,
        seq_count: int,
        key: IdempotencyKey | None = None,
    ) -> Issued:
        k = self.keys(draft.branch)
        day, service = draft.day, draft.service
        keys = [
            k.issued(day, draft.origin_service),
            k.number(day, prefix),
            k.seq,
            k.ticket(draft.id),
            k.line(day, service, True),
            k.line(day, service, False),
            k.by_number(day),
            k.day(day),
            k.lines(day),
            k.idempotency(day),
        ]
        fields = _flat(draft.to_record(), skip=("number", "sort_key", "version"))
        args = [
            quota,
            prefix,
            seq_count,
            DAY_TTL_S,
            draft.id,
            service,
            "1" if draft.is_priority else "0",
            key.key if key else "",
            key.fingerprint if key else "",
            *fields,
        ]
        reply = self._issue(keys=keys, args=args)
        if reply[0] == "QUOTA":
            raise QuotaFull(f"daily quota of {quota} tickets reached", service=draft.service)
        if reply[0] == "REUSED":
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used today for a different request; "
                "send a new key for a new ticket",
                field="Idempotency-Key",
            )
        if reply[0] == "REPLAY":
            earlier = self.ticket(draft.branch, reply[1])
            assert earlier is not None  # written by the same script as the key
            return Issued(earlier, int(reply[2]), int(reply[3]), [], replayed=True)
        _, number, first, last, ahead, waiting = reply
        ticket = Ticket.from_record(
            {**draft.to_record(), "number": number, "sort_key": first, "version": 1}
        )
        seqs = list(range(int(first), int(last) + 1))
        return Issued(ticket, int(ahead), int(waiting), seqs[1:])

    def commit(self, branch: str, change: Change) -> list[int]:
        bk = self.keys(branch)
        plan = _Plan(bk.seq, bk.calls)
        for old, new in change.tickets:
            self._plan_ticket(plan, old, new)
        for old_counter, counter in change.counters:
            k = self.keys(counter.branch)
            plan.guard(
                k.counter(counter.id),
                old_counter.version if old_counter else None,
                f"counter {counter.id} changed meanwhile; try again",
            )
            plan.add("hsets", k.counter(counter.id), _flat(counter.to_record()))
            plan.add("sadds", k.counters, counter.id)
        calls = [json.dumps(c.to_dict()) for c in change.calls]
        reply = self._commit(keys=plan.keys, args=[plan.to_json(calls, change.seq_count)])
        if reply[0] == "CONFLICT":
            raise ChangedMeanwhile(plan.messages[int(reply[1]) - 1])
        return list(range(int(reply[1]), int(reply[2]) + 1))

    def _plan_ticket(self, plan: _Plan, old: Ticket, new: Ticket) -> None:
        """Guard and write one ticket; leave and join lines as its status says."""
        k = self.keys(old.branch)
        key = k.ticket(old.id)
        plan.guard(key, old.version, f"ticket {old.number} changed meanwhile; try again")
        plan.add("hsets", key, _flat({**new.to_record(), "id": old.id}))
        # The guard proves the stored ticket is `old`, so its line is known.
        if old.status is TicketStatus.WAITING:
            plan.add("zrems", k.line(old.day, old.service, old.is_priority), old.id)
        if new.status is TicketStatus.WAITING:
            line = k.line(new.day, new.service, new.is_priority)
            plan.add("zadds", line, str(new.sort_key), old.id, expire=True)
            plan.add("sadds", k.lines(new.day), new.service, expire=True)
        if new.status is TicketStatus.DONE and old.status is not TicketStatus.DONE:
            plan.add(
                "times", k.times(new.day, new.service), repr(service_seconds(new)), expire=True
            )

    # -- reads ----------------------------------------------------------------

    def _tickets(self, branch: str, ids: list[str]) -> list[Ticket]:
        k = self.keys(branch)
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(k.ticket(i))
        return [Ticket.from_record(r) for r in pipe.execute() if r]

    def ticket(self, branch: str, ticket_id: str) -> Ticket | None:
        record = cast("dict[str, str]", self.redis.hgetall(self.keys(branch).ticket(ticket_id)))
        return Ticket.from_record(record) if record else None

    def ticket_by_number(self, branch: str, day: str, number: str) -> Ticket | None:
        ticket_id = cast("str | None", self.redis.hget(self.keys(branch).by_number(day), number))
        return self.ticket(branch, ticket_id) if ticket_id else None

    def counter(self, branch: str, counter_id: str) -> Counter | None:
        record = cast("dict[str, str]", self.redis.hgetall(self.keys(branch).counter(counter_id)))
        return Counter.from_record(record) if record else None

    def counters(self, branch: str) -> list[Counter]:
        k = self.keys(branch)
        reply = self._read_counters(keys=[k.counters], args=[k.counter_prefix])
        return [Counter.from_record(_pairs(r)) for r in reply]

    def _lines(self, branch: str, lines: list[str], limit: int, each: bool) -> list[list[Ticket]]:
        """Tickets at the front of `lines`, read in one atomic script."""
        reply = self._read_lines(
            keys=lines, args=[self.keys(branch).ticket_prefix, limit, "each" if each else "all"]
        )
        return [[Ticket.from_record(_pairs(r)) for r in got if r] for got in reply]

    def heads(
        self, branch: str, day: str, services: tuple[str, ...]
    ) -> dict[str, tuple[Ticket | None, Ticket | None]]:
        k = self.keys(branch)
        services = tuple(services)
        lines = [k.line(day, s, p) for s in services for p in (True, False)]
        got = self._lines(branch, lines, 1, each=True) if lines else []
        result: dict[str, tuple[Ticket | None, Ticket | None]] = {}
        for i, service in enumerate(services):
            prio, other = got[2 * i], got[2 * i + 1]
            result[service] = (prio[0] if prio else None, other[0] if other else None)
        return result

    def waiting(self, branch: str, day: str, service: str, limit: int = 50) -> list[Ticket]:
        k = self.keys(branch)
        lines = [k.line(day, service, True), k.line(day, service, False)]
        prio, other = self._lines(branch, lines, limit, each=False)
        return prio + other

    def waiting_counts(self, branch: str, day: str) -> dict[str, int]:
        k = self.keys(branch)
        services = sorted(cast("set[str]", self.redis.smembers(k.lines(day))))
        pipe = self.redis.pipeline(transaction=True)
        for s in services:
            pipe.zcard(k.line(day, s, True))
            pipe.zcard(k.line(day, s, False))
        counts = pipe.execute() if services else []
        result = {s: counts[2 * i] + counts[2 * i + 1] for i, s in enumerate(services)}
        return {s: n for s, n in result.items() if n}

    def people_ahead(self, ticket: Ticket) -> int:
        k = self.keys(ticket.branch)
        prio = k.line(ticket.day, ticket.service, True)
        other = k.line(ticket.day, ticket.service, False)
        below = f"({ticket.sort_key}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.zcount(prio, "-inf", below)
        pipe.zscore(prio, ticket.id)
        pipe.zcard(prio)
        pipe.zcount(other, "-inf", below)
        pipe.zscore(other, ticket.id)
        p_below, p_self, p_all, n_below, n_self = pipe.execute()
        # Like SQLite: waiting tickets of the service other than this one that
        # are ahead (priority: lower sort_key in the priority line; ordinary:
        # every priority ticket and lower sort_keys in the ordinary line).
        if ticket.is_priority:
            return p_below - _self_in(p_self, ticket.sort_key)
        return (p_all - _self_in(p_self, None)) + (n_below - _self_in(n_self, ticket.sort_key))

    def recent_calls(self, branch: str, limit: int = 10) -> list[Call]:
        if limit <= 0:
            return []
        rows = self.redis.lrange(self.keys(branch).calls, 0, limit - 1)
        return [Call.from_dict(json.loads(r)) for r in rows]

    def seq(self, branch: str) -> int:
        return int(self.redis.get(self.keys(branch).seq) or 0)

    def service_times(self, branch: str, day: str, service: str, limit: int = 20) -> list[float]:
        if limit <= 0:
            return []
        rows = self.redis.lrange(self.keys(branch).times(day, service), 0, limit - 1)
        return [float(r) for r in rows]

    def day_tickets(self, branch: str, day: str) -> list[Ticket]:
        ids = list(cast("set[str]", self.redis.smembers(self.keys(branch).day(day))))
        return sorted(self._tickets(branch, ids), key=lambda t: (t.sort_key, t.id))

    def open_tickets_before(self, branch: str, day: str, limit: int = 200) -> list[Ticket]:
        k = self.keys(branch)
        last = date.fromisoformat(day)
        days = [
            (last - timedelta(days=n)).isoformat() for n in range(DAY_TTL_S // 86400 + 1, 0, -1)
        ]  # oldest first
        pipe = self.redis.pipeline(transaction=False)
        for d in days:
            pipe.smembers(k.day(d))
        found: list[Ticket] = []
        open_values = {s.value for s in OPEN}
        for ids in pipe.execute():  # one day at a time, oldest first, until `limit`
            if not ids:
                continue
            ids = sorted(ids)
            statuses = self.redis.pipeline(transaction=False)
            for i in ids:
                statuses.hget(k.ticket(i), "status")
            still = [
                i
                for i, status in zip(ids, statuses.execute(), strict=True)
                if status in open_values
            ]
            found += sorted(self._tickets(branch, still), key=lambda t: (t.sort_key, t.id))
            if len(found) >= limit:
                break
        return found[:limit]

    # -- the managers' edits of the service catalogue -------------------------

    def catalogue_edits(self, branch: str) -> tuple[int, dict[str, dict[str, Any]]]:
        version, overrides = cast(
            "list[str | None]",
            self.redis.hmget(self.keys(branch).catalogue, "version", "overrides"),
        )
        if not version:
            return (0, {})
        assert overrides is not None  # PUT_CATALOGUE writes both fields together
        return int(version), json.loads(overrides)

    def put_catalogue_edits(
        self,
        branch: str,
        overrides: dict[str, dict[str, Any]],
        expected_version: int,
        seq_count: int,
    ) -> list[int]:
        k = self.keys(branch)
        reply = self._put_catalogue(
            keys=[k.catalogue, k.seq],
            args=[expected_version, json.dumps(overrides, ensure_ascii=False), seq_count],
        )
        if reply[0] == "CONFLICT":
            raise ChangedMeanwhile("the service catalogue changed meanwhile; try again")
        return list(range(int(reply[1]), int(reply[2]) + 1))

    # -- config.toml as last applied ------------------------------------------

    def config_services(self, branch: str) -> list[str] | None:
        raw = cast("str | None", self.redis.get(self.keys(branch).config_services))
        return list(json.loads(raw)) if raw else None

    def put_config_services(self, branch: str, services: list[str]) -> None:
        self.redis.set(self.keys(branch).config_services, json.dumps(services))

    # -- users and secrets ----------------------------------------------------

    def users_changed(self) -> int | None:
        return self._users.current()

    def put_user(self, user: User) -> None:
        with self.redis.pipeline() as pipe:  # MULTI: the write and its notice together
            pipe.hset(f"{self.prefix}:users", user.username, json.dumps(asdict(user)))
            pipe.publish(self._users.channel, user.username)
            pipe.execute()
        self._users.bump()

    def user(self, username: str) -> User | None:
        raw = self.redis.hget(f"{self.prefix}:users", username)
        return User(**json.loads(raw)) if raw else None

    def users(self) -> list[User]:
        rows = self.redis.hgetall(f"{self.prefix}:users")
        return [User(**json.loads(rows[name])) for name in sorted(rows)]

    def delete_user(self, username: str) -> bool:
        with self.redis.pipeline() as pipe:
            pipe.hdel(f"{self.prefix}:users", username)
            pipe.publish(self._users.channel, username)
            deleted, _ = pipe.execute()
        self._users.bump()
        return bool(deleted == 1)

    def secret(self, name: str, make: str) -> str:
        key = f"{self.prefix}:secrets"
        self.redis.hsetnx(key, name, make)
        return cast(str, self.redis.hget(key, name))  # just set if missing; never deleted

    # -- rate limits and ended sessions ----------------------------------------

    def hit(self, key: str, limit: int, window: float, now: float) -> float:
        member = f"{now!r}:{secrets.token_hex(4)}"
        reply = self._hit(
            keys=[f"{self.prefix}:hits:{key}"], args=[repr(now), repr(window), limit, member]
        )
        return float(reply)

    def clear_hits(self, key: str) -> None:
        self.redis.delete(f"{self.prefix}:hits:{key}")

    def end_session(self, session_id: str, until: float) -> None:
        ttl_ms = int((until - time.time()) * 1000)
        if ttl_ms > 0:
            with self.redis.pipeline() as pipe:  # the end and its notice (users_changed)
                pipe.set(f"{self.prefix}:ended:{session_id}", repr(until), px=ttl_ms)
                pipe.publish(self._users.channel, "")
                pipe.execute()
            self._users.bump()

    def session_ended(self, session_id: str, now: float) -> bool:
        until = self.redis.get(f"{self.prefix}:ended:{session_id}")
        return until is not None and float(cast(str, until)) > now

    # -- print jobs and printer statuses ---------------------------------------

    def add_print_job(self, branch: str, job: PrintJob) -> None:
        k = self.keys(branch)
        self._add_print_job(
            keys=[k.print_job(job.id), k.print_ticket(job.ticket), k.print_pending(job.kiosk)],
            args=[
                job.id,
                job.created,
                "1" if job.state is JobState.PENDING else "0",
                JOB_TTL_S,
                *_flat(job.to_record()),
            ],
        )

    def print_job(self, branch: str, job_id: str) -> PrintJob | None:
        rec = cast("dict[str, str]", self.redis.hgetall(self.keys(branch).print_job(job_id)))
        return PrintJob.from_record(rec) if rec else None

    def _print_jobs(self, branch: str, ids: list[str]) -> list[PrintJob]:
        k = self.keys(branch)
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(k.print_job(job_id))
        jobs = [PrintJob.from_record(rec) for rec in pipe.execute() if rec]
        return sorted(jobs, key=lambda j: (j.created, j.id))

    def pending_print_jobs(self, branch: str, kiosk: str, now: float, ttl: float) -> list[PrintJob]:
        k = self.keys(branch)
        pending = k.print_pending(kiosk)
        for old in cast("list[str]", self.redis.zrangebyscore(pending, "-inf", f"({now - ttl!r}")):
            # One FINISH each: an agent acknowledging the job meanwhile wins or loses whole.
            self._finish_print_job(
                keys=[pending, k.print_job(old)], args=[old, JobState.EXPIRED.value, "", repr(now)]
            )
        ids = cast("list[str]", self.redis.zrange(pending, 0, -1))
        return self._print_jobs(branch, ids)

    def print_job_delivered(self, branch: str, job_id: str) -> None:
        self._print_job_delivered(keys=[self.keys(branch).print_job(job_id)])

    def finish_print_job(
        self, branch: str, job_id: str, state: JobState, detail: str, now: float
    ) -> bool:
        k = self.keys(branch)
        kiosk = cast("str | None", self.redis.hget(k.print_job(job_id), "kiosk"))
        if kiosk is None:
            return False  # a job's kiosk never changes: reading it first is safe
        return bool(
            self._finish_print_job(
                keys=[k.print_pending(kiosk), k.print_job(job_id)],
                args=[job_id, state.value, detail, repr(now)],
            )
        )

    def ticket_print_jobs(self, branch: str, ticket_id: str) -> list[PrintJob]:
        ids = cast("set[str]", self.redis.smembers(self.keys(branch).print_ticket(ticket_id)))
        return self._print_jobs(branch, list(ids))

    def printer_status(self, branch: str, kiosk: str) -> PrinterStatus | None:
        rec = cast("dict[str, str]", self.redis.hgetall(self.keys(branch).printer(kiosk)))
        return PrinterStatus.from_dict(rec) if rec else None

    def printer_statuses(self, branch: str) -> list[PrinterStatus]:
        k = self.keys(branch)
        kiosks = sorted(cast("set[str]", self.redis.smembers(k.printers)))
        pipe = self.redis.pipeline(transaction=False)
        for kiosk in kiosks:
            pipe.hgetall(k.printer(kiosk))
        return [PrinterStatus.from_dict(rec) for rec in pipe.execute() if rec]

    def put_printer_status(self, branch: str, status: PrinterStatus) -> None:
        k = self.keys(branch)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            k.printer(status.kiosk), mapping={f: str(v) for f, v in status.to_record().items()}
        )
        pipe.sadd(k.printers, status.kiosk)
        pipe.execute()


__all__ = ["DAY_TTL_S", "Keys", "RedisStore"]
