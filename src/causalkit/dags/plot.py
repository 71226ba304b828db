"""Drawing a CausalDAG with matplotlib.

* Layout: the DAG's DAGitty positions (``pos``; y is flipped, since DAGitty's
  grows downward) when every drawn node has one, otherwise a layered layout:
  each node one column right of its latest parent (longest-path layering),
  nodes within a column ordered by barycenter sweeps.  Both depend only on the
  graph's node and edge order, never on set iteration, so the picture is the
  same in every process (whatever ``PYTHONHASHSEED``).
* Nodes are ellipses sized to hold their label: a long label is wrapped at
  spaces, ``_``, ``-``, ``.`` and ``/`` (at most three lines), the font
  shrinks to ``MIN_FONT`` points, and only then does the node widen, so the
  text always lies inside its node.  Columns are spaced by their widest node.
* Edges are arrows from outline to outline.  An edge whose straight line
  would pass within ``CLEARANCE`` inches of a third node is drawn as an arc
  (the quadratic curve of matplotlib's ``arc3``) with the smallest bend that
  clears every other node; bidirected edges (hidden common causes) are dashed
  two-headed arcs.

Colours: treatment green, outcome blue, observed grey, latent white (dashed
outline), adjusted orange, selected lavender.  The drawing is laid out in
inches and shrunk, never stretched, to fit the Axes.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> ax = CausalDAG([("Z", "X"), ("X", "Y"), ("Z", "Y")], bidirected=[("X", "Y")]).plot()
>>> len(ax.texts), sum(p.get_gid().startswith("edge:") for p in ax.patches)
(3, 4)
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Sequence

import numpy as np

from ..errors import GraphError
from .graph import CausalDAG, NodeSet

Node = Hashable

FONT = 10.0          #: label font size (points) before shrinking
MIN_FONT = 7.0       #: smallest label font size before a node widens
MAX_LABEL = 72.0     #: widest label line (points) before wrapping
MAX_LINES = 3
NODE = 30.0          #: smallest node diameter (points)
COLUMN_GAP = 0.45    #: inches between the widest nodes of adjacent columns
ROW_GAP = 0.3        #: inches between nodes in a column
CLEARANCE = 0.06     #: inches an edge keeps from every node it does not join
GAP = 0.02           #: inches between an arrow's ends and the nodes it joins
MARGIN = 0.2         #: inches around the drawing
MAX_FIGURE = (16.0, 12.0)
LEGEND_HEIGHT = 0.4  #: inches reserved under the drawing for the legend
BENDS = (0.0, 0.15, -0.15, 0.3, -0.3, 0.45, -0.45, 0.6, -0.6, 0.8, -0.8, 1.0, -1.0)
COLOURS = {"treatment": "#4daf4a", "outcome": "#377eb8", "observed": "#d9d9d9",
           "latent": "white", "adjusted": "#fdb462", "selected": "#bebada"}


@dataclass
class _Label:
    text: str
    font: float
    width: float     # inches (node ellipse)
    height: float


# ----------------------------------------------------------------------------- labels

def _text_size(lines: Sequence[str], font: float) -> tuple[float, float]:
    """Width and height in points of ``lines`` set in the default font at ``font`` points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath().get_text_width_height_descent
    prop = FontProperties(size=font)
    width = max((measure(line, prop, ismath=False)[0] for line in lines if line), default=0.0)
    return width, font * 1.2 * len(lines)


def _pieces(label: str) -> list[tuple[str, str]]:
    """(piece, separator before it): breaks after _ - . / and at spaces (dropped)."""
    out: list[tuple[str, str]] = []
    for w, word in enumerate(label.split()):
        for k, part in enumerate(re.findall(r"[^_\-./]*[_\-./]+|[^_\-./]+", word)):
            out.append((part, " " if w and not k else ""))
    return out or [(label, "")]


def _wrap(label: str, font: float) -> list[str]:
    lines: list[str] = []
    for piece, sep in _pieces(label):
        if lines and _text_size([lines[-1] + sep + piece], font)[0] <= MAX_LABEL:
            lines[-1] += sep + piece
        else:
            lines.append(piece)
    return lines


