"""Wild cluster bootstrap for one linear restriction of an OLS fit, the fast way.

The restricted wild cluster bootstrap (WCR, the null imposed; Cameron, Gelbach &
Miller 2008) of the CRV1 t statistic for ``H0: R'beta = r``, computed with the
algorithm of Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and wild",
Stata Journal 19(1)): everything the bootstrap needs is a handful of
cluster-level sums (G x k), so a draw costs O(G k) and no n x B matrix is ever
formed.  With ``delta = R'beta_hat - r`` the restricted residuals are
``u_hat + delta q`` (``q = X A R / R'A R``, ``A = (X'X)^-1``), so the bootstrap
numerator and the three pieces of its squared CRV1 denominator are linear and
quadratic in ``delta``: the p-value of any null ``r`` then costs O(B), and the
confidence interval is found by inverting the test (bisection on ``r``).

Rademacher weights (+-1) are enumerated exactly (all ``2^G`` sign vectors)
when ``2^G <= n_bootstrap``; otherwise, and for Webb's six-point weights, the
draws come from ``numpy.random.default_rng(random_state)``.  The p-value is the
symmetric one, the share of draws with ``|t*| > |t|``.

Fixed effects that are nested within the clusters (unit effects when
clustering by unit or by a coarser group) are partialled out exactly
(``absorb=``): the residuals of the full model then sum to zero within each
cluster, so the bootstrap of the demeaned regression is the bootstrap of the
dummy-variable regression.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> G, m = 10, 20
>>> g = np.repeat(np.arange(G), m)
>>> x = rng.normal(size=G * m) + rng.normal(size=G)[g]
>>> y = 1.0 + 0.5 * x + rng.normal(size=G)[g] + rng.normal(size=G * m)
>>> X = np.column_stack([np.ones(G * m), x])
>>> res = wild_cluster_bootstrap(y, X, [0.0, 1.0], g)
>>> res.enumerated, res.n_draws, res.ci_low < 0.5 < res.ci_high, res.p_value < 0.05
(True, 1024, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .errors import EstimationError, OptionError
from .linear import equilibrate, require_full_rank

WEIGHTS = ("rademacher", "webb")
BOOTSTRAPS = ("wild",)
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_TIE = 1e-10            # |t*| within this relative distance of |t| is a tie (not counted)
_CHUNK = 2 ** 23        # at most this many (cluster, draw) cells in memory at once


@dataclass(frozen=True)
class WildBootstrap:
    """Result of :func:`wild_cluster_bootstrap` for the restriction ``R'beta = r``.

    ``estimate`` is ``R'beta_hat``, ``std_error`` its CRV1 standard error,
    ``statistic`` the CRV1 t statistic of ``H0: R'beta = r``, ``p_value`` its
    wild bootstrap p-value, ``(ci_low, ci_high)`` the ``1 - alpha`` interval by
    test inversion (infinite when the test never rejects on that side).
    """

    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    n_clusters: int
    n_draws: int
    enumerated: bool
    weights: str
    impose_null: bool

    def describe(self) -> str:
        """One line for an Effect's ``inference`` text."""
        kind = "restricted (WCR, null imposed)" if self.impose_null else "unrestricted (WCU)"
        draws = (f"all {self.n_draws} sign vectors enumerated" if self.enumerated
                 else f"{self.n_draws} {self.weights.capitalize()} draws")
        return (f"wild cluster bootstrap-t p-value and test-inversion CI ({kind}, {draws}, "
                f"{self.n_clusters} clusters, Roodman et al. 2019)")

    def diagnostics(self) -> dict[str, Any]:
        """The bootstrap's figures for an Effect's diagnostics."""
        return {"wild_bootstrap": {
            "p_value": self.p_value, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "statistic": self.statistic, "n_draws": self.n_draws,
            "enumerated": self.enumerated, "weights": self.weights,
            "impose_null": self.impose_null, "n_clusters": self.n_clusters}}


