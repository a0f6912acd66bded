"""Keep the page translations in step with the templates.

    python scripts/translations.py          extract -> update en .po -> compile .mo
    python scripts/translations.py --check  fail if a text is untranslated or the .mo is stale

Indonesian is the source language (the msgids); English lives in
satupintu/translations/en/LC_MESSAGES/messages.po, which translators edit.
The compiled .mo is committed so a fresh checkout needs no build step for it.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "satupintu" / "translations"
POT = DIR / "messages.pot"
LANGS = ("en",)
KEYWORDS = {"_": None, "gettext": None}


def po_path(lang: str) -> Path:
    return DIR / lang / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every translatable text in the pages' Python and templates."""
    with (DIR / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="satupintu", version="0.1")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [], auto_comments=comments, context=context)
    return catalog


def compiled(po: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, po)
    return out.getvalue()


def problems() -> list[str]:
    """What is out of date: missing or untranslated texts, stale .mo files."""
    found = []
    source = {m.id for m in extract() if m.id}
    for lang in LANGS:
        with po_path(lang).open("rb") as fh:
            po = read_po(fh, locale=lang)
        translated = {m.id for m in po if m.id and m.string and "fuzzy" not in m.flags}
        for text in sorted(source - translated):
            found.append(f"{lang}: no translation for {text!r}")
        mo = po_path(lang).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(po):
            found.append(f"{lang}: {mo.relative_to(ROOT)} is stale: run scripts/translations.py")
    return found


def update() -> None:
    """Extract, merge into each language's .po (new texts empty), compile the .mo files."""
    template = extract()
    with POT.open("wb") as fh:
        write_po(fh, template, no_location=True, sort_output=True, width=100)
    for lang in LANGS:
        with po_path(lang).open("rb") as fh:
            po = read_po(fh, locale=lang)
        po.update(template, no_fuzzy_matching=True)
        po.obsolete.clear()
        with po_path(lang).open("wb") as fh:
            write_po(fh, po, no_location=True, sort_output=True, width=100)
        with po_path(lang).with_suffix(".mo").open("wb") as fh:
            write_mo(fh, po)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report problems")
    args = parser.parse_args()
    if not args.check:
        update()
    issues = problems()
    for issue in issues:
        print(issue, file=sys.stderr)
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