def fit_label(label: str) -> _Label:
    """Wrap and shrink ``label``; the ellipse (inches) that holds it with padding.

    >>> short, long = fit_label("X"), fit_label("a_very_long_variable_name_for_testing")
    >>> short.width == short.height, long.width > long.height, long.text.count("\\n") >= 1
    (True, True, True)
    """
    font = FONT
    while True:
        lines = _wrap(label, font)
        w, h = _text_size(lines, font)
        if (len(lines) <= MAX_LINES and w <= MAX_LABEL) or font <= MIN_FONT:
            break
        font -= 1.0
    tw, th = w + 8.0, h + 4.0              # padding (points)
    height = max(NODE, math.sqrt(2.0) * th)
    width = max(NODE, tw / math.sqrt(1.0 - (th / height) ** 2))
    return _Label("\n".join(lines), font, width / 72.0, height / 72.0)


# ----------------------------------------------------------------------------- layout

def _order(nodes: list, parents: dict) -> list:
    """Kahn's topological order, ties broken by the given node order."""
    index = {n: i for i, n in enumerate(nodes)}
    waiting = {n: len(parents[n]) for n in nodes}
    children: dict = {n: [] for n in nodes}
    for n in nodes:
        for p in parents[n]:
            children[p].append(n)
    out = []
    heap = [(index[n], n) for n in nodes if not waiting[n]]
    heapq.heapify(heap)
    while heap:
        _, n = heapq.heappop(heap)
        out.append(n)
        for c in children[n]:
            waiting[c] -= 1
            if not waiting[c]:
                heapq.heappush(heap, (index[c], c))
    return out


def layered_layout(dag: CausalDAG, sizes: Mapping[Node, tuple[float, float]] | None = None,
                   sweeps: int = 8) -> dict:
    """Positions (inches, y up) of the drawn nodes: columns by longest path, rows by barycenters.

    ``sizes`` maps nodes to (width, height) in inches (default: one node size).

    >>> from causalkit.dags import CausalDAG
    >>> pos = layered_layout(CausalDAG([("Z", "X"), ("X", "Y")]))
    >>> pos["Z"][0] < pos["X"][0] < pos["Y"][0]
    True
    """
    g = dag.graph
    nodes = [n for n in g if not dag.is_bidirected_latent(n)]
    shown = set(nodes)
    parents = {n: [p for p in g._pred[n] if p in shown] for n in nodes}
    layer: dict = {}
    for n in _order(nodes, parents):
        layer[n] = 1 + max((layer[p] for p in parents[n]), default=-1)
    columns: list[list] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for n in nodes:
        columns[layer[n]].append(n)
    up = {n: list(parents[n]) for n in nodes}
    down: dict = {n: [] for n in nodes}
    for n in nodes:
        for p in parents[n]:
            down[p].append(n)
    for a, b in dag.bidirected_edges:
        for u, v in ((a, b), (b, a)):
            up[u].append(v)
            down[u].append(v)
    rank = {n: i - (len(col) - 1) / 2 for col in columns for i, n in enumerate(col)}
    for sweep in range(sweeps):
        neighbours = up if sweep % 2 == 0 else down
        order = columns if sweep % 2 == 0 else columns[::-1]
        for col in order:
            place = {n: i for i, n in enumerate(col)}

            def key(n: Any) -> tuple:
                near = [rank[m] for m in neighbours[n]]
                return (sum(near) / len(near) if near else rank[n], place[n])
            col.sort(key=key)
            for i, n in enumerate(col):
                rank[n] = i - (len(col) - 1) / 2
    sizes = sizes or {}
    default = (NODE / 72.0, NODE / 72.0)
    size = {n: sizes.get(n, default) for n in nodes}
    row = max((size[n][1] for n in nodes), default=default[1]) + ROW_GAP
    pos, x = {}, 0.0
    for c, col in enumerate(columns):
        width = max(size[n][0] for n in col)
        if c:
            x += (max(size[n][0] for n in columns[c - 1]) + width) / 2 + COLUMN_GAP
        for n in col:
            pos[n] = (x, -rank[n] * row)
    return pos


