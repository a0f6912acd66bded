"""Core pages: language choice, the citizen's ticket page, login, the translation catalogue."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pages(app):
    """A browser-like client (keeps cookies) for the HTML pages."""
    return app.test_client()


def test_pages_are_indonesian_by_default(pages):
    html = pages.get("/kiosk").get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Pilih layanan" in html
    assert 'href="/kiosk?lang=en"' in html  # the switch keeps the page


def test_lang_en_switches_and_the_cookie_keeps_it(pages):
    first = pages.get("/kiosk?lang=en")
    assert "lang=en" in first.headers["Set-Cookie"]
    assert "Choose a service" in first.get_data(as_text=True)
    html = pages.get("/display").get_data(as_text=True)  # no ?lang: the cookie decides
    assert '<html lang="en">' in html and "Previous calls" in html
    back = pages.get("/display?lang=id").get_data(as_text=True)
    assert "Panggilan sebelumnya" in back


def test_unknown_language_falls_back_to_indonesian(pages):
    response = pages.get("/kiosk?lang=xx")
    assert "Set-Cookie" not in response.headers
    assert '<html lang="id">' in response.get_data(as_text=True)


def test_page_texts_for_scripts_are_translated_too(pages):
    html = pages.get("/counter?lang=en").get_data(as_text=True)
    assert (
        '"nobody_waiting": "Nobody is waiting for this counter\'s services."' in html
        or "Nobody is waiting for this counter\\u0027s services." in html
    )


def test_citizen_page_shows_ticket_and_published_standard(pages, kiosk):
    ticket = kiosk.take_ticket("pbg")
    html = pages.get(f"/t/{ticket['id']}").get_data(as_text=True)
    assert ticket["number"] in html
    assert "Persetujuan Bangunan Gedung (PBG)" in html
    assert "Retribusi PBG sesuai Perda DKI 1/2024" in html  # not free: the fee itself
    assert "Tanya PTSP 1500164" in html  # complaint channel
    assert f'data-ticket="{ticket["id"]}"' in html


def test_citizen_page_says_gratis_for_free_services(pages, kiosk):
    ticket = kiosk.take_ticket("ktp")
    html = pages.get(f"/t/{ticket['id']}").get_data(as_text=True)
    assert '<p class="free">GRATIS</p>' in html


def test_citizen_page_opens_only_by_the_unguessable_id(pages, kiosk):
    ticket = kiosk.take_ticket("ktp")
    assert pages.get(f"/t/{ticket['number']}").status_code == 404
    assert pages.get("/t/nosuchticket1").status_code == 404


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/counter?counter=2", "/counter?counter=2"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("/\x00/evil.example/", "/"),
        ("/ /evil.example/", "/"),
        ("/\u0085/evil.example/", "/"),
    ],
)
def test_login_page_only_returns_to_this_site(pages, target, expected):
    html = pages.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert f"const next = {expected!r}".replace("'", '"') in html


def test_home_links_every_face(pages):
    html = pages.get("/").get_data(as_text=True)
    for path in ("/kiosk", "/display", "/counter", "/manager"):
        assert f'href="{path}"' in html


def test_translations_are_complete_and_compiled():
    module = runpy.run_path(str(ROOT / "scripts" / "translations.py"), run_name="check")
    assert module["problems"]() == []


def page_strings(html: str) -> dict[str, str]:
    """The texts a page hands its scripts (base.html's #strings)."""
    found = re.search(r'<script id="strings" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no #strings on the page"
    return json.loads(found.group(1))


@pytest.mark.parametrize("lang, text", [("id", "TIDAK TERHUBUNG"), ("en", "OFFLINE")])
def test_every_page_has_one_offline_badge_from_base_html(pages, kiosk, lang, text):
    ticket = kiosk.take_ticket("ktp")
    for path in ("/kiosk", "/display", "/counter", "/manager", f"/t/{ticket['id']}", "/login"):
        html = pages.get(f"{path}?lang={lang}").get_data(as_text=True)
        assert html.count('id="offline-badge"') == 1, path
        badge = html.split('id="offline-badge"', 1)[1].split("</div>", 1)[0]
        assert text in badge and page_strings(html)["offline"] in badge, path


@pytest.mark.parametrize("lang", ["id", "en"])
def test_counter_and_manager_label_states_alike(pages, lang):
    counter = page_strings(pages.get(f"/counter?lang={lang}").get_data(as_text=True))
    board = page_strings(pages.get(f"/manager?lang={lang}").get_data(as_text=True))
    shared = [k for k in counter if k.startswith(("state_", "status_", "printer_"))]
    assert {"state_paused", "status_called", "status_serving", "printer_paper_out"} <= set(shared)
    assert {k: board[k] for k in shared} == {k: counter[k] for k in shared}


def test_pages_listen_for_the_events_events_py_names(pages):
    from satupintu import events

    for path in ("/kiosk", "/display", "/counter", "/manager"):
        html = pages.get(path).get_data(as_text=True)
        found = re.search(
            r'<script id="live-events" type="application/json">(.*?)</script>', html, re.S
        )
        assert found and json.loads(found.group(1)) == list(events.ALL), path
    # ... and satupintu.js keeps no copy of its own
    script = (ROOT / "satupintu" / "static" / "js" / "satupintu.js").read_text(encoding="utf-8")
    assert 'getElementById("live-events")' in script
    assert '"ticket_issued"' not in script and '"queue_updated"' not in script


@pytest.mark.parametrize("lang, index", [("id", 0), ("en", 1)])
def test_staff_pages_word_printer_states_as_the_api_does(pages, lang, index):
    from satupintu.printjobs import MESSAGES

    strings = page_strings(pages.get(f"/manager?lang={lang}").get_data(as_text=True))
    assert {s.value: strings[f"printer_{s.value}"] for s in MESSAGES} == {
        s.value: texts[index] for s, texts in MESSAGES.items()
    }
