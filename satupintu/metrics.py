"""Prometheus metrics: request latency per route template, queue counts, sockets, printers.

Counters and histograms live in this process (or, under `satupintu serve`,
in prometheus_client's multiprocess files under `[metrics] dir`, so any of
several serve processes on a machine answers /metrics for all of them).
What is shared state anyway (waiting tickets, printer states) is read from
the store at scrape time. Labels are route templates and service ids, never
a URL, a ticket id or a name.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from . import events as ev

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created samples only add noise to every scrape

REQUEST_SECONDS = Histogram(
    "satupintu_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ISSUED = Counter("satupintu_tickets_issued_total", "Tickets issued", ["service"])
CALLED = Counter(
    "satupintu_tickets_called_total", "Tickets called (recalls not counted)", ["service"]
)
COMPLETED = Counter("satupintu_tickets_completed_total", "Tickets served to the end", ["service"])
STORE_ERRORS = Counter(
    "satupintu_store_errors_total",
    "Requests answered 503 because the store was unreachable or full",
    ["backend"],
)
SOCKETS = Gauge(
    "satupintu_sockets_connected",
    "Connected Socket.IO clients by room kind",
    ["room"],
    multiprocess_mode="livesum",
)


def multiprocess_mode() -> bool:
    """True when counters go to prometheus_client's multiprocess files."""
    return bool(os.environ.get(MULTIPROC_ENV))


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one HTTP request under its route template."""
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


def on_events(events: list[ev.Event]) -> None:
    """Engine listener: count issued, called and completed tickets per service."""
    for event in events:
        ticket = event.data.get("ticket")
        if not isinstance(ticket, dict):
            continue
        service = str(ticket.get("service", ""))
        if event.name == ev.TICKET_ISSUED:
            ISSUED.labels(service).inc()
        elif event.name == ev.TICKET_CALLED and not event.data.get("recall"):
            CALLED.labels(service).inc()
        elif event.name == ev.TICKET_UPDATED and ticket.get("status") == "done":
            COMPLETED.labels(service).inc()


def count_sockets(server: Any) -> None:
    """Set the sockets gauge from this process's Socket.IO rooms (by kind: display, ticket ...)."""
    rooms = getattr(getattr(server, "manager", None), "rooms", {}).get("/", {})
    sids = set(rooms.get(None, {}))
    counts: dict[str, int] = {"all": len(sids)}
    for room, members in list(rooms.items()):
        if room is None or room in sids or not isinstance(room, str):
            continue  # every client's own room
        kind = room.partition(":")[0]
        counts[kind] = counts.get(kind, 0) + len(members)
    for kind in set(counts) | _seen_kinds:
        SOCKETS.labels(kind).set(counts.get(kind, 0))
    _seen_kinds.update(counts)


_seen_kinds: set[str] = set()


class StoreCollector(Collector):
    """Waiting tickets per service and printer states, read from the store when scraped."""

    def __init__(self, engine: Any):
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "satupintu_store_up", "1 if the store answered this scrape, 0 if it did not"
        )
        try:  # read everything first: a store that is down still leaves a useful scrape
            counts = self.engine.store.waiting_counts(self.engine.branch, self.engine.today())
            statuses = self.engine.store.printer_statuses(self.engine.branch)
        except Exception:  # noqa: BLE001 - reported as satupintu_store_up 0
            log.warning("metrics: the store did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        waiting = GaugeMetricFamily(
            "satupintu_tickets_waiting", "Tickets waiting now", labels=["service"]
        )
        for service in self.engine.config.service_ids:
            waiting.add_metric([service], counts.get(service, 0))
        for service, n in counts.items():
            if service not in self.engine.config.service_ids:  # added on the manager page
                waiting.add_metric([service], n)
        yield waiting
        printers = GaugeMetricFamily(
            "satupintu_printer_state",
            "1 for each kiosk printer's current state",
            labels=["kiosk", "state"],
        )
        ready = GaugeMetricFamily(
            "satupintu_printer_ready", "1 if the kiosk printer prints", labels=["kiosk"]
        )
        for status in statuses:
            printers.add_metric([status.kiosk, status.state.value], 1)
            ready.add_metric([status.kiosk], 1 if status.state.prints else 0)
        yield printers
        yield ready
        stamp = GaugeMetricFamily("satupintu_scrape_timestamp_seconds", "When this was read")
        stamp.add_metric([], time.time())
        yield stamp


def exposition(engine: Any, socket_server: Any) -> tuple[bytes, str]:
    """The /metrics body and content type: this process (or all of them) plus the store."""
    count_sockets(socket_server)
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUEST_SECONDS, ISSUED, CALLED, COMPLETED, STORE_ERRORS, SOCKETS):
            registry.register(collector)
    registry.register(StoreCollector(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


__all__ = ["REGISTRY", "exposition", "observe_request", "on_events"]