def _spread(pos: Mapping[Node, tuple[float, float]], size: Mapping[Node, tuple[float, float]]
            ) -> float:
    """The smallest scale at which no two nodes overlap (positions in arbitrary units)."""
    nodes = list(pos)
    if len(nodes) < 2:
        return 1.0
    xy = np.array([pos[n] for n in nodes], float)
    wh = np.array([size[n] for n in nodes], float)
    dx = np.abs(xy[:, None, 0] - xy[None, :, 0])
    dy = np.abs(xy[:, None, 1] - xy[None, :, 1])
    need_x = (wh[:, None, 0] + wh[None, :, 0]) / 2 + ROW_GAP
    need_y = (wh[:, None, 1] + wh[None, :, 1]) / 2 + ROW_GAP
    with np.errstate(divide="ignore", invalid="ignore"):
        kx = np.where(dx > 0, need_x / dx, np.inf)
        ky = np.where(dy > 0, need_y / dy, np.inf)
    k = np.minimum(kx, ky)
    k = k[np.triu_indices(len(nodes), 1)]
    k = k[np.isfinite(k)]
    return float(k.max()) if k.size else 1.0


# ----------------------------------------------------------------------------- edges

def _bezier(a: np.ndarray, b: np.ndarray, rad: float, n: int) -> np.ndarray:
    """Points of matplotlib's arc3 curve from a to b (control = mid + rad * (dy, -dx))."""
    d = b - a
    c = (a + b) / 2 + rad * np.array([d[1], -d[0]])
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * c + t ** 2 * b


def _hits(curve: np.ndarray, centres: np.ndarray, half: np.ndarray) -> float:
    """How deep the curve enters the (inflated) ellipses: 0 when it clears them all."""
    if not len(centres):
        return 0.0
    near = np.all((centres + half >= curve.min(axis=0)) & (centres - half <= curve.max(axis=0)),
                  axis=1)
    if not near.any():
        return 0.0
    centres, half = centres[near], half[near]
    u = (curve[:, None, :] - centres[None, :, :]) / half[None, :, :]
    inside = 1.0 - np.sum(u * u, axis=2)
    return float(np.clip(inside, 0.0, None).sum())


def _leave(curve: Any, centre: np.ndarray, half: np.ndarray, lo: float, hi: float) -> float:
    """The t in [lo, hi] where the curve crosses the ellipse (inside at lo), by bisection."""
    for _ in range(40):
        mid = (lo + hi) / 2
        inside = float(np.sum(((curve(mid) - centre) / half) ** 2)) <= 1.0
        lo, hi = (mid, hi) if inside else (lo, mid)
    return (lo + hi) / 2


def edge_curve(pa: Sequence[float], pb: Sequence[float], rad: float,
               half_a: Sequence[float], half_b: Sequence[float]) -> np.ndarray:
    """Control points of the arc3 curve from centre a to centre b, cut where it leaves
    ellipse a (half-axes ``half_a``) and where it enters ellipse b: the part that is drawn.

    >>> edge_curve((0, 0), (2, 0), 0.0, (0.5, 0.5), (0.5, 0.5)).round(6).tolist()
    [[0.5, 0.0], [1.0, 0.0], [1.5, 0.0]]
    """
    p0, p2 = np.asarray(pa, float), np.asarray(pb, float)
    d = p2 - p0
    p1 = (p0 + p2) / 2 + rad * np.array([d[1], -d[0]])
    ha, hb = np.asarray(half_a, float), np.asarray(half_b, float)

    def curve(t: float) -> np.ndarray:
        return (1 - t) ** 2 * p0 + 2 * t * (1 - t) * p1 + t ** 2 * p2

    ts = np.linspace(0.0, 1.0, 257)
    pts = _bezier(p0, p2, rad, len(ts))
    in_a = np.sum(((pts - p0) / ha) ** 2, axis=1) <= 1.0
    in_b = np.sum(((pts - p2) / hb) ** 2, axis=1) <= 1.0
    out_a, out_b = np.flatnonzero(~in_a), np.flatnonzero(~in_b)
    if not len(out_a) or not len(out_b) or out_a[0] > out_b[-1]:
        t0, t1 = 0.0, 1.0          # the nodes overlap: draw centre to centre
    else:
        t0 = _leave(curve, p0, ha, ts[out_a[0] - 1], ts[out_a[0]])
        t1 = _leave(lambda t: curve(1 - t), p2, hb, 1 - ts[out_b[-1] + 1], 1 - ts[out_b[-1]])
        t1 = 1 - t1
    # the piece [t0, t1] of a quadratic Bézier is a quadratic Bézier (its blossom)
    q1 = (1 - t0) * (1 - t1) * p0 + (t0 * (1 - t1) + t1 * (1 - t0)) * p1 + t0 * t1 * p2
    return np.array([curve(t0), q1, curve(t1)])


