"""Headless Chromium for the tests of HTML reports: the rendered DOM and a screenshot of a page.

The tests that use it skip, with a message, when no Chromium binary is on the
PATH (Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars")


def browser() -> str:
    """Path of a Chromium binary; skips the calling test when there is none."""
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("no headless browser (chromium) installed; `apt-get install -y chromium` "
                    "to run this test")
    return found


def _run(args: list[str], page: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([browser(), *_FLAGS, *args, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"chromium failed on {page}: {proc.stderr[-2000:]}"
    return proc


def rendered_dom(page: Path) -> str:
    """The DOM of ``page`` after Chromium loaded and rendered it (``--dump-dom``)."""
    return _run(["--dump-dom"], page).stdout


def screenshot(page: Path, out: Path, size: str = "1200,1600") -> Path:
    """A PNG screenshot of ``page`` (``--screenshot``), written to ``out``."""
    _run([f"--screenshot={out}", f"--window-size={size}"], page)
    return out


def image_sizes(page: Path, out: Path) -> dict[str, tuple[int, int]]:
    """The natural pixel size of every ``<img>`` of ``page`` (by id, else alt) once Chromium decoded it.

    A copy of the page with a script that writes the sizes into the DOM is
    rendered (``--dump-dom`` with a short virtual time budget, so the images
    load); an image that failed to decode has size (0, 0).
    """
    probe = ("<script>window.addEventListener('load', function () {"
             "var out = document.createElement('pre'); out.id = 'probe-sizes';"
             "out.textContent = Array.from(document.images).map(function (i) {"
             "return (i.id || i.alt) + '=' + i.naturalWidth + 'x' + i.naturalHeight; }).join(';');"
             "document.body.appendChild(out); });</script>")
    out.write_text(page.read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
                   encoding="utf-8")
    dom = _run(["--virtual-time-budget=5000", "--dump-dom"], out).stdout
    text = dom.split("<pre id=\"probe-sizes\">", 1)[1].split("</pre>", 1)[0]
    sizes = {}
    for item in filter(None, text.split(";")):
        name, wh = item.rsplit("=", 1)
        w, h = wh.split("x")
        sizes[name] = (int(w), int(h))
    return sizes


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._id = dict(attrs).get("id") or f"table{len(self.tables)}"
            self.tables[self._id] = []
        elif tag == "tr" and self._id is not None:
            self.tables[self._id].append([])
        elif tag in ("td", "th") and self._id is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._id is not None:
            self.tables[self._id][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(dom: str) -> dict[str, list[list[str]]]:
    """Every ``<table>`` of an HTML text, by its id: the rows (header row first) of cell texts."""
    parser = _Tables()
    parser.feed(dom)
    return parser.tables
