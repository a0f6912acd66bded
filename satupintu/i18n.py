"""Page languages: Indonesian by default, English on request (`?lang=en`, kept in a cookie).

Every visible string in the templates goes through `_()`; strings the
browser scripts need are rendered by the template into a JSON block, so the
scripts never hold user-facing text of their own. The `en` catalogue lives in
`satupintu/translations/` (see README "Translations").
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

from . import current
from .proxy import cookie_secure

LANGUAGES = ("id", "en")
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()


def _requested() -> str | None:
    """The language asked for by ?lang=, if it is one we have."""
    lang = request.args.get("lang", "")
    return lang if lang in LANGUAGES else None


def select_locale() -> str:
    """?lang= first, then the cookie, then the office's default language."""
    lang = _requested() or request.cookies.get(COOKIE, "")
    if lang in LANGUAGES:
        return lang
    config = current.config.find()
    return config.office.language if config is not None else "id"


def current_lang() -> str:
    """The language of the current request: 'id' or 'en'."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "id"


def _remember(response: Response) -> Response:
    """Keep an explicit ?lang= choice in a cookie so the next page uses it too."""
    lang = _requested()
    if lang and request.cookies.get(COOKIE) != lang:
        response.set_cookie(
            COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax", secure=cookie_secure()
        )
    return response


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel to the app with our locale selector and template helpers."""
    babel.init_app(app, default_locale="id", locale_selector=select_locale)
    app.after_request(_remember)
    app.jinja_env.globals.update(current_lang=current_lang, languages=LANGUAGES)
