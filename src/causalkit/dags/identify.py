"""`identify`: choose an identification strategy for the effect of X on Y and say why.

Order of preference:

1. no causal path: when no treatment has a directed path to an outcome, an
   intervention on X cannot change Y, so the effect is identified and is zero,
   P(y | do(x)) = P(y) (rule 3 of the do-calculus), whatever confounding there is;
2. back-door adjustment (the optimal set by default), honouring the nodes
   marked ``adjusted`` (forced in) and ``selected`` (conditioned on);
3. Pearl's front-door criterion, then instrumental variables (which identify
   the effect only under further assumptions, e.g. linearity or monotonicity
   for a LATE); these are not searched when nodes are marked adjusted or
   selected, since the marks describe an adjustment analysis of a selected
   sample;
4. otherwise "not identifiable", with the open path that makes it so.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y")], latent=["U"])
>>> result = dag.identify("X", "Y")
>>> result.strategy, result.identified
('not_identifiable', False)
>>> null = CausalDAG([("U", "X"), ("U", "Y")], latent=["U"]).identify("X", "Y")
>>> null.strategy, null.zero_effect, null.estimand
('no_causal_path', True, 'P(Y | do(X)) = P(Y)')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .adjustment import AdjustmentProblem, adjustment_sets, explain_failure
from .frontdoor import frontdoor_sets
from .graph import CausalDAG, NodeSet, names
from .instruments import Instrument, instruments

#: at most this many minimal sets are listed in an Identification
MAX_LISTED = 20


@dataclass(frozen=True)
class Identification:
    """How (and whether) the effect of ``treatment`` on ``outcome`` is identified.

    ``strategy`` is "no_causal_path" (identified, and zero), "backdoor",
    "frontdoor", "instrumental_variable" or "not_identifiable"; ``estimand`` is
    the identifying formula (None when not identified).
    """

    strategy: str
    treatment: tuple
    outcome: tuple
    explanation: str
    adjustment_set: frozenset | None = None
    adjustment_sets: tuple = ()
    frontdoor_set: frozenset | None = None
    instruments: tuple = ()
    notes: tuple = field(default_factory=tuple)
    estimand: str | None = None

    @property
    def identified(self) -> bool:
        return self.strategy != "not_identifiable"

    @property
    def zero_effect(self) -> bool:
        """Whether the graph alone implies the effect is zero (no causal path)."""
        return self.strategy == "no_causal_path"

    @property
    def sets(self) -> tuple:
        """The set(s) the strategy rests on."""
        if self.strategy == "backdoor":
            return (self.adjustment_set,)
        if self.strategy == "frontdoor":
            return (self.frontdoor_set,)
        return ()

    def __str__(self) -> str:
        lines = [f"Identification of the effect of {', '.join(map(str, self.treatment))} "
                 f"on {', '.join(map(str, self.outcome))}: {self.strategy}",
                 self.explanation]
        if self.estimand:
            lines.append(f"estimand: {self.estimand}")
        lines += list(self.notes)
        return "\n".join(lines)


def _labels(dag: CausalDAG, xs: frozenset, ys: frozenset) -> tuple[str, str, str]:
    return (", ".join(map(str, sorted(xs, key=str))), ", ".join(map(str, sorted(ys, key=str))),
            ", ".join(map(str, sorted(dag.selected, key=str))))


def backdoor_estimand(dag: CausalDAG, xs: frozenset, ys: frozenset, z: frozenset) -> str:
    """The adjustment formula, with the selected nodes S as conditions when there are any.

    >>> backdoor_estimand(CausalDAG([("Z", "X"), ("Z", "Y"), ("X", "Y")]), {"X"}, {"Y"}, {"Z"})
    'P(Y | do(X)) = Σ_{Z} P(Y | X, Z) P(Z)'
    """
    xl, yl, sl = _labels(dag, xs, ys)
    zl = ", ".join(map(str, sorted(z, key=str)))
    s = f", {sl}" if sl else ""
    if not z:
        return f"P({yl} | do({xl})) = P({yl} | {xl}{s})"
    given = f" | {sl}" if sl else ""
    return f"P({yl} | do({xl})) = Σ_{{{zl}}} P({yl} | {xl}, {zl}{s}) P({zl}{given})"


def _no_causal_path(dag: CausalDAG, xs: frozenset, ys: frozenset, kind: str) -> Identification:
    tx, ty = tuple(sorted(xs, key=str)), tuple(sorted(ys, key=str))
    xl, yl, _ = _labels(dag, xs, ys)
    chosen = adjustment_sets(dag, xs, ys, kind=kind)
    why = (f"there is no causal (directed) path from {xl} to {yl}, so intervening on {xl} "
           f"cannot change {yl}: the effect is identified and is zero, "
           f"P({yl} | do({xl})) = P({yl})")
    if chosen:
        z = chosen[0]
        check = (f"; adjusting for {names(z)} makes the observed contrast estimate this zero, "
                 "so an estimate from data tests the graph's claim") if z else (
                 "; the unadjusted contrast estimates this zero, so an estimate from data "
                 "tests the graph's claim")
        return Identification("no_causal_path", tx, ty, why + check, adjustment_set=z,
                              adjustment_sets=tuple(chosen), estimand=f"P({yl} | do({xl})) = "
                              f"P({yl})")
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
    return Identification(
        "no_causal_path", tx, ty,
        why + f"; no adjustment set makes the observed association estimate it ({failure}), "
        "so the association in data is not zero even though the effect is",
        estimand=f"P({yl} | do({xl})) = P({yl})")


def identify(dag: CausalDAG, x: NodeSet | None = None, y: NodeSet | None = None,
             kind: str = "optimal") -> Identification:
    """Identify the effect of X on Y in ``dag`` (see the module docstring)."""
    xs, ys = dag._treatment_outcome(x, y)
    if not dag.has_causal_path(xs, ys):
        return _no_causal_path(dag, xs, ys, kind)
    tx, ty = tuple(sorted(xs, key=str)), tuple(sorted(ys, key=str))
    xl, yl, sl = _labels(dag, xs, ys)
    chosen = adjustment_sets(dag, xs, ys, kind=kind)
    if chosen:
        z = chosen[0]
        minimal = tuple(adjustment_sets(dag, xs, ys, kind="minimal", limit=MAX_LISTED))
        sel = f" (within the sample selected on {{{sl}}})" if sl else ""
        if z:
            why = (f"adjusting for {names(z)} ({kind} set) blocks every back-door path from "
                   f"{xl} to {yl}{sel} and includes no descendant of a causal path")
        else:
            why = (f"no adjustment is needed: the empty set is a valid adjustment set "
                   f"(every back-door path from {xl} to {yl} is already blocked{sel})")
        more = f" (first {MAX_LISTED} found)" if len(minimal) == MAX_LISTED else ""
        notes = (f"minimal adjustment sets{more}: {', '.join(names(s) for s in minimal)}",)
        return Identification("backdoor", tx, ty, why, adjustment_set=z,
                              adjustment_sets=minimal, notes=notes,
                              estimand=backdoor_estimand(dag, xs, ys, z))
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
    if dag.adjusted or dag.selected:
        marks = ", ".join(f"{m} {names(getattr(dag, m))}" for m in ("adjusted", "selected")
                          if getattr(dag, m))
        return Identification(
            "not_identifiable", tx, ty,
            f"not identified by adjustment given the nodes marked {marks}: {failure}; "
            "front-door and instrumental-variable strategies are not searched when nodes are "
            "marked adjusted or selected")
    fd = frontdoor_sets(dag, xs, ys)
    if fd:
        m = fd[0]
        ml = ", ".join(map(str, sorted(m, key=str)))
        why = (f"not identified by adjustment ({failure}); the front-door set {names(m)} "
               f"intercepts every causal path, has no open back-door path from {xl}, and its "
               f"back-door paths to {yl} are blocked by {xl}")
        estimand = (f"P({yl} | do({xl})) = Σ_{{{ml}}} P({ml} | {xl}) "
                    f"Σ_{{{xl}'}} P({yl} | {xl}', {ml}) P({xl}')")
        return Identification("frontdoor", tx, ty, why, frontdoor_set=m,
                              notes=(f"front-door sets: {', '.join(names(s) for s in fd)}",),
                              estimand=estimand)
    ivs: list[Instrument] = instruments(dag, xs, ys) if len(xs) == 1 else []
    if ivs:
        why = (f"not identified by adjustment ({failure}); instrument(s) "
               f"{', '.join(str(i) for i in ivs)} identify it under the usual IV assumptions "
               "(e.g. a linear/constant effect, or a LATE under monotonicity)")
        return Identification("instrumental_variable", tx, ty, why, instruments=tuple(ivs),
                              estimand=f"Cov({ivs[0].instrument}, {yl}) / "
                                       f"Cov({ivs[0].instrument}, {xl})"
                                       + (f" given {names(ivs[0].conditioning)}"
                                          if ivs[0].conditional else "")
                                       + " (linear IV; a LATE under monotonicity)")
    return Identification("not_identifiable", tx, ty,
                          f"not identifiable by adjustment, front-door or instruments: {failure}")