def check_options(bootstrap: str | None, n_bootstrap: int, bootstrap_weights: str,
                  clusters: np.ndarray | None = None, weights: Any = None) -> None:
    """Validate the bootstrap options of an estimator (``bootstrap=None`` checks nothing else).

    >>> check_options("wild", 999, "webb")
    >>> try:
    ...     check_options("pairs", 999, "webb")
    ... except OptionError as err:
    ...     print(err)
    bootstrap must be None or 'wild', got 'pairs'
    """
    if bootstrap is None:
        return
    if bootstrap not in BOOTSTRAPS:
        raise OptionError(f"bootstrap must be None or 'wild', got {bootstrap!r}")
    if bootstrap_weights not in WEIGHTS:
        raise OptionError(f"bootstrap_weights must be one of {', '.join(WEIGHTS)}, got "
                          f"{bootstrap_weights!r}")
    if isinstance(n_bootstrap, bool) or int(n_bootstrap) != n_bootstrap or n_bootstrap < 99:
        raise OptionError(f"n_bootstrap must be an integer >= 99, got {n_bootstrap!r}")
    if weights is not None:
        raise OptionError(f"bootstrap='wild' does not take sampling weights yet (weights="
                          f"{weights!r}): drop one of them (the analytic weighted SEs remain)")
    if clusters is not None and np.ndim(clusters) == 2:
        raise OptionError("the wild cluster bootstrap clusters one way: give cluster= one "
                          "column with bootstrap='wild' (two-way clustering is analytic only)")


