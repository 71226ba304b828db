"""`identify`: choose an identification strategy for the effect of X on Y and say why.

Order of preference:

1. no causal path: when no treatment has a directed path to an outcome, an
   intervention on X cannot change Y, so the effect is identified and is zero,
   P(y | do(x)) = P(y) (rule 3 of the do-calculus), whatever confounding there is;
2. back-door adjustment (the optimal set by default), honouring the nodes
   marked ``adjusted`` (forced in) and ``selected`` (conditioned on);
3. Pearl's front-door criterion;
4. the ID algorithm (strategy ``"id"``, any other nonparametrically identifiable
   effect), consulted before instruments, since a formula that needs no
   linearity or monotonicity is the stronger answer;
5. instrumental variables (which identify the effect only under further
   assumptions, e.g. linearity or monotonicity for a LATE);
6. otherwise "not identifiable", with the open path that defeats adjustment and
   the hedge that defeats every formula.

Strategies 3-5 are not searched when nodes are marked adjusted or selected,
since the marks describe an adjustment analysis of a selected sample.  Each
answer carries its :class:`~causalkit.dags.estimand.Estimand`.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y")], latent=["U"])
>>> result = dag.identify("X", "Y")
>>> result.strategy, result.identified
('not_identifiable', False)
>>> null = CausalDAG([("U", "X"), ("U", "Y")], latent=["U"]).identify("X", "Y")
>>> null.strategy, null.zero_effect, str(null.estimand)
('no_causal_path', True, 'P(Y | do(X)) = P(Y)')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .adjustment import AdjustmentProblem, adjustment_sets, explain_failure
from .estimand import (Estimand, backdoor_estimand, frontdoor_estimand, iv_estimand,
                       no_effect_estimand)
from .frontdoor import frontdoor_sets
from .graph import CausalDAG, NodeSet, names
from .id_algorithm import identify_id
from .instruments import Instrument, instruments

#: at most this many minimal sets are listed in an Identification
MAX_LISTED = 20


@dataclass(frozen=True)
class Identification:
    """How (and whether) the effect of ``treatment`` on ``outcome`` is identified.

    ``strategy`` is "no_causal_path" (identified, and zero), "backdoor",
    "frontdoor", "id", "instrumental_variable" or "not_identifiable";
    ``estimand`` is the :class:`~causalkit.dags.estimand.Estimand` (its
    expression is None, and its hedge says why, when not identified).
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
    estimand: Estimand | None = None

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
        if self.estimand is not None:
            lines.append(f"estimand: {self.estimand}")
        lines += list(self.notes)
        return "\n".join(lines)


def _labels(dag: CausalDAG, xs: frozenset, ys: frozenset) -> tuple[str, str, str]:
    return (", ".join(map(str, sorted(xs, key=str))), ", ".join(map(str, sorted(ys, key=str))),
            ", ".join(map(str, sorted(dag.selected, key=str))))


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
                              adjustment_sets=tuple(chosen),
                              estimand=no_effect_estimand(tx, ty))
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
    return Identification(
        "no_causal_path", tx, ty,
        why + f"; no adjustment set makes the observed association estimate it ({failure}), "
        "so the association in data is not zero even though the effect is",
        estimand=no_effect_estimand(tx, ty))


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
                              estimand=backdoor_estimand(tx, ty, z, selected=dag.selected))
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
    if dag.adjusted or dag.selected:
        marks = ", ".join(f"{m} {names(getattr(dag, m))}" for m in ("adjusted", "selected")
                          if getattr(dag, m))
        return Identification(
            "not_identifiable", tx, ty,
            f"not identified by adjustment given the nodes marked {marks}: {failure}; "
            "front-door, ID-algorithm and instrumental-variable strategies are not searched "
            "when nodes are marked adjusted or selected")
    fd = frontdoor_sets(dag, xs, ys)
    if fd:
        m = fd[0]
        why = (f"not identified by adjustment ({failure}); the front-door set {names(m)} "
               f"intercepts every causal path, has no open back-door path from {xl}, and its "
               f"back-door paths to {yl} are blocked by {xl}")
        return Identification("frontdoor", tx, ty, why, frontdoor_set=m,
                              notes=(f"front-door sets: {', '.join(names(s) for s in fd)}",),
                              estimand=frontdoor_estimand(tx, ty, m))
    ivs: list[Instrument] = instruments(dag, xs, ys) if len(xs) == 1 else []
    general = general_identification(dag, xs, ys, failure, ivs)
    if general.identified or not ivs:
        return general
    why = (f"not identified by adjustment ({failure}); instrument(s) "
           f"{', '.join(str(i) for i in ivs)} identify it under the usual IV assumptions "
           "(e.g. a linear/constant effect, or a LATE under monotonicity)")
    return Identification("instrumental_variable", tx, ty, why, instruments=tuple(ivs),
                          estimand=iv_estimand(tx[0], ty[0], ivs[0].instrument,
                                               ivs[0].conditioning),
                          notes=(f"no formula without IV assumptions exists: "
                                 f"{general.estimand.hedge}",))


def general_identification(dag: CausalDAG, xs: frozenset, ys: frozenset, failure: str,
                           ivs: list[Instrument]) -> Identification:
    """The ID algorithm's answer once adjustment and the front-door criterion have failed.

    A nonparametric formula is preferred to instruments (which need a linear or
    monotone model); the instruments are listed in the notes.
    """
    tx, ty = tuple(sorted(xs, key=str)), tuple(sorted(ys, key=str))
    general = identify_id(dag, xs, ys)
    if general.identified:
        why = (f"not identified by adjustment ({failure}) nor by the front-door criterion; "
               "the ID algorithm identifies it: " + "; ".join(general.derivation))
        notes = (f"instrument(s) {', '.join(str(i) for i in ivs)} also identify it under IV "
                 "assumptions",) if ivs else ()
        return Identification("id", tx, ty, why, instruments=tuple(ivs), notes=notes,
                              estimand=general)
    return Identification("not_identifiable", tx, ty,
                          f"not identifiable by adjustment, front-door or instruments: {failure}; "
                          f"nor by any formula (the ID algorithm is complete): {general.hedge}",
                          estimand=general)
