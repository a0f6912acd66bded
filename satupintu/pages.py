"""Shared page plumbing and the core pages: home, login and the citizen's ticket page.

The role pages (kiosk/, display/, counter/, manager/) extend `base.html` and
use `static/js/satupintu.js`; everything they show comes from `/api/v1` and
the Socket.IO events, like any other client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import current, events
from .access import find_ticket
from .config import Service, Text
from .errors import NoSuchService, NoSuchTicket
from .i18n import LANGUAGES, current_lang, init_i18n
from .printjobs import MESSAGES

bp = Blueprint("pages", __name__)

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def lang_switch() -> Markup:
    """Links to this same page in the other languages (keeps the query string)."""
    here = current_lang()
    links = []
    for lang in LANGUAGES:
        if lang == here:
            continue
        args: dict[str, Any] = {**request.args.to_dict(), "lang": lang}
        href = url_for(request.endpoint or "pages.home", **(request.view_args or {}), **args)
        links.append(
            f'<a class="lang-switch" href="{escape(href)}" hreflang="{lang}" lang="{lang}" '
            f'data-lang="{lang}">{escape(LANGUAGE_NAMES[lang])}</a>'
        )
    return Markup("".join(links))


def common_strings() -> dict[str, str]:
    """Texts every page script may show (time spans, connection state, errors)."""
    return {
        "offline": _("TIDAK TERHUBUNG: menyambung ulang…"),
        "online": _("Terhubung"),
        "error": _("Terjadi kesalahan. Coba lagi."),
        "network_error": _("Server tidak dapat dihubungi. Periksa jaringan."),
        "minutes": _("± {n} menit"),
        "under_a_minute": _("kurang dari 1 menit"),
        "no_estimate": _("belum ada perkiraan"),
        "closed": _("Tutup"),
        # Refusals by error code; the English page shows the server's own message.
        "err_counter_not_open": _("Loket belum dibuka. Buka loket terlebih dahulu."),
        "err_counter_busy": _(
            "Masih ada tiket di loket ini. Selesaikan, tandai tidak hadir, "
            "tunda, atau alihkan dulu."
        ),
        "err_no_current_ticket": _("Tidak ada tiket di loket ini."),
        "err_invalid_transition": _("Tindakan ini tidak bisa untuk tiket dengan status ini."),
        "err_ticket_expired": _("Tiket ini dari hari lain. Tiket hanya berlaku pada hari diambil."),
        "err_no_config_version": _(
            "Layanan ini ditambahkan di halaman manajer dan tidak punya "
            "versi config.toml. Nonaktifkan saja."
        ),
        "err_self_lockout": _(
            "Anda tidak dapat mencabut akses manajer Anda sendiri. Minta manajer lain."
        ),
        "err_no_such_ticket": _("Tiket tidak ditemukan."),
        "err_no_such_counter": _("Loket tidak ditemukan."),
        "err_no_such_service": _("Layanan tidak ditemukan."),
        "err_unauthorized": _("Silakan masuk terlebih dahulu."),
        "wrong_role": _("Halaman ini hanya untuk {roles}. Anda masuk sebagai {name} ({role})."),
        "wrong_role_login": _("Masuk sebagai pengguna lain"),
        "wrong_role_home": _("Ke halaman Anda"),
        "page_for_manager": _("manajer"),
        "page_for_clerk": _("petugas loket"),
        "page_for_kiosk": _("kios"),
        "or": _("atau"),
        "err_forbidden": _("Peran Anda tidak diizinkan melakukan ini."),
        "err_conflict": _("Antrean sedang sibuk. Coba lagi."),
        "err_quota_full": _("Kuota layanan ini untuk hari ini sudah habis."),
        "err_rate_limited": _("Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi."),
        "err_service_closed": _("Layanan ini sedang tidak menerima antrean."),
    }


def staff_strings() -> dict[str, str]:
    """Counter states, ticket statuses, printer states and reprint outcomes: one wording
    for the staff pages (counter, manager) that both show them."""
    return {
        "state_open": _("Buka"),
        "state_paused": _("Istirahat"),
        "state_closed": _("Tutup"),
        "status_called": _("Dipanggil"),
        "status_serving": _("Sedang dilayani"),
        # printer states: the API's own words for them (printjobs.MESSAGES)
        **{
            f"printer_{state.value}": texts[1 if current_lang() == "en" else 0]
            for state, texts in MESSAGES.items()
        },
        "reprint_sent": _("Tiket {number} dikirim ke printer {kiosk} untuk dicetak ulang."),
        "reprint_failed": _("Tiket {number} tidak dapat dicetak ulang di {kiosk}: {state}."),
    }


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    return {
        "office": current.engine().config.office,
        "lang_switch": lang_switch,
        "common_strings": common_strings,
        "staff_strings": staff_strings,
        "live_events": list(events.ALL),
        "strings": None,
    }


@bp.get("/")
def home() -> str:
    """Links to every face of the system (for set-up; each device opens its own)."""
    return render_template("home.html")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The icon, for browsers and tools that ask for /favicon.ico whatever the page says."""
    return send_from_directory(
        str(Path(__file__).parent / "static" / "img"),
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=86400,
    )


@bp.get("/login")
def login() -> str:
    """Staff sign-in; the page posts to /api/v1/auth/session and goes to ?next=."""
    return render_template("login.html", next=safe_next(request.args.get("next", "")))


def safe_next(target: str) -> str:
    """Only same-site paths, so the login page cannot be used to send people elsewhere.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    `/\t/evil.example` becomes `//evil.example` (another site): any control
    character, whitespace or backslash refuses the target, as does anything a URL
    parser reads with a scheme or a host.
    """
    if not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(
        ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch == "\\" for ch in target
    ):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@bp.get("/t/<ticket_id>")
def ticket_page(ticket_id: str) -> str:
    """The citizen's live ticket page (from the QR code; no login)."""
    engine = current.engine()
    engine.close_days_if_due()  # a ticket of a closed day shows as expired, not waiting
    try:
        # Even for staff: the page is the citizen's, opened from the QR code's id.
        ticket = find_ticket(engine, ticket_id, staff=False)
    except NoSuchTicket:
        abort(404)
    try:
        service = engine.service(ticket.service)
        removed = False
    except NoSuchService:
        # Removed from config.toml since: the ticket ended (config_apply.py); say so
        # in the citizen's words instead of an English 404.
        service = Service(ticket.service, ticket.number[:1], Text(ticket.service, ""))
        removed = True
    return render_template(
        "ticket.html", ticket=ticket, service=service, removed=removed, lang=current_lang()
    )


def init_pages(app: Flask) -> None:
    """Languages, the core pages and the four role blueprints."""
    from counter import bp as counter_bp
    from display import bp as display_bp
    from kiosk import bp as kiosk_bp
    from manager import bp as manager_bp

    init_i18n(app)
    for blueprint in (bp, kiosk_bp, display_bp, counter_bp, manager_bp):
        app.register_blueprint(blueprint)