def demean_within(M: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Columns of ``M`` minus their means within the groups ``codes`` (one-way within).

    >>> demean_within(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 1])).ravel().tolist()
    [-1.0, 1.0, 0.0]
    """
    codes = np.asarray(codes)
    counts = np.bincount(codes).astype(float)
    M = np.asarray(M, dtype=float)
    sums = np.zeros((counts.size, M.shape[1]))
    np.add.at(sums, codes, M)
    return M - (sums / counts[:, None])[codes]


def _cluster_matrix(codes: np.ndarray, n_clusters: int) -> sparse.csr_matrix:
    n = codes.size
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_clusters, n))


def _draws(n_clusters: int, n_bootstrap: int, weights: str, rng: np.random.Generator
           ) -> tuple[np.ndarray, bool]:
    """The G x B weight matrix and whether it enumerates every Rademacher sign vector."""
    if weights == "rademacher" and 2 ** n_clusters <= n_bootstrap:
        grid = np.array(np.meshgrid(*([[-1.0, 1.0]] * n_clusters), indexing="ij"))
        return grid.reshape(n_clusters, -1), True
    values = np.array([-1.0, 1.0]) if weights == "rademacher" else _WEBB
    return rng.choice(values, size=n_clusters * n_bootstrap).reshape(n_clusters,
                                                                     n_bootstrap), False


def wild_cluster_bootstrap(y: np.ndarray, X: np.ndarray, R: Sequence[float] | np.ndarray,
                           clusters: np.ndarray, *, r: float = 0.0, alpha: float = 0.05,
                           n_bootstrap: int = 9999, weights: str = "rademacher",
                           impose_null: bool = True, random_state: int = 0,
                           absorb: np.ndarray | None = None,
                           names: Sequence[Any] | None = None,
                           check_rank: bool = True) -> WildBootstrap:
    """Wild cluster bootstrap-t (CRV1) test of ``R'beta = r`` and its inverted CI.

    ``clusters`` is one cluster code per row; ``absorb`` optional group codes of
    fixed effects nested within the clusters, partialled out exactly (the
    regression then has those effects besides the columns of ``X``).  With
    ``impose_null`` (default) the bootstrap samples are generated under the null
    (WCR), which MacKinnon & Webb recommend with few or unbalanced clusters.
    ``names`` label the columns of ``X`` if it is collinear; ``check_rank=False``
    skips that check for a design the caller has already checked.

    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(30), 5); x = rng.normal(size=150)
    >>> y = 0.3 * x + rng.normal(size=30)[g] + rng.normal(size=150)
    >>> res = wild_cluster_bootstrap(y, np.column_stack([np.ones(150), x]), [0, 1], g,
    ...                              n_bootstrap=999, weights="webb", random_state=3)
    >>> res.enumerated, res.n_draws, bool(res.ci_low < res.estimate < res.ci_high)
    (False, 999, True)
    """
    check_options("wild", n_bootstrap, weights)
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    R = np.asarray(R, dtype=float).ravel()
    codes, uniques = pd.factorize(np.asarray(clusters), sort=True)
    G = len(uniques)
    if G < 2:
        raise OptionError("the wild cluster bootstrap needs at least 2 clusters")
    n = y.size
    if absorb is not None:
        fe = pd.factorize(np.asarray(absorb))[0]
        per_fe = pd.Series(codes).groupby(fe).nunique()
        if (per_fe > 1).any():
            raise EstimationError("the absorbed fixed effects are not nested within the "
                                  "clusters; the wild bootstrap can partial out only nested "
                                  "effects")
        y = demean_within(y[:, None], fe).ravel()
        X = demean_within(X, fe)
        n_absorbed = int(fe.max()) + 1
    else:
        n_absorbed = 0
    if check_rank:
        require_full_rank(X, names=names)
    Xs, scales = equilibrate(X)
    Rs = R / scales                                  # R'beta = Rs' beta_scaled
    k = Xs.shape[1]
    A = np.linalg.inv(Xs.T @ Xs)
    beta = A @ (Xs.T @ y)
    u = y - Xs @ beta
    a = A @ Rs
    RAR = float(Rs @ a)
    estimate = float(Rs @ beta)
    C = _cluster_matrix(codes, G)
    xa = Xs @ a
    S0 = np.asarray(C @ (Xs * u[:, None]))           # cluster scores X_g'u_g (G x k)
    J = np.asarray(C @ (Xs * xa[:, None]))           # X_g'X_g a (G x k)
    c0 = S0 @ a
    if impose_null:
        S1 = J / RAR                                 # the scores of q = X a / R'A R
        c1 = S1 @ a
    else:
        S1, c1 = np.zeros_like(S0), np.zeros(G)
    ssc = G / (G - 1) * (n - 1) / (n - k - n_absorbed)
    se = float(np.sqrt(ssc * np.sum(c0 ** 2)))
    if not (np.isfinite(se) and se > 0):
        raise EstimationError("the cluster-robust standard error is zero or not finite; the "
                              "wild bootstrap t statistic is undefined")

    rng = np.random.default_rng(random_state)
    V, enumerated = _draws(G, int(n_bootstrap), weights, rng)
    B = V.shape[1]
    n0, n1 = np.empty(B), np.empty(B)
    d00, d01, d11 = np.empty(B), np.empty(B), np.empty(B)
    step = max(1, _CHUNK // G)
    small = G <= 4 * k                               # else G x G is never formed
    if small:
        JA0, JA1 = J @ (A @ S0.T), J @ (A @ S1.T)
    for lo in range(0, B, step):
        v = V[:, lo:lo + step]
        if small:
            Z0 = c0[:, None] * v - JA0 @ v
            Z1 = c1[:, None] * v - JA1 @ v
        else:
            Z0 = c0[:, None] * v - J @ (A @ (S0.T @ v))
            Z1 = c1[:, None] * v - J @ (A @ (S1.T @ v))
        n0[lo:lo + step], n1[lo:lo + step] = c0 @ v, c1 @ v
        d00[lo:lo + step] = np.einsum("gb,gb->b", Z0, Z0)
        d01[lo:lo + step] = np.einsum("gb,gb->b", Z0, Z1)
        d11[lo:lo + step] = np.einsum("gb,gb->b", Z1, Z1)

    def p_value(delta: float) -> float:
        t = abs(delta) / se
        num = np.abs(n0 + delta * n1)
        den = np.sqrt(np.maximum(ssc * (d00 + 2 * delta * d01 + delta ** 2 * d11), 0.0))
        return float(np.mean(num > den * t * (1 + _TIE)))

    def bound(sign: float) -> float:
        """The distance from the estimate to the CI end on one side (inf if unbounded)."""
        inside, outside = 0.0, sign * se
        while p_value(outside) > alpha:
            inside, outside = outside, 2 * outside
            if abs(outside) > 1e6 * se:
                return np.inf
        for _ in range(200):
            mid = 0.5 * (inside + outside)
            if mid in (inside, outside):
                break
            if p_value(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return abs(inside + outside) / 2

    delta0 = estimate - r * 1.0
    return WildBootstrap(
        estimate=estimate, std_error=se, statistic=delta0 / se, p_value=p_value(delta0),
        ci_low=estimate - bound(1.0), ci_high=estimate + bound(-1.0), alpha=float(alpha),
        n_clusters=G, n_draws=B, enumerated=enumerated, weights=weights,
        impose_null=bool(impose_null))


#: Parameter text shared by the docstrings of the estimators that take the bootstrap.
OPTIONS_DOC = """
    bootstrap
        ``None`` (default) for analytic inference, or ``"wild"`` for the restricted
        wild cluster bootstrap-t p-value and test-inversion CI (Roodman et al. 2019;
        rows are the clusters when nothing is clustered).
    n_bootstrap
        Number of wild bootstrap draws (Rademacher sign vectors are enumerated when
        ``2^G <= n_bootstrap``).
    bootstrap_weights
        ``"rademacher"`` (default) or ``"webb"`` (six-point, better with few clusters).
    impose_null
        Impose the null in the bootstrap samples (WCR, default) or not (WCU).
    random_state
        Seed of the bootstrap draws.
