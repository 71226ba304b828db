"""CausalDAG.plot: deterministic layout, edges routed around nodes, labels inside nodes,
DAGitty positions.

Geometry is checked on the drawn figure in display coordinates: node centres are
the label positions, node outlines the node patches (or, for a drawing without
them, a circle of 15 points, networkx's default node size), and edges the paths of
the drawn arrows, sampled along their Bézier segments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import causalkit
from causalkit.dags import CausalDAG

from test_dag_dagitty import M_BIAS

matplotlib.use("Agg")

WIDE = ("dag { X [exposure]; Y [outcome]; Z -> X -> Y <- Z; "
        "{alpha beta gamma delta epsilon zeta eta theta} -> X; "
        "{iota kappa lambda mu nu} -> Y; alpha -> iota; theta -> mu; kappa <-> beta }")

_SCRIPT = """
import json, matplotlib
matplotlib.use("Agg")
from causalkit.dags import CausalDAG
ax = CausalDAG.from_dagitty({text!r}).plot()
print(json.dumps(sorted((t.get_text(), *map(float, t.get_position())) for t in ax.texts)))
"""


def _layout_in_subprocess(seed: int) -> list:
    env = dict(os.environ, PYTHONHASHSEED=str(seed), MPLBACKEND="Agg",
               PYTHONPATH=str(Path(causalkit.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", _SCRIPT.format(text=WIDE)], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_layout_does_not_depend_on_the_hash_seed():
    first, second = (_layout_in_subprocess(seed) for seed in (1, 2))
    assert len(first) == 16 and first == second


def _geometry(ax):
    """Per node (one per label): its centre and a vectorized "inside the node" test; the
    sampled arrow paths; all in display coordinates."""
    fig = ax.figure
    fig.canvas.draw()
    outlines = [p for p in ax.patches if str(p.get_gid()).startswith("node:")]
    nodes = []
    for t in ax.texts:
        c = ax.transData.transform(t.get_position())
        if outlines:   # the node patch whose centre is the label's
            patch = min(outlines, key=lambda e: np.hypot(*(ax.transData.transform(e.center) - c)))
            path = patch.get_transform().transform_path(patch.get_path())
            inside = path.contains_points
        else:          # networkx's default node: a circle of 15 points
            r = 15 * fig.dpi / 72
            inside = (lambda c, r: lambda pts: np.hypot(*(np.atleast_2d(pts) - c).T) < r)(c, r)
        nodes.append((t, c, inside))
    paths = []
    for arrow in (p for p in ax.patches if isinstance(p, matplotlib.patches.FancyArrowPatch)):
        path = arrow.get_transform().transform_path(arrow.get_path())
        paths.append(np.vstack([seg(np.linspace(0, 1, 25)) for seg, _ in path.iter_bezier()]))
    return nodes, paths, fig.canvas.get_renderer(), outlines


def _ends(nodes, pts):
    def near(p):
        return min(range(len(nodes)), key=lambda i: np.hypot(*(nodes[i][1] - p)))
    return {near(pts[0]), near(pts[-1])}


@pytest.mark.parametrize("text", [
    "dag { Z -> X -> Y <- Z }",
    "dag { a -> b -> c -> d; a -> c; a -> d; b -> d }",
    WIDE,
])
def test_no_edge_passes_through_a_third_node(text):
    ax = CausalDAG.from_dagitty(text).plot()
    nodes, paths, _, _ = _geometry(ax)
    assert paths
    for pts in paths:
        ends = _ends(nodes, pts)
        for i, (label, _, inside) in enumerate(nodes):
            if i not in ends:
                names = sorted(nodes[j][0].get_text() for j in ends)
                assert not inside(pts).any(), f"an edge {names} crosses {label.get_text()!r}"


def test_long_labels_fit_inside_their_nodes_and_nodes_do_not_overlap():
    dag = CausalDAG([("a_very_long_variable_name_for_testing", "Y"),
                     ("Another Rather Long Label With Spaces", "Y"),
                     ("X", "Y"), ("Z", "X"), ("Z", "a_very_long_variable_name_for_testing")])
    ax = dag.plot()
    nodes, _, renderer, outlines = _geometry(ax)
    figure_box = ax.figure.bbox
    assert len(nodes) == 5
    for t, _, inside in nodes:
        box = t.get_window_extent(renderer)
        corners = [(box.x0, box.y0), (box.x0, box.y1), (box.x1, box.y0), (box.x1, box.y1)]
        assert inside(corners).all(), f"label {t.get_text()!r} overflows its node"
        assert figure_box.contains(box.x0, box.y0) and figure_box.contains(box.x1, box.y1)
    assert len(outlines) == 5
    shapes = [e.get_transform().transform_path(e.get_path()) for e in outlines]
    for i, a in enumerate(shapes):
        for j, b in enumerate(shapes):
            if i != j:
                assert not b.contains_points(a.interpolated(50).vertices).any(), (i, j)


def test_dagitty_positions_are_used():
    dag = CausalDAG.from_dagitty(M_BIAS)
    ax = dag.plot()
    at = {t.get_text(): t.get_position() for t in ax.texts}
    # pos E (-2, 1), Z (-0.5, 0.5), D (1, 1); DAGitty's y grows downward
    assert at["E"][0] < at["Z"][0] < at["D"][0]
    assert at["Z"][1] > at["E"][1] and at["E"][1] == pytest.approx(at["D"][1])
    ratio = (at["Z"][0] - at["E"][0]) / (at["D"][0] - at["E"][0])
    assert ratio == pytest.approx(1.5 / 3.0)
    layered = dag.plot(layout="layered")
    assert {t.get_text() for t in layered.texts} == {"D", "E", "Z"}
