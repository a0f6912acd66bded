"""The login page in a real browser: where it sends you afterwards, and logging out."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.serverproc import PASSWORD

# What browsers do with these is the attack: they drop tabs and newlines from a URL
# and read a backslash as a slash, so each becomes //evil.example/ (another site).
HOSTILE = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/\\evil.example/",
    "\\/evil.example/",
    "//evil.example/",
    "https://evil.example/",
]


def log_in_on_page(devices, target: str):
    page = devices.open("/login?next=" + quote(target, safe=""))
    page.fill("#username", "clerk1")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_leaves_the_site(devices, server, target):
    page = log_in_on_page(devices, target)
    assert urlsplit(page.url).netloc == urlsplit(server.url).netloc, page.url
    assert urlsplit(page.url).path == "/"


def test_login_returns_to_the_page_that_sent_you(devices, server):
    page = log_in_on_page(devices, "/counter?counter=2")  # the positive control
    assert page.url == f"{server.url}/counter?counter=2"
