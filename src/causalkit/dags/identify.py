"""`identify`: choose an identification strategy for the effect of X on Y and say why.

Order of preference: back-door adjustment (the optimal set by default), then
Pearl's front-door criterion, then instrumental variables (which identify the
effect only under further assumptions, e.g. linearity or monotonicity for a
LATE), otherwise "not identifiable", with the open path that makes it so.

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
from .frontdoor import frontdoor_sets
from .graph import CausalDAG, NodeSet, names
from .instruments import Instrument, instruments

#: at most this many minimal sets are listed in an Identification
MAX_LISTED = 20


@dataclass(frozen=True)
class Identification:
    """How (and whether) the effect of ``treatment`` on ``outcome`` is identified."""

    strategy: str  # "backdoor", "frontdoor", "instrumental_variable" or "not_identifiable"
    treatment: tuple
    outcome: tuple
    explanation: str
    adjustment_set: frozenset | None = None
    adjustment_sets: tuple = ()
    frontdoor_set: frozenset | None = None
    instruments: tuple = ()
    notes: tuple = field(default_factory=tuple)

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
                              adjustment_sets=minimal, notes=notes)
    failure = explain_failure(AdjustmentProblem.build(dag, xs, ys))
    fd = frontdoor_sets(dag, xs, ys)
    if fd:
        m = fd[0]
        why = (f"not identified by adjustment ({failure}); the front-door set {names(m)} "
               f"intercepts every causal path, has no open back-door path from {xl}, and its "
               f"back-door paths to {yl} are blocked by {xl}")
        return Identification("frontdoor", tx, ty, why, frontdoor_set=m,
                              notes=(f"front-door sets: {', '.join(names(s) for s in fd)}",))
    ivs: list[Instrument] = instruments(dag, xs, ys) if len(xs) == 1 else []
    if ivs:
        why = (f"not identified by adjustment ({failure}); instrument(s) "
               f"{', '.join(str(i) for i in ivs)} identify it under the usual IV assumptions "
               "(e.g. a linear/constant effect, or a LATE under monotonicity)")
        return Identification("instrumental_variable", tx, ty, why, instruments=tuple(ivs))
    return Identification("not_identifiable", tx, ty,
                          f"not identifiable by adjustment, front-door or instruments: {failure}")
