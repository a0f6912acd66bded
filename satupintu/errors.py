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


class NoSuchKiosk(QueueError):
    code = "no_such_kiosk"
    status = 404


class KioskRequired(QueueError):
    """A reprint of a ticket no kiosk issued must name the kiosk whose printer to use."""

    code = "kiosk_required"
    status = 409


class InvalidTransition(QueueError):
    """The transition table (model.TRANSITIONS) does not allow this action from the
    ticket's status."""

    code = "invalid_transition"
    status = 409


class TicketExpired(QueueError):
    """The ticket is from another day: a ticket is valid on its own day only."""

    code = "ticket_expired"
    status = 409


class CounterNotOpen(QueueError):
    """The counter is paused or closed: it calls nobody until opened."""

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


class Duplicate(QueueError):
    """The id or prefix is another service's already."""

    code = "duplicate"
    status = 409


class CatalogueChanged(QueueError):
    """A manager edited the catalogue as it was at an older version: reload, edit again."""

    code = "catalogue_changed"
    status = 409


class IdempotencyKeyReused(QueueError):
    """An Idempotency-Key sent again today with a different request."""

    code = "idempotency_key_reused"
    status = 422


class QuotaFull(QueueError):
    code = "quota_full"
    status = 429


class RateLimited(QueueError):
    code = "rate_limited"
    status = 429


class Unauthorized(QueueError):
    """No or bad credentials."""

    code = "unauthorized"
    status = 401


class InvalidCredentials(Unauthorized):
    """Wrong username or password."""

    code = "invalid_credentials"


class Forbidden(QueueError):
    """The user's role may not do this."""

    code = "forbidden"
    status = 403


class NotFound(QueueError):
    """No such route or resource."""

    code = "not_found"
    status = 404


class UnsupportedMediaType(QueueError):
    """The body is not JSON."""

    code = "unsupported_media_type"
    status = 415


class NoConfigVersion(QueueError):
    """A service added on the manager page has no config.toml version to reset to."""

    code = "no_config_version"
    status = 409


class SelfLockout(QueueError):
    """A manager may not remove their own manager access (another manager may)."""

    code = "self_lockout"
    status = 409


class UserExists(QueueError):
    """A user of that name exists already."""

    code = "user_exists"
    status = 409


class NoSuchUser(QueueError):
    """No user of that name."""

    code = "no_such_user"
    status = 404


class QueueBusy(QueueError):
    """An operation kept losing races to concurrent changes (operation.attempt gave up).

    The store's own lost-race signal, which the engine retries, is
    store.base.ChangedMeanwhile: it never reaches a client.
    """

    code = "conflict"
    status = 409
