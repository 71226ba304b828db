"""`Estimand`: an identified causal quantity as a formula in observational probabilities.

An :class:`Estimand` names its query (``P(Y | do(X))`` or, conditional,
``P(Y | do(X), W)``), carries the functional as an expression tree
(:mod:`causalkit.dags.expression`), prints it as text (``str``) and LaTeX
(:meth:`Estimand.latex`), evaluates it exactly on a discrete distribution
(:meth:`Estimand.evaluate`) and keeps the derivation in words.  A
non-identifiable query is an Estimand too: ``identified`` is False and
``hedge`` names the two c-forests that make it so (Shpitser & Pearl 2006).

Example
-------
>>> e = backdoor_estimand(("X",), ("Y",), {"Z"})
>>> print(e)
P(Y | do(X)) = ∑_{Z} P(Y | X, Z) P(Z)
>>> print(e.latex())
P(Y \\mid \\mathrm{do}(X)) = \\sum_{Z} P(Y \\mid X, Z) P(Z)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

import pandas as pd

from ..errors import NotIdentifiableError
from .distribution import DiscreteDistribution, evaluate
from .expression import Expr, Prob, WaldRatio, _tex_name, marginal, mentioned, product

Node = Hashable


def _list(nodes: Iterable[Node]) -> str:
    return ", ".join(sorted(map(str, nodes)))


@dataclass(frozen=True)
class Hedge:
    """Two c-forests F' ⊂ F that defeat identification (Shpitser & Pearl 2006, Def. 5).

    F meets the treatment, F' does not; both share a root set inside the
    ancestors of the outcome, so the two models that differ only on F \\ F'
    agree on every observational distribution but not on P(Y | do(X)).
    """

    forest: frozenset
    subforest: frozenset

    def __str__(self) -> str:
        return (f"the hedge F = {{{_list(self.forest)}}} ⊃ F' = {{{_list(self.subforest)}}}: "
                f"{{{_list(self.forest)}}} is one c-component (joined by bidirected edges) "
                f"that contains the intervened node(s) {{{_list(self.forest - self.subforest)}}}, "
                f"and F' = {{{_list(self.subforest)}}} is its c-component once those are "
                "removed; a hidden common cause of F' and the treatment cannot be undone "
                "from observational data")


@dataclass(frozen=True)
class Estimand:
    """A causal query and, when identified, its formula in observational probabilities.

    Attributes
    ----------
    treatment, outcome, given
        The query P(outcome | do(treatment), given).
    expression
        The functional (None when not identified).
    strategy
        ``"backdoor"``, ``"frontdoor"``, ``"instrumental_variable"``, ``"id"`` or
        ``"no_causal_path"``.
    derivation
        The steps that produced it, in words.
    hedge
        Why it is not identified (None when it is).
    arbitrary
        Variables the formula mentions besides the query's: interventions the
        ID algorithm added because they cannot affect the outcome (line 3), so
        the formula takes the same value at every setting of them (as the napkin
        formula does for W2).  :meth:`evaluate` averages over their observed
        distribution, which is exact for the population and uses all the data.
    """

    treatment: tuple
    outcome: tuple
    expression: Expr | None
    strategy: str = "id"
    given: tuple = ()
    derivation: tuple = field(default_factory=tuple)
    hedge: Hedge | None = None

    @property
    def arbitrary(self) -> tuple:
        if self.expression is None:
            return ()
        extra = self.expression.free - set(self.treatment) - set(self.outcome) - set(self.given)
        return tuple(sorted(extra, key=str))

    @property
    def identified(self) -> bool:
        return self.expression is not None

    @property
    def variables(self) -> list:
        """Every observed variable the formula (or the query) involves, sorted by name."""
        used = mentioned(self.expression) if self.expression is not None else frozenset()
        return sorted(used | set(self.outcome) | set(self.treatment) | set(self.given), key=str)

    @property
    def query(self) -> str:
        """``P(Y | do(X))`` or ``P(Y | do(X), W)``."""
        cond = f"do({_list(self.treatment)})"
        if self.given:
            cond += f", {_list(self.given)}"
        return f"P({_list(self.outcome)} | {cond})"

    def query_latex(self) -> str:
        tex = lambda nodes: ", ".join(_tex_name(n) for n in sorted(map(str, nodes)))  # noqa: E731
        cond = r"\mathrm{do}(" + tex(self.treatment) + ")"
        if self.given:
            cond += ", " + tex(self.given)
        return f"P({tex(self.outcome)} \\mid {cond})"

    def __str__(self) -> str:
        if self.expression is None:
            return f"{self.query} is not identifiable: {self.hedge or 'no formula exists'}"
        tail = (f"  (the same for every value of {_list(self.arbitrary)})"
                 if self.arbitrary else "")
        return f"{self.query} = {self.expression}{tail}"

    def latex(self) -> str:
        """The equation in LaTeX (math mode, without ``$``)."""
        if self.expression is None:
            return self.query_latex() + r"\ \text{is not identifiable}"
        return f"{self.query_latex()} = {self.expression.latex()}"

    def explain(self) -> str:
        """The derivation, one step a line."""
        head = str(self)
        return "\n".join([head, *(f"  {i + 1}. {s}" for i, s in enumerate(self.derivation))])

    def evaluate(self, distribution: Any) -> pd.Series:
        """The formula on a discrete distribution (or a DataFrame: its empirical distribution).

        Returns P(outcome | do(treatment)[, given]) as a Series indexed by the
        levels of outcome, treatment and given (in that order).

        >>> import pandas as pd
        >>> df = pd.DataFrame({"Z": [0, 0, 1, 1], "X": [0, 1, 0, 1], "Y": [0, 1, 1, 1]})
        >>> backdoor_estimand(("X",), ("Y",), {"Z"}).evaluate(df).round(2).tolist()
        [0.5, 0.0, 0.5, 1.0]
        """
        if self.expression is None:
            raise NotIdentifiableError(f"{self.query} is not identifiable, so it has no value: "
                                       f"{self.hedge or ''}")
        dist = distribution if isinstance(distribution, DiscreteDistribution) else \
            DiscreteDistribution.from_data(distribution, columns=self.variables)
        expr = self.expression
        if self.arbitrary:
            expr = marginal(self.arbitrary, product([Prob(self.arbitrary), expr]))
        return evaluate(expr, dist,
                        order=(*self.outcome, *self.treatment, *self.given))


def backdoor_estimand(treatment: Iterable[Node], outcome: Iterable[Node],
                      adjustment: Iterable[Node], selected: Iterable[Node] = ()) -> Estimand:
    """The adjustment formula ∑_Z P(Y | X, Z) P(Z) as an Estimand.

    With selected nodes S (the sample is conditioned on them by design) every
    factor is conditioned on S: ∑_Z P(Y | X, Z, S) P(Z | S).

    >>> print(backdoor_estimand(("X",), ("Y",), {"Z"}))
    P(Y | do(X)) = ∑_{Z} P(Y | X, Z) P(Z)
    """
    xs, ys, z, s = tuple(treatment), tuple(outcome), frozenset(adjustment), frozenset(selected)
    if z:
        expr = marginal(z, product([Prob(ys, set(xs) | z | s), Prob(z, s)]))
    else:
        expr = Prob(ys, set(xs) | s)
    within = f", within the sample selected on {{{_list(s)}}}" if s else ""
    why = (f"adjustment for {{{_list(z)}}}: P(Y | do(X)) = ∑_Z P(Y | X, Z) P(Z) "
           f"(the back-door criterion{within})" if z else
           f"no back-door path is open, so P(Y | do(X)) = P(Y | X){within}")
    return Estimand(xs, ys, expr, strategy="backdoor", derivation=(why,))


def no_effect_estimand(treatment: Iterable[Node], outcome: Iterable[Node]) -> Estimand:
    """P(Y | do(X)) = P(Y): no directed path from X to Y (do-calculus rule 3).

    >>> print(no_effect_estimand(("X",), ("Y",)))
    P(Y | do(X)) = P(Y)
    """
    xs, ys = tuple(treatment), tuple(outcome)
    return Estimand(xs, ys, Prob(ys), strategy="no_causal_path",
                    derivation=("no directed path from the treatment to the outcome, so by "
                                "rule 3 of the do-calculus the intervention can be deleted",))


def frontdoor_estimand(treatment: Iterable[Node], outcome: Iterable[Node],
                       mediators: Iterable[Node]) -> Estimand:
    """Pearl's front-door formula ∑_M P(M | X) ∑_X' P(Y | X', M) P(X') as an Estimand.

    >>> print(frontdoor_estimand(("X",), ("Y",), {"M"}))
    P(Y | do(X)) = ∑_{M} P(M | X) ∑_{X'} P(Y | M, X') P(X')
    """
    xs, ys, m = tuple(treatment), tuple(outcome), frozenset(mediators)
    inner = marginal(set(xs), product([Prob(ys, m | set(xs)), Prob(xs)]))
    expr = marginal(m, product([Prob(m, xs), inner]))
    why = (f"front-door through {{{_list(m)}}}: the effect of X on M and of M on Y are each "
           "identified by adjustment (the latter for X), and chained")
    return Estimand(xs, ys, expr, strategy="frontdoor", derivation=(why,))


def iv_estimand(treatment: Node, outcome: Node, instrument: Node,
                conditioning: Iterable[Node] = ()) -> Estimand:
    """The instrumental-variable (Wald / 2SLS) ratio as an Estimand.

    >>> print(iv_estimand("X", "Y", "Z"))
    P(Y | do(X)) = Cov(Y, Z) / Cov(X, Z)
    """
    w = frozenset(conditioning)
    expr = WaldRatio(outcome, treatment, instrument, w)
    why = (f"{instrument} is an instrument" + (f" given {{{_list(w)}}}" if w else "") +
           ": the ratio is the effect of X on Y in a linear model with a constant effect "
           "(a LATE under monotonicity for binary X and Z), not a nonparametric identification")
    return Estimand((treatment,), (outcome,), expr, strategy="instrumental_variable",
                    derivation=(why,))
