"""Drawing a CausalDAG with matplotlib.

Observed nodes are grey discs, latent nodes white dashed circles, the treatment
green and the outcome blue; a bidirected edge is a dashed two-headed arc.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> ax = CausalDAG([("Z", "X"), ("X", "Y")], bidirected=[("X", "Y")]).plot()
>>> len(ax.collections) > 0
True
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .graph import CausalDAG, NodeSet


def _layout(g: nx.DiGraph) -> dict:
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    return nx.multipartite_layout(g, subset_key="layer", align="horizontal", scale=-1)


def plot_dag(dag: CausalDAG, ax: Any = None, treatment: NodeSet | None = None,
             outcome: NodeSet | None = None, pos: dict | None = None) -> Any:
    """Draw ``dag`` on ``ax`` (a new figure if None) and return the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    shown = dag.graph.subgraph([n for n in dag.graph if not dag.is_bidirected_latent(n)]).copy()
    pos = pos or _layout(shown)
    xs = dag._nodes(treatment) if treatment is not None else (dag.exposure or frozenset())
    ys = dag._nodes(outcome) if outcome is not None else (dag.outcome or frozenset())

    def colour(n: Any) -> str:
        if n in xs:
            return "#4daf4a"
        if n in ys:
            return "#377eb8"
        return "white" if n in dag.latent_nodes else "#d9d9d9"

    nodes = list(shown)
    nx.draw_networkx_nodes(shown, pos, nodelist=nodes, node_color=[colour(n) for n in nodes],
                           edgecolors="black", node_size=900, ax=ax,
                           linewidths=[2.0 if n in xs | ys else 1.0 for n in nodes])
    latent = [n for n in nodes if n in dag.latent_nodes]
    if latent:
        coll = nx.draw_networkx_nodes(shown, pos, nodelist=latent, node_color="white",
                                      edgecolors="black", node_size=900, ax=ax)
        coll.set_linestyle("--")
    nx.draw_networkx_labels(shown, pos, ax=ax, font_size=9)
    nx.draw_networkx_edges(shown, pos, ax=ax, arrows=True, arrowstyle="-|>", node_size=900)
    bi = dag.bidirected_edges
    if bi:
        nx.draw_networkx_edges(nx.DiGraph(bi), pos, edgelist=bi, ax=ax, arrows=True,
                               arrowstyle="<|-|>", style="dashed", node_size=900,
                               connectionstyle="arc3,rad=0.3", edge_color="#984ea3")
    handles = [Line2D([], [], marker="o", ls="", mfc=c, mec="black", label=lab)
               for c, lab in (("#4daf4a", "treatment"), ("#377eb8", "outcome"),
                              ("#d9d9d9", "observed"), ("white", "latent"))]
    ax.legend(handles=handles, loc="best", fontsize=8, frameon=False)
    ax.set_axis_off()
    return ax
