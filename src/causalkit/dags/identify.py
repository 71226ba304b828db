"""`identify`: choose an identification strategy for the effect of X on Y and say why.

Order of preference: back-door adjustment (the optimal set by default), then
Pearl's front-door criterion, then instrumental variables (which identify the
effect only under further assumptions, e.g. linearity or monotonicity for a
LATE), with the ID algorithm (strategy ``"id"``, any other nonparametrically
identifiable effect) consulted before instruments, since a formula that needs
no linearity or monotonicity is the stronger answer; otherwise "not
identifiable", with the open path that defeats adjustment and the hedge that
defeats every formula.  Each answer
carries its :class:`~causalkit.dags.estimand.Estimand`.

Example
-------
>>> from causalkit.dags import CausalDAG
>>> dag = CausalDAG([("U", "X"), ("U", "Y"), ("X", "Y")], latent=["U"])
>>> result = dag.identify("X", "Y")
>>> result.strategy, result.identified
('not_identifiable', False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .adjustment import AdjustmentProblem, adjustment_sets, explain_failure
from .estimand import Estimand, backdoor_estimand, frontdoor_estimand, iv_estimand
from .frontdoor import frontdoor_sets
from .graph import CausalDAG, NodeSet, names
from .id_algorithm import identify_id
from .instruments import Instrument, instruments

#: at most this many minimal sets are listed in an Identification
MAX_LISTED = 20


@dataclass(frozen=True)
class Identification:
    """How (and whether) the effect of ``treatment`` on ``outcome`` is identified."""

    strategy: str  # "backdoor", "frontdoor", "instrumental_variable", "id", "not_identifiable"
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


def identify(dag: CausalDAG, x: NodeSet | None = None, y: NodeSet | None = None,
             kind: str = "optimal") -> Identification:
    """Identify the effect of X on Y in ``dag`` (see the module docstring)."""
    xs, ys = dag._treatment_outcome(x, y)
    tx, ty = tuple(sorted(xs, key=str)), tuple(sorted(ys, key=str))
    xl, yl = ", ".join(map(str, tx)), ", ".join(map(str, ty))
    chosen = adjustment_sets(dag, xs, ys, kind=kind)
    if chosen:
        z = chosen[0]
        minimal = tuple(adjustment_sets(dag, xs, ys, kind="minimal", limit=MAX_LISTED))
        if z:
            why = (f"adjusting for {names(z)} ({kind} set) blocks every back-door path from "
                   f"{xl} to {yl} and includes no descendant of a causal path")
        else:
            why = (f"no adjustment is needed: the empty set is a valid adjustment set "
                   f"(every back-door path from {xl} to {yl} is already blocked)")
        more = f" (first {MAX_LISTED} found)" if len(minimal) == MAX_LISTED else ""
        notes = (f"minimal adjustment sets{more}: {', '.join(names(s) for s in minimal)}",)
        return Identification("backdoor", tx, ty, why, adjustment_set=z,
                              adjustment_sets=minimal, notes=notes,
                              estimand=backdoor_estimand(tx, ty, z))
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
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
