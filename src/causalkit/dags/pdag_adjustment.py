"""Adjustment valid for every DAG of a CPDAG's class: the b-adjustment criterion.

Perković, Textor, Kalisch & Maathuis (2018, JMLR): in a CPDAG G, Z is a valid
adjustment set for (X, Y) in *every* DAG of the class iff

1. G is amenable: every proper possibly causal path from X to Y (each edge
   ``->`` forward or ``--``, only its first node in X) starts with ``x ->``;
2. Z contains no node of Forb(X, Y): the possible descendants of the nodes
   (other than X) on proper possibly causal paths;
3. Z blocks every proper definite-status non-causal path from X to Y (each inner
   node a collider ``-> v <-`` or a definite non-collider: ``<- v``, ``v ->`` or
   ``-- v --``): a collider not in Z or a non-collider in Z.

When 1 fails, no set is valid for every DAG: the undirected edge ``x -- v`` at
X is ``x -> v`` (a causal path through v) in some DAGs and ``v -> x`` (a
back-door path) in others, and the error names it.  Conditions 2 and 3 are
checked by linear-time reachability (definite-status walks, as in Wienöbst,
Weichwald & Henckel's CIfly tables for CPDAGs).

A PDAG with background knowledge (an MPDAG that is not a CPDAG; Perković,
Kalisch & Maathuis 2017) needs more care: a possibly causal path must also have
no backward chord ``V_j -> V_i`` (i < j), so ``X -- A -- B`` with ``B -> X``
is not one.  There paths from x never pass a parent of x (that would be a
backward chord), and possible descendants/ancestors are found by unshielded
possibly causal walks (a b-possibly causal path has an unshielded b-possibly
causal subsequence, Perković et al. 2017).  That this search is exact for
MPDAGs is not proven here: it is checked against every DAG of the class by
brute force on random MPDAGs of up to 7 nodes (tests).  Sets:

* ``"canonical"``: Adjust(X, Y) = PossAn(X ∪ Y) \\ (X ∪ Y ∪ Forb), valid iff any
  valid set exists (Perković et al. 2018, Thm. 4.5);
* ``"minimal"``: every minimal valid set.  Once G is amenable and Z avoids Forb,
  condition 3 holds in G iff Z satisfies the DAG criterion in any one DAG of
  the class, so the minimal separators are listed on a consistent extension
  with Forb excluded (the tests check both claims against every DAG of the class).

Example
-------
>>> from causalkit.dags import CausalPDAG
>>> g = CausalPDAG.from_dagitty("pdag { A -> X <- B; X -> Y; B -> Y; C -- B }")
>>> g.adjustment_sets("X", "Y")
[frozenset({'B'})]
>>> print(g.is_valid_adjustment("X", "Y", {"C"}))
{C} is not valid for every DAG of the class: the non-causal path X <- B -> Y stays open
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Hashable, Iterable

from ..errors import GraphError, NotIdentifiableError
from .adjustment import AdjustmentCheck
from .graph import NodeSet, names, sorted_sets
from .pdag import CausalPDAG

Node = Hashable
KINDS = ("minimal", "canonical")
_IN, _OUT, _UND = "in", "out", "und"   # how a walk entered a node: p -> v, p <- v, p -- v


def _reach(nbrs: Iterable[dict], starts: Iterable[Node], avoid: frozenset = frozenset()
           ) -> dict[Node, Node | None]:
    """Nodes reachable from ``starts`` along the union of ``nbrs``, never entering
    ``avoid``; maps each to its predecessor (None for a start)."""
    tables = list(nbrs)
    prev: dict[Node, Node | None] = {s: None for s in starts}
    queue = deque(prev)
    while queue:
        v = queue.popleft()
        for t in tables:
            for w in t[v]:
                if w not in prev and w not in avoid:
                    prev[w] = v
                    queue.append(w)
    return prev


def _reach_unshielded(g: CausalPDAG, starts: Iterable[Node], forward: bool,
                      avoid: frozenset = frozenset()) -> dict[Node, Node | None]:
    """Nodes reached from ``starts`` by unshielded possibly causal walks (each step ``->``
    forward or ``--``, never to a node adjacent to the one before), for MPDAGs; maps each
    node to its predecessor on one such walk (None for a start)."""
    step = (g._succ, g._und) if forward else (g._pred, g._und)
    prev: dict[Node, Node | None] = {s: None for s in starts}
    seen: set = set()
    queue: deque[tuple[Node | None, Node]] = deque((None, s) for s in prev)
    while queue:
        p, c = queue.popleft()
        for t in step:
            for w in t[c]:
                if w in avoid or w == p or (p is not None and g._adjacent(p, w)) \
                        or (c, w) in seen:
                    continue
                seen.add((c, w))
                prev.setdefault(w, c)
                queue.append((c, w))
    return prev


def possible_descendants(g: CausalPDAG, starts: Iterable[Node], avoid: frozenset = frozenset(),
                         forward: bool = True) -> dict[Node, Node | None]:
    """Possible descendants (``forward``) or ancestors of ``starts`` avoiding ``avoid``, with
    predecessors: plain reachability in a CPDAG, unshielded walks in an MPDAG."""
    if g.is_cpdag:
        return _reach((g._succ, g._und) if forward else (g._pred, g._und), starts, avoid)
    return _reach_unshielded(g, starts, forward, avoid)


def _trace(prev: dict, v: Node) -> list:
    out = [v]
    while prev[out[-1]] is not None:
        out.append(prev[out[-1]])
    return out[::-1]


def render(g: CausalPDAG, path: list) -> str:
    """``X <- B -- C -> Y`` for a path in ``g``."""
    parts = [str(path[0])]
    for a, b in zip(path, path[1:]):
        arrow = "->" if b in g._succ[a] else "<-" if a in g._succ[b] else "--"
        parts += [arrow, str(b)]
    return " ".join(parts)


@dataclass(frozen=True)
class PDAGProblem:
    """The (X, Y) query on a PDAG: possibly causal nodes, forbidden set, amenability."""

    g: CausalPDAG
    xs: frozenset
    ys: frozenset
    cn: frozenset          # nodes other than X on proper possibly causal paths (Y included)
    forbidden: frozenset   # Forb(X, Y): possible descendants of cn
    not_amenable: tuple | None   # (x, v, path) for an undirected first edge x -- v, or None

    @classmethod
    def build(cls, g: CausalPDAG, x: NodeSet | None, y: NodeSet | None) -> "PDAGProblem":
        xs, ys = g._treatment_outcome(x, y)
        cn: set = set()
        for x0 in xs:
            # a possibly causal path from x0 never meets a parent of x0 (in an MPDAG that
            # would be a backward chord; in a CPDAG it cannot happen)
            avoid = xs | g._pred[x0]
            des = possible_descendants(g, [x0], avoid - {x0})
            anc = possible_descendants(g, ys, avoid, forward=False)
            cn |= (set(des) & set(anc)) - {x0}
        forb = frozenset(possible_descendants(g, cn))
        bad = None
        for x0 in sorted(xs, key=str):
            for v in sorted(g._und[x0] - xs, key=str):
                prev = possible_descendants(g, [v], xs | g._pred[x0])
                hit = sorted((w for w in prev if w in ys), key=str)
                if hit:
                    bad = (x0, v, [x0] + _trace(prev, hit[0]))
                    break
            if bad:
                break
        return cls(g, xs, ys, frozenset(cn), forb, bad)

    def disagreement(self) -> str:
        """Why the DAGs of the class disagree (when not amenable)."""
        x0, v, path = self.not_amenable  # type: ignore[misc]
        return (f"the edge {x0} -- {v} is undirected, and {render(self.g, path)} is a possibly "
                f"causal path: in the DAGs of the class with {x0} -> {v} it is causal, in those "
                f"with {v} -> {x0} it is a back-door path, so no set is a valid adjustment set "
                f"for every DAG of the class (the CPDAG is not amenable; Perković et al. 2018). "
                f"Orienting {x0} -- {v} from background knowledge may identify the effect")

    def open_walk(self, zs: frozenset) -> list | None:
        """A proper definite-status non-causal walk from X to Y open given Z, or None."""
        g, cn, xs = self.g, self.cn, self.xs
        start = [(x, _OUT) for x in sorted(xs, key=str)]
        prev: dict = {s: None for s in start}
        queue = deque(start)
        while queue:
            state = queue.popleft()
            v, entered = state
            if v in self.ys:
                out = [state]
                while prev[out[-1]] is not None:
                    out.append(prev[out[-1]])
                return [s[0] for s in reversed(out)]
            in_z = v in zs
            moves = []
            if not in_z and (v not in xs):
                moves += [(w, _IN) for w in g._succ[v]]
            elif not in_z:
                moves += [(w, _IN) for w in g._succ[v] if w not in cn]
            if (entered == _IN and in_z) or (entered == _OUT and not in_z):
                moves += [(w, _OUT) for w in g._pred[v]]      # collider / non-collider
            if entered != _IN and not in_z:
                moves += [(w, _UND) for w in g._und[v]]       # -- v -- or <- v --
            for s in moves:
                if s not in prev:
                    prev[s] = state
                    queue.append(s)
        return None


def _forbidden_reason(p: PDAGProblem, w: Node) -> str:
    g = p.g
    via = sorted((c for c in p.cn if w in possible_descendants(g, [c])), key=str)[0]
    how = "lies on" if via == w else f"is a possible descendant of {via}, which lies on"
    return f"{w} {how} a possibly causal path from {names(p.xs)[1:-1]} to {names(p.ys)[1:-1]}"


def check_pdag_adjustment(g: CausalPDAG, x: NodeSet | None, y: NodeSet | None,
                          z: NodeSet = ()) -> AdjustmentCheck:
    """Is Z a valid adjustment set for (X, Y) in every DAG of the class?  Says why not.

    >>> g = CausalPDAG.from_dagitty("pdag { X -- Z -- Y }")
    >>> print(g.is_valid_adjustment("X", "Y", {"Z"}))
    {Z} is not valid for every DAG of the class: the edge X -- Z is undirected, and X -- Z -- Y is a possibly causal path: in the DAGs of the class with X -> Z it is causal, in those with Z -> X it is a back-door path, so no set is a valid adjustment set for every DAG of the class (the CPDAG is not amenable; Perković et al. 2018). Orienting X -- Z from background knowledge may identify the effect
    """
    p = PDAGProblem.build(g, x, y)
    zs = g._set(z, "adjustment set", empty_ok=True)
    label = names(zs)
    if zs & (p.xs | p.ys):
        raise GraphError(f"the adjustment set {label} contains the treatment or outcome")
    head = f"{label} is not valid for every DAG of the class: "
    if p.not_amenable is not None:
        return AdjustmentCheck(False, head + p.disagreement())
    bad = zs & p.forbidden
    if bad:
        return AdjustmentCheck(False, head + _forbidden_reason(p, sorted(bad, key=str)[0]))
    walk = p.open_walk(zs)
    if walk is not None:
        return AdjustmentCheck(False, head + f"the non-causal path {render(g, walk)} stays "
                                             "open", tuple(walk))
    return AdjustmentCheck(True, f"{label} is a valid adjustment set in every DAG of the "
                                 "class: it contains no possible descendant of a possibly "
                                 "causal path and blocks every definite-status non-causal path")


def canonical(p: PDAGProblem) -> frozenset | None:
    """Adjust(X, Y) = PossAn(X ∪ Y) \\ (X ∪ Y ∪ Forb) when it is valid (iff any set is)."""
    anc = possible_descendants(p.g, p.xs | p.ys, forward=False)
    z = frozenset(anc) - p.xs - p.ys - p.forbidden
    return z if p.open_walk(z) is None else None


def pdag_adjustment_sets(g: CausalPDAG, x: NodeSet | None = None, y: NodeSet | None = None,
                         kind: str = "minimal") -> list[frozenset]:
    """Sets valid in every DAG of the class (``[]``: none exists); NotIdentifiableError
    naming the undirected edge at X when the class is not amenable.

    >>> CausalPDAG.from_dagitty("pdag { A -> X <- B; X -> Y; C -- A }").adjustment_sets("X", "Y")
    [frozenset()]
    """
    if kind not in KINDS:
        raise GraphError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    p = PDAGProblem.build(g, x, y)
    if p.not_amenable is not None:
        raise NotIdentifiableError(f"the effect of {names(p.xs)[1:-1]} on {names(p.ys)[1:-1]} "
                                   f"differs between the DAGs of the class: {p.disagreement()}")
    if kind == "canonical":
        z = canonical(p)
        return [] if z is None else [z]
    dag = g.to_dag()
    return sorted_sets(dag.adjustment_sets(p.xs, p.ys, kind="minimal",
                                           exclude=p.forbidden - p.xs - p.ys))


def pdag_adjustment_set(g: CausalPDAG, x: NodeSet | None = None, y: NodeSet | None = None,
                        kind: str = "canonical") -> frozenset:
    """One set valid in every DAG of the class, else NotIdentifiableError saying why."""
    sets = pdag_adjustment_sets(g, x, y, kind=kind)
    if sets:
        return sets[0]
    p = PDAGProblem.build(g, x, y)
    anc = possible_descendants(g, p.xs | p.ys, forward=False)
    walk = p.open_walk(frozenset(anc) - p.xs - p.ys - p.forbidden)
    raise NotIdentifiableError(
        f"the effect of {names(p.xs)[1:-1]} on {names(p.ys)[1:-1]} is not identified by "
        f"adjustment in this class: the non-causal path {render(g, walk or [])} stays open "
        "given every set of allowed covariates")
