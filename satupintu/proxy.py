"""Behind a reverse proxy: believe X-Forwarded-For/-Proto only from the configured proxies.

Behind nginx every request comes from nginx's address, so the login limits
per client address need the address nginx saw; but anyone can send the
header, so it counts only when the connection itself comes from a proxy in
`[server] trusted_proxies`. Secure cookies follow the scheme found this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import current
from .auth import session_expiry


class TrustedProxy:
    """WSGI middleware: ProxyFix (one hop) for requests from a trusted proxy, else nothing."""

    def __init__(self, app: Any, trusted: Iterable[str]):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.networks: list[IPv4Network | IPv6Network] = [
            ip_network(t, strict=False) for t in trusted
        ]

    def trusts(self, remote: str) -> bool:
        """True if `remote` (a socket address) is one of the trusted proxies."""
        try:
            address = ip_address(remote)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.networks and self.trusts(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def cookie_secure() -> bool:
    """Whether cookies set now get the Secure flag (`[server] secure_cookies`)."""
    mode = current.config().server.secure_cookies
    if mode == "auto":
        return request.is_secure  # https directly, or through a trusted proxy
    return mode == "always"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the Secure flag decided per request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure()

    def get_expiration_time(self, app: Flask, session: Any) -> datetime | None:
        """A kiosk's login cookie expires with its login (not sliding); others with the browser."""
        return session_expiry(session)


def init_proxy(app: Flask) -> None:
    """Wrap the WSGI app in TrustedProxy and decide Secure cookies per request."""
    config = current.config.get(app)
    app.wsgi_app = TrustedProxy(app.wsgi_app, config.server.trusted_proxies)  # type: ignore[method-assign]
    app.session_interface = SessionInterface()