"""


def bootstrap_effect(effect: Any, y: np.ndarray, X: np.ndarray, R: Sequence[float] | np.ndarray,
                     clusters: np.ndarray | None, *, n_bootstrap: int, weights: str,
                     impose_null: bool, random_state: int, absorb: np.ndarray | None = None,
                     names: Sequence[Any] | None = None) -> Any:
    """The ``effect`` with its p-value and CI replaced by the wild bootstrap's.

    The point estimate and the analytic standard error stay; the bootstrap's
    figures are also in ``diagnostics["wild_bootstrap"]``.  ``clusters=None``
    bootstraps rows (the heteroskedastic wild bootstrap).
    """
    from dataclasses import replace

    if clusters is None:
        clusters = np.arange(len(y))
    res = wild_cluster_bootstrap(y, X, R, clusters, alpha=effect.alpha,
                                 n_bootstrap=n_bootstrap, weights=weights,
                                 impose_null=impose_null, random_state=random_state,
                                 absorb=absorb, names=names, check_rank=False)
    if not np.isclose(res.estimate, effect.estimate, rtol=1e-7,
                      atol=1e-9 * max(1.0, res.std_error)):
        raise EstimationError("internal error: the wild bootstrap design does not reproduce "
                              f"the estimate ({res.estimate} vs {effect.estimate})")
    return replace(effect, p_value=res.p_value, ci_low=res.ci_low, ci_high=res.ci_high,
                   inference=f"{effect.inference}; p-value and CI: {res.describe()}",
                   diagnostics={**effect.diagnostics, **res.diagnostics()})


def document_options(func: Any) -> Any:
    r"""Decorator: add the bootstrap options' text at the end of ``func``'s ``Parameters``
    section (before the next numpydoc section, such as ``Notes``, or at the end).

    >>> def f(data, bootstrap=None):
    ...     pass
    >>> f.__doc__ = "Fit.\n\n    Parameters\n    ----------\n    data\n        The rows.\n\n    Notes\n    -----\n    A note.\n"
    >>> doc = document_options(f).__doc__
    >>> doc.index("bootstrap\n") < doc.index("Notes") < doc.index("A note")
    True
    """
    import re

    doc = func.__doc__ or ""
    params = re.search(r"\n[ \t]*Parameters\n[ \t]*-{3,}\n", doc)
    following = re.compile(r"\n\n[ \t]*[A-Z][A-Za-z ]*\n[ \t]*-{3,}\n")
    nxt = following.search(doc, params.end()) if params else None
    if nxt is None:
        func.__doc__ = doc.rstrip() + "\n" + OPTIONS_DOC
    else:
        func.__doc__ = doc[:nxt.start()].rstrip() + "\n" + OPTIONS_DOC.rstrip("\n") + doc[nxt.start():]
    return func
