"""One root error and a flat list of specific ones, each with its HTTP status."""

from __future__ import annotations


class QueueError(Exception):
    """Root of every refusal the engine gives; `code` is stable for clients."""

    code = "queue_error"
    status = 400

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class BadRequest(QueueError):
    code = "bad_request"
    status = 400


class NoSuchTicket(QueueError):
    code = "no_such_ticket"
    status = 404


class NoSuchService(QueueError):
    code = "no_such_service"
    status = 404


class NoSuchCounter(QueueError):
    code = "no_such_counter"
    status = 404


class InvalidTransition(QueueError):
    code = "invalid_transition"
    status = 409


class CounterClosed(QueueError):
    code = "counter_not_open"
    status = 409


class CounterBusy(QueueError):
    code = "counter_busy"
    status = 409


class NoCurrentTicket(QueueError):
    code = "no_current_ticket"
    status = 409


class ServiceClosed(QueueError):
    code = "service_closed"
    status = 409


class CatalogueChanged(QueueError):
    """A manager edited the catalogue as it was at an older version: reload, edit again."""

    code = "catalogue_changed"
    status = 409


class QuotaFull(QueueError):
    code = "quota_full"
    status = 429


class RateLimited(QueueError):
    code = "rate_limited"
    status = 429


class Conflict(QueueError):
    """A concurrent change won the race; the engine retries the operation."""

    code = "conflict"
    status = 409