def route(a: Node, b: Node, pos: Mapping, size: Mapping, bends: Sequence[float] = BENDS,
          clearance: float = CLEARANCE) -> float:
    """The arc3 bend for edge a -> b: the first of ``bends`` whose curve clears every other node.

    >>> pos = {"Z": (0.0, 0.0), "X": (1.0, 0.0), "Y": (2.0, 0.0)}
    >>> size = dict.fromkeys(pos, (0.4, 0.4))
    >>> route("Z", "X", pos, size), route("Z", "Y", pos, size) != 0
    (0.0, True)
    """
    others = [n for n in pos if n != a and n != b]
    centres = np.array([pos[n] for n in others], float).reshape(-1, 2)
    half = np.array([size[n] for n in others], float).reshape(-1, 2) / 2 + clearance
    pa, pb = np.asarray(pos[a], float), np.asarray(pos[b], float)
    length = float(np.hypot(*(pb - pa)))
    n = max(41, int(3 * length / max(clearance, 1e-3)))
    best = None
    for rad in bends:
        depth = _hits(_bezier(pa, pb, rad, n), centres, half)
        if depth == 0.0:
            return rad
        if best is None or depth < best[0]:
            best = (depth, rad)
    return best[1] if best else 0.0


# ----------------------------------------------------------------------------- drawing

def _category(dag: CausalDAG, n: Node, xs: frozenset, ys: frozenset) -> str:
    if n in xs:
        return "treatment"
    if n in ys:
        return "outcome"
    if n in dag.adjusted:
        return "adjusted"
    if n in dag.selected:
        return "selected"
    return "latent" if n in dag.latent_nodes else "observed"


def node_positions(dag: CausalDAG, labels: Mapping[Node, _Label], pos: Mapping | None = None,
                   layout: str = "auto") -> tuple[dict, float | None]:
    """Node centres in inches (y up) and the scale applied to given positions (None for
    the layered layout): ``pos``, else the DAG's DAGitty positions, else layered."""
    nodes = [n for n in dag.graph if not dag.is_bidirected_latent(n)]
    size = {n: (labels[n].width, labels[n].height) for n in nodes}
    if layout not in ("auto", "layered", "positions"):
        raise GraphError(f"layout={layout!r}; use 'auto', 'layered' or 'positions'")
    if pos is None:
        given = dag.positions
        missing = [n for n in nodes if n not in given]
        if layout == "positions" and missing:
            raise GraphError(f"layout='positions' but {missing[:5]!r} have no DAGitty pos")
        if layout == "layered" or missing:
            return layered_layout(dag, size), None
        pos = {n: (given[n][0], -given[n][1]) for n in nodes}     # DAGitty's y grows down
    else:
        missing = [n for n in nodes if n not in pos]
        if missing:
            raise GraphError(f"pos= has no position for {missing[:5]!r}")
        pos = {n: (float(pos[n][0]), float(pos[n][1])) for n in nodes}
    k = _spread(pos, size)
    return {n: (x * k, y * k) for n, (x, y) in pos.items()}, k


def _edges(dag: CausalDAG, centre: Mapping, size: Mapping) -> list[tuple]:
    """(a, b, bidirected, control points) of every drawn edge, routed around the nodes."""
    shown = set(centre)
    edges = [(a, b, False) for a, b in dag.graph.edges if a in shown and b in shown]
    edges += [(a, b, True) for a, b in dag.bidirected_edges]
    bent: dict = {}
    out = []
    for a, b, bi in edges:
        taken = bent.get(frozenset((a, b)))
        rad = route(a, b, centre, size, [r for r in BENDS if r != taken and
                                         (not bi or abs(r) >= 0.3)])
        bent[frozenset((a, b))] = rad
        half_a = (size[a][0] / 2 + GAP, size[a][1] / 2 + GAP)
        half_b = (size[b][0] / 2 + GAP, size[b][1] / 2 + GAP)
        out.append((a, b, bi, edge_curve(centre[a], centre[b], rad, half_a, half_b)))
    return out


