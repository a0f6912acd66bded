"""Announcement texts with the ticket number in words, in Indonesian and English."""

from __future__ import annotations

import re

from num2words import num2words

TEMPLATES = {
    "id": "Nomor antrean {letter} {number}, silakan menuju {counter}",
    "en": "Ticket number {letter} {number}, please go to {counter}",
}


def _words(text: str, lang: str) -> str:
    return re.sub(r"\d+", lambda m: num2words(int(m.group()), lang=lang), text)


def announcement(number: str, counter_name: str, lang: str = "id") -> str:
    """'A012' at 'Loket 3' -> 'Nomor antrean A dua belas, silakan menuju Loket tiga'."""
    letter, digits = number[:1], number[1:]
    return TEMPLATES[lang].format(
        letter=letter,
        number=num2words(int(digits), lang=lang) if digits.isdigit() else digits,
        counter=_words(counter_name, lang),
    )


def announcements(number: str, counter_name: str) -> dict[str, str]:
    """The announcement in every supported language."""
    return {lang: announcement(number, counter_name, lang) for lang in TEMPLATES}
