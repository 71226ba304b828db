"""The documentation site builds with warnings as errors, every gallery example executed.

Skipped unless the docs tooling is installed (``pip install -e ".[docs]"``, or run
``docs/build``, which installs it and builds in one command).  The build takes about a
minute: it runs the gallery (NHEFS, LaLonde, Card, Senate RD, mpdta, an A/B test, a DAG).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strictly(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "markdown_exec"):
        pytest.importorskip(module, reason='the docs tooling is not installed (pip install -e ".[docs]")')
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1",
               CAUSALKIT_DATA=os.environ.get("CAUSALKIT_DATA", str(ROOT.parent / "shared" / "data")))
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    page = (tmp_path / "site" / "gallery" / "nhefs" / "index.html").read_text()
    assert "3.4405" in page                     # the executed example's output is on the page
    assert (tmp_path / "site" / "api" / "core" / "index.html").is_file()
