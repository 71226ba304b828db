"""Self-contained HTML pages: matplotlib figures as PNG bytes and ``data:`` URIs, escaped tables.

Reports that a reader opens from a file or an e-mail attachment must not load
anything from outside (no CDN stylesheet or script, no linked image), so
figures are embedded as base64 ``data:image/png`` URIs.  Figures are drawn on
a :class:`matplotlib.figure.Figure` with the Agg canvas directly, without
pyplot: no global backend is chosen and no figure is left open.

Example
-------
>>> fig = new_figure(2, 1)
>>> _ = fig.subplots().plot([0, 1], [0, 1])
>>> data_uri(png_bytes(fig)).startswith("data:image/png;base64,iVBOR")
True
>>> html_table(["a", "b"], [["<x>", 1.5]])
'<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>&lt;x&gt;</td><td class="num">1.5</td></tr></tbody></table>'
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any, Sequence

__all__ = ["data_uri", "html_table", "new_figure", "png_bytes"]


def new_figure(width: float, height: float) -> Any:
    """A matplotlib ``Figure`` (inches) on the Agg canvas, independent of pyplot's backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Any, dpi: int = 100) -> bytes:
    """The figure rendered as PNG bytes (tight bounding box)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI of PNG bytes, for an ``<img src=...>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str | None = None,
               numeric: Sequence[int] = ()) -> str:
    """An HTML table with escaped cells.

    Numbers, and the cells of the columns at positions ``numeric`` (numbers
    already formatted as text), are right-aligned (``class="num"``).
    """
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{html.escape(str(v))}</td>' if j in numeric or (
                isinstance(v, (int, float)) and not isinstance(v, bool))
            else f"<td>{html.escape(str(v))}</td>" for j, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
