"""What a changed config.toml means for the stored state; applied on every start.

- A service added to config.toml reaches every counter that config.toml says
  takes all services (no `services` key), with weight 1. "Added" means: not
  among the config.toml services the last start applied (kept in the store);
  on the first start of a store that has no such record, not on any counter.
  Managers' live assignments are otherwise kept: a service a manager took
  off a counter does not come back on a restart.
- A service gone from the catalogue (removed from config.toml, and not a
  service added on the manager page) is taken off every stored counter, and
  today's tickets still open for it end as `expired`, so nobody waits for a
  line no counter can call; their phones say the service is no longer
  offered. Earlier days' tickets are closed by the day close anyway.

Every start applies it (several processes on Redis too: the counter writes
are version-guarded, the expiry ends each ticket once), and logs each change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .config import Config
from .counter_ops import CounterOps
from .day_close import DayCloser
from .events import Event
from .model import OPEN, Counter, local_day
from .operation import attempt
from .store.base import Change, Store

log = logging.getLogger(__name__)


def apply_config(
    config: Config,
    store: Store,
    counter_ops: CounterOps,
    day_closer: DayCloser,
    offered: set[str],
    now: float,
    publish: Callable[[list[Event]], object],
) -> list[str]:
    """Bring the stored counters and tickets in line with config.toml; what was done.

    `offered`: the catalogue's service ids (config.toml and the managers' additions);
    `publish`: the engine's, for the counter_updated events of the counters changed.
    """
    branch = config.office.branch
    config_ids = list(config.service_ids)
    known = store.config_services(branch)
    if known is None:  # first start with this record: what the counters hold is known
        known = sorted({s for c in counter_ops.all() for s in c.service_ids})
    added = [s for s in config_ids if s not in known]
    said: list[str] = []

    def op() -> list[str]:
        lines = []
        pairs: list[tuple[Counter | None, Counter]] = []
        for counter in counter_ops.all():
            cfg = config.counter(counter.id)
            takes_all = cfg is not None and not cfg.services
            new = [(s, w) for s, w in counter.services if s in offered]
            gone = [s for s, _ in counter.services if s not in offered]
            more = [s for s in added if takes_all and s not in counter.service_ids]
            new += [(s, 1) for s in more]
            if not gone and not more:
                continue
            pairs.append((counter, counter.evolve(services=tuple(new))))
            if more:
                lines.append(
                    f"config.toml: {counter.name} takes all services, so it now "
                    f"also takes {', '.join(more)}"
                )
            if gone:
                lines.append(
                    f"config.toml: {counter.name} no longer takes "
                    f"{', '.join(gone)} (no such service any more)"
                )
            if not new:
                lines.append(
                    f"config.toml: {counter.name} takes no service now; "
                    "assign some on the manager page"
                )
        if pairs:
            seqs = store.commit(branch, Change(counters=pairs, seq_count=len(pairs)))
            publish(
                [
                    counter_ops.events.counter(seq, new, None)
                    for seq, (_, new) in zip(seqs, pairs, strict=True)
                ]
            )
        return lines

    said += attempt(store, op)
    today = local_day(now, config.office.tz)
    orphans = [
        t for t in store.day_tickets(branch, today) if t.status in OPEN and t.service not in offered
    ]
    if orphans:
        ended = day_closer.expire(orphans, lambda t: now)
        services = ", ".join(sorted({t.service for t in orphans}))
        said.append(
            f"config.toml: {ended} open tickets of today for {services} (no such "
            "service any more) ended as expired"
        )
    store.put_config_services(branch, config_ids)
    for line in said:
        log.log(logging.WARNING if "no service now" in line else logging.INFO, "%s", line)
    return said
