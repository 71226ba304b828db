"""Probability expressions: the trees an identification formula is made of.

Four node types, each immutable: ``Prob(A, B)`` is the observational P(A | B);
``Product`` multiplies factors; ``Sum(S, body)`` marginalizes the variables S of
its body (a binder: a summed variable is local to it); ``Quotient`` divides.
The constructors :func:`marginal`, :func:`product` and :func:`quotient`
simplify as they build (a marginal of a probability is a probability, a sum
pulls out the factors it does not bind, P(A, B | C) / P(B | C) = P(A | B, C)),
so formulas read as a textbook writes them.  Rendering renames a bound
variable that is also used outside its sum (``X'``).

Example
-------
>>> f = marginal({"Z"}, product([Prob({"Y"}, {"X", "Z"}), Prob({"Z"})]))
>>> print(f)
∑_{Z} P(Y | X, Z) P(Z)
>>> print(f.latex())
\\sum_{Z} P(Y \\mid X, Z) P(Z)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

Node = Hashable


def _key(v: Node) -> str:
    return str(v)


def _fmt(names: Iterable[Node], rename: dict) -> str:
    return ", ".join(rename.get(v, str(v)) for v in sorted(names, key=_key))


def _tex_name(name: str) -> str:
    base = name.rstrip("'")
    primes = name[len(base):]
    text = base.replace("\\", r"\backslash ").replace("_", r"\_").replace("{", r"\{") \
        .replace("}", r"\}").replace("&", r"\&").replace("%", r"\%").replace("#", r"\#")
    if len(base) > 1:
        text = r"\mathit{" + text + "}"
    return text + primes


class Expr:
    """Base class of the expression nodes."""

    @property
    def free(self) -> frozenset:  # pragma: no cover - abstract
        """The variables the expression is a function of."""
        raise NotImplementedError

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:  # pragma: no cover
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render({}, frozenset(), tex=False)

    def latex(self) -> str:
        """The expression in LaTeX (math mode, without the ``$``)."""
        return self.render({}, frozenset(), tex=True)


@dataclass(frozen=True)
class One(Expr):
    """The constant 1 (an empty product)."""

    @property
    def free(self) -> frozenset:
        return frozenset()

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        return "1"


@dataclass(frozen=True)
class Prob(Expr):
    """The observational P(variables | given)."""

    variables: frozenset
    given: frozenset = frozenset()

    def __init__(self, variables: Iterable[Node], given: Iterable[Node] = ()) -> None:
        object.__setattr__(self, "variables", frozenset(variables))
        object.__setattr__(self, "given", frozenset(given) - frozenset(variables))

    @property
    def free(self) -> frozenset:
        return self.variables | self.given

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        ren = {k: (_tex_name(v) if tex else v) for k, v in _names(self.free, rename).items()}
        body = _fmt(self.variables, ren)
        if self.given:
            body += (r" \mid " if tex else " | ") + _fmt(self.given, ren)
        return f"P({body})"


@dataclass(frozen=True)
class Product(Expr):
    """The product of its factors."""

    factors: tuple

    @property
    def free(self) -> frozenset:
        return frozenset().union(*(f.free for f in self.factors))

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        parts = []
        for i, f in enumerate(self.factors):
            others = frozenset().union(*(g.free for j, g in enumerate(self.factors) if j != i))
            text = f.render(rename, outside | others, tex)
            if isinstance(f, Sum) and i < len(self.factors) - 1:
                text = (r"\left[" + text + r"\right]") if tex else f"[{text}]"
            parts.append(text)
        return " ".join(parts)


@dataclass(frozen=True)
class Sum(Expr):
    """∑ over ``over`` of ``body`` (the summed variables are bound here)."""

    over: frozenset
    body: Expr

    @property
    def free(self) -> frozenset:
        return self.body.free - self.over

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        inner = dict(rename)
        for v in self.over:
            if v in outside or v in rename:
                name = rename.get(v, str(v)) + "'"
                while name in inner.values():
                    name += "'"
                inner[v] = name
            else:
                inner.pop(v, None)
        ren = {k: (_tex_name(n) if tex else n) for k, n in _names(self.over, inner).items()}
        idx = _fmt(self.over, ren)
        body = self.body.render(inner, outside | self.over, tex)
        return (r"\sum_{" + idx + "} " + body) if tex else f"∑_{{{idx}}} {body}"


@dataclass(frozen=True)
class Quotient(Expr):
    """``numerator / denominator``."""

    numerator: Expr
    denominator: Expr

    @property
    def free(self) -> frozenset:
        return self.numerator.free | self.denominator.free

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        num = self.numerator.render(rename, outside | self.denominator.free, tex)
        den = self.denominator.render(rename, outside | self.numerator.free, tex)
        return (r"\frac{" + num + "}{" + den + "}") if tex else f"({num}) / ({den})"


@dataclass(frozen=True)
class WaldRatio(Expr):
    """E[Cov(Y, Z | W)] / E[Cov(X, Z | W)]: the instrumental-variable estimand.

    It is the effect of X on Y only under further assumptions (a constant
    effect in a linear model; a LATE under monotonicity for binary X and Z).
    """

    outcome: Node
    treatment: Node
    instrument: Node
    given: frozenset = frozenset()

    @property
    def free(self) -> frozenset:
        return frozenset()

    def render(self, rename: dict, outside: frozenset, tex: bool) -> str:
        n = _tex_name if tex else str
        y, x, z = n(str(self.outcome)), n(str(self.treatment)), n(str(self.instrument))
        if self.given:
            w = ", ".join(n(str(v)) for v in sorted(self.given, key=_key))
            bar = r" \mid " if tex else " | "
            num = f"E[Cov({y}, {z}{bar}{w})]"
            den = f"E[Cov({x}, {z}{bar}{w})]"
        else:
            num, den = f"Cov({y}, {z})", f"Cov({x}, {z})"
        return (r"\frac{" + num + "}{" + den + "}") if tex else f"{num} / {den}"


def _names(variables: Iterable[Node], rename: dict) -> dict:
    return {v: rename.get(v, str(v)) for v in variables}


# ---------------------------------------------------------------------- constructors
def product(factors: Iterable[Expr]) -> Expr:
    """The product of ``factors``, flattened, without ones; a single factor is returned as is.

    >>> print(product([Prob({"A"}), One(), product([Prob({"B"}, {"A"})])]))
    P(A) P(B | A)
    """
    flat: list[Expr] = []
    for f in factors:
        if isinstance(f, Product):
            flat.extend(f.factors)
        elif not isinstance(f, One):
            flat.append(f)
    if not flat:
        return One()
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def marginal(over: Iterable[Node], body: Expr) -> Expr:
    """∑_over body, simplified.

    Sums nest into one; factors of a product that do not involve ``over`` move
    out of the sum; a marginal of P(A | B) over part of A is P(A \\ over | B),
    and a product whose last factor is the only one to mention a summed
    variable of its own left-hand side loses that factor (a conditional sums to 1).

    >>> print(marginal({"B"}, Prob({"A", "B"}, {"C"})))
    P(A | C)
    """
    s = frozenset(over) & body.free
    if not s:
        return body
    if isinstance(body, Sum):
        return marginal(s | body.over, body.body)
    if isinstance(body, Prob):
        if s <= body.variables:
            rest = body.variables - s
            return Prob(rest, body.given) if rest else One()
        return Sum(s, body)
    if isinstance(body, Product):
        factors = list(body.factors)
        changed = True
        while changed:  # drop conditionals P(A | B) whose A is summed and used nowhere else
            changed = False
            for i, f in enumerate(factors):
                if isinstance(f, Prob) and f.variables <= s:
                    others = frozenset().union(*(g.free for j, g in enumerate(factors) if j != i))
                    if not (f.variables & others):
                        s = s - f.variables
                        factors.pop(i)
                        changed = True
                        break
        inside = [f for f in factors if f.free & s]
        outside = [f for f in factors if not f.free & s]
        if not s:
            return product(factors)
        core = product(inside)
        inner = marginal(s, core) if len(inside) == 1 else Sum(s, core)
        return product(outside + [inner])
    return Sum(s, body)


def quotient(numerator: Expr, denominator: Expr) -> Expr:
    """numerator / denominator, simplified: P(A, B | C) / P(B | C) = P(A | B, C).

    >>> print(quotient(Prob({"A", "B"}), Prob({"B"})))
    P(A | B)
    """
    if isinstance(denominator, One):
        return numerator
    if (isinstance(numerator, Prob) and isinstance(denominator, Prob)
            and numerator.given == denominator.given
            and denominator.variables < numerator.variables):
        return Prob(numerator.variables - denominator.variables,
                    numerator.given | denominator.variables)
    if numerator == denominator:
        return One()
    return Quotient(numerator, denominator)


def conditional(body: Expr, domain: frozenset, target: Iterable[Node],
                given: Iterable[Node]) -> Expr:
    """body(target | given), where ``body`` is a distribution over ``domain``.

    >>> print(conditional(Prob({"A", "B", "C"}), frozenset("ABC"), {"A"}, {"B"}))
    P(A | B)
    """
    t, g = frozenset(target), frozenset(given) & domain
    num = marginal(domain - t - g, body)
    den = marginal(domain - g, body)
    return quotient(num, den)


def mentioned(expr: Expr) -> frozenset:
    """Every variable the expression reads from the distribution, bound or free.

    >>> sorted(mentioned(marginal({"Z"}, product([Prob({"Y"}, {"X", "Z"}), Prob({"Z"})]))))
    ['X', 'Y', 'Z']
    """
    if isinstance(expr, Prob):
        return expr.free
    if isinstance(expr, Product):
        return frozenset().union(*(mentioned(f) for f in expr.factors))
    if isinstance(expr, Sum):
        return mentioned(expr.body)
    if isinstance(expr, Quotient):
        return mentioned(expr.numerator) | mentioned(expr.denominator)
    if isinstance(expr, WaldRatio):
        return frozenset({expr.outcome, expr.treatment, expr.instrument}) | expr.given
    return frozenset()
