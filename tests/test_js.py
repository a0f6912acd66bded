"""The pages' scripts parse: scripts/check-js.mjs over every static .js file, with Node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUR_SCRIPTS = sorted(
    path
    for pkg in ("satupintu", "kiosk", "display", "counter", "manager", "printer")
    for path in (ROOT / pkg / "static").rglob("*.js")
    if "vendor" not in path.parts
)


def check_js(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node not found: apt-get install nodejs (make test does)"
    return subprocess.run(
        [node, str(ROOT / "scripts" / "check-js.mjs"), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_page_script_parses():
    assert len(OUR_SCRIPTS) >= 9  # satupintu.js, ticket.js and the role pages' scripts
    result = check_js()
    assert result.returncode == 0, result.stdout + result.stderr
    checked = int(result.stdout.split()[1])
    assert checked >= len(OUR_SCRIPTS)  # the vendored libraries are checked too, when built


def test_the_check_catches_a_syntax_error(tmp_path: Path):
    broken = tmp_path / "broken.js"
    broken.write_text("(function () {\n  const x = {;\n})();\n", encoding="utf-8")
    fine = tmp_path / "fine.js"
    # A classic script may do what an ES module may not (sloppy mode): still fine.
    fine.write_text("var o = {a: 1};\nwith (o) { a = 2; }\n", encoding="utf-8")
    result = check_js(broken, fine)
    assert result.returncode == 1
    assert "broken.js: SyntaxError" in result.stderr
    assert "fine.js" not in result.stderr
    assert "checked 2 scripts, 1 with errors" in result.stdout