def _extent(dag: CausalDAG, centre: Mapping, size: Mapping, edges: list, k: float | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left and upper-right corners (inches) of nodes, edges and DAGitty's bb."""
    boxes = [(c[0] - size[n][0] / 2, c[1] - size[n][1] / 2, c[0] + size[n][0] / 2,
              c[1] + size[n][1] / 2) for n, c in centre.items()]
    boxes += [(*curve.min(axis=0), *curve.max(axis=0)) for *_, curve in edges]
    if k is not None and dag.bounding_box is not None:
        x0, y0, x1, y1 = dag.bounding_box
        boxes.append((min(x0, x1) * k, -max(y0, y1) * k, max(x0, x1) * k, -min(y0, y1) * k))
    if not boxes:
        return np.zeros(2) - MARGIN, np.zeros(2) + MARGIN
    arr = np.array(boxes, float)
    return arr[:, :2].min(axis=0) - MARGIN, arr[:, 2:].max(axis=0) + MARGIN


def plot_dag(dag: CausalDAG, ax: Any = None, treatment: NodeSet | None = None,
             outcome: NodeSet | None = None, pos: Mapping | None = None,
             layout: str = "auto") -> Any:
    """Draw ``dag`` on ``ax`` (a new figure if None) and return the Axes.

    ``pos`` gives node positions (y up) instead of the DAG's own; ``layout`` is
    "auto" (DAGitty positions when every node has one), "layered" or "positions".
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Ellipse, FancyArrowPatch
    from matplotlib.path import Path

    xs = dag._nodes(treatment) if treatment is not None else (dag.exposure or frozenset())
    ys = dag._nodes(outcome) if outcome is not None else (dag.outcome or frozenset())
    nodes = [n for n in dag.graph if not dag.is_bidirected_latent(n)]
    labels = {n: fit_label(str(n)) for n in nodes}
    centre, k = node_positions(dag, labels, pos, layout)
    size = {n: (labels[n].width, labels[n].height) for n in nodes}
    edges = _edges(dag, centre, size)
    lo, hi = _extent(dag, centre, size, edges, k)
    extent = hi - lo
    present = [c for c in COLOURS if c in {_category(dag, n, xs, ys) for n in nodes}
               or c in ("treatment", "outcome")]
    if ax is None:
        fit = min(1.0, MAX_FIGURE[0] / extent[0], MAX_FIGURE[1] / extent[1])
        w, h = max(extent[0] * fit, 3.0), max(extent[1] * fit, 1.5)
        legend = LEGEND_HEIGHT * math.ceil(len(present) / max(1, int(w // 1.05)))
        fig = plt.figure(figsize=(w, h + legend))
        ax = fig.add_axes((0.0, legend / (h + legend), 1.0, h / (h + legend)))
    fig = ax.figure
    box = ax.get_position()
    aw, ah = box.width * fig.get_figwidth(), box.height * fig.get_figheight()
    scale = min(1.0, aw / extent[0], ah / extent[1])
    mid = (lo + hi) / 2 * scale
    ax.set_xlim(mid[0] - aw / 2, mid[0] + aw / 2)
    ax.set_ylim(mid[1] - ah / 2, mid[1] + ah / 2)
    ax.set_aspect("equal", adjustable="datalim")

    for n in nodes:
        cat = _category(dag, n, xs, ys)
        at = (centre[n][0] * scale, centre[n][1] * scale)
        e = Ellipse(at, size[n][0] * scale, size[n][1] * scale, facecolor=COLOURS[cat],
                    edgecolor="black", zorder=2,
                    linewidth=(2.0 if cat in ("treatment", "outcome") else 1.0) * scale,
                    linestyle="--" if cat == "latent" else "-")
        e.set_gid(f"node:{n}")
        ax.add_patch(e)
        ax.text(*at, labels[n].text, ha="center", va="center", multialignment="center",
                fontsize=labels[n].font * scale, zorder=3)
    for a, b, bi, curve in edges:
        arrow = FancyArrowPatch(
            path=Path(curve * scale, [Path.MOVETO, Path.CURVE3, Path.CURVE3]),
            arrowstyle="<|-|>" if bi else "-|>", mutation_scale=12 * scale,
            linewidth=1.1 * scale, linestyle="--" if bi else "-",
            color="#984ea3" if bi else "black", zorder=1)
        arrow.set_gid(f"edge:{a}{'<->' if bi else '->'}{b}")
        ax.add_artist(arrow)       # the limits are set; add_patch would recompute them
    handles = [Line2D([], [], marker="o", ls="", mfc=COLOURS[c], mec="black", label=c,
                      markersize=8) for c in present]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8,
              ncol=max(1, min(len(handles), int(aw // 1.05))), frameon=False)
    ax.set_axis_off()
    return ax
