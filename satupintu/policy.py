"""Which waiting ticket a counter calls next: the one routing policy for every store.

Priority tickets (UU 25/2009 Pasal 29 groups) come first, oldest first, but a
counter that has called `max_streak` priority tickets in a row takes the next
ordinary ticket if there is one (anti-starvation). Ordinary tickets are then
chosen among the heads of the counter's services by the branch policy:

- fifo: the ticket that has waited longest across all the counter's services;
- sla: the largest wait / target-wait ratio;
- weighted: smooth weighted round-robin over the services that have someone
  waiting (weights 2:1 give KTP, KTP, permit, ...), remembered per counter.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Counter, Routing, Ticket

Heads = dict[str, tuple[Ticket | None, Ticket | None]]


@dataclass(frozen=True)
class Choice:
    ticket: Ticket
    routing: Routing  # the counter's routing memory after this call


def _oldest(tickets: list[Ticket]) -> Ticket:
    return min(tickets, key=lambda t: (t.sort_key, t.id))


def choose(
    policy: str,
    counter: Counter,
    heads: Heads,
    targets: dict[str, float],
    now: float,
    max_streak: int,
) -> Choice | None:
    """Pick the next ticket for `counter` from the heads of its services' lines."""
    assigned = [s for s in counter.service_ids if s in heads]
    priority = [t for s in assigned if (t := heads[s][0]) is not None]
    ordinary = [t for s in assigned if (t := heads[s][1]) is not None]
    routing = counter.routing
    if priority and (routing.priority_streak < max_streak or not ordinary):
        return Choice(_oldest(priority), Routing(routing.priority_streak + 1, routing.credits))
    if not ordinary:
        return None
    if policy == "sla":
        ticket = max(
            ordinary,
            key=lambda t: ((now - t.issued_at) / targets.get(t.service, 900.0), -t.sort_key),
        )
        return Choice(ticket, Routing(0, routing.credits))
    if policy == "weighted":
        return _weighted(counter, heads, ordinary)
    return Choice(_oldest(ordinary), Routing(0, routing.credits))


def _weighted(counter: Counter, heads: Heads, ordinary: list[Ticket]) -> Choice:
    """Smooth weighted round-robin (as nginx does it) over services with someone waiting."""
    eligible = [(s, w) for s, w in counter.services if heads.get(s, (None, None))[1] is not None]
    credits = {s: counter.routing.credits.get(s, 0) for s, _ in counter.services}
    total = 0
    for service, weight in eligible:
        credits[service] += weight
        total += weight
    best = max(eligible, key=lambda sw: credits[sw[0]])[0]  # max keeps the first on ties
    credits[best] -= total
    ticket = heads[best][1]
    assert ticket is not None
    return Choice(ticket, Routing(0, credits))
