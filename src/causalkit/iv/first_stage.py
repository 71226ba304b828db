"""First-stage strength: the F statistic and the effective F of Montiel Olea & Pflueger.

After partialling the exogenous covariates ``W`` out of the treatment ``d``
and the instruments ``Z`` (Frisch–Waugh–Lovell), the first stage regresses
``d`` on ``Z``.  Its F statistic is the Wald statistic of ``pi = 0`` divided by
the number of instruments ``k`` (classical, heteroskedasticity-robust HC0 or
cluster-robust, one- or two-way).  The effective F (Montiel Olea & Pflueger 2013, "A robust
test for weak instruments", JBES 31(3)) is ``pi' Q pi / tr(V Q)`` with
``Q = Z'Z`` and ``V`` the (robust) covariance of ``pi``; it equals the
classical F under homoskedasticity and the robust F with one instrument.
Below 10 (Staiger & Stock's rule of thumb) a :class:`UserWarning` is issued.

Two conventions, as linearmodels' ``debiased`` flag (:class:`VarianceRule`):
the large-sample one (default) divides by ``n`` and refers the Wald statistic
to chi-square(k); the small-sample one (``small_sample=True``) divides by
``n - K`` (``K`` the regressors of the regression, covariates and intercept
included; clustered: the factor ``G/(G-1) (n-1)/(n-K)``) and refers ``F`` to
``F(k, n - K)`` (``F(k, G - 1)`` when clustered).  The same rule serves the
Anderson–Rubin set, so the two never disagree on the degrees of freedom.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(500, 1)); d = 0.5 * z[:, 0] + rng.normal(size=500)
>>> fs = first_stage_strength(d, z)
>>> fs.f_stat > 50 and abs(fs.f_stat - fs.f_effective) < 1e-9
True
>>> small = first_stage_strength(d, z, cov_type="unadjusted", small_sample=True)
>>> small.df, round(small.f_stat / first_stage_strength(d, z, cov_type="unadjusted").f_stat, 6)
(498.0, 0.996)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import OptionError
from ..linear import equilibrate, factorize_clusters

COV_TYPES = ("robust", "unadjusted", "clustered")


@dataclass(frozen=True)
class VarianceRule:
    """How a regression's covariance is scaled and which distribution its tests use.

    ``n_params`` is ``K``, the number of regressors (intercept, covariates and the
    regressors of interest).  ``groups`` are integer cluster codes, (n,) or (n, 2).

    >>> VarianceRule("unadjusted", n_obs=100, n_params=5, small_sample=True).df
    95.0
    >>> VarianceRule("robust", n_obs=100, n_params=5).df is None
    True
    """

    cov_type: str
    n_obs: int
    n_params: int
    small_sample: bool = False
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.cov_type not in COV_TYPES:
            raise OptionError(f"cov_type must be one of {', '.join(COV_TYPES)}, "
                              f"got {self.cov_type!r}")
        if self.cov_type == "clustered" and self.groups is None:
            raise OptionError("cov_type='clustered' needs a cluster column")

    @property
    def cluster_counts(self) -> list[int]:
        """Number of clusters in each cluster dimension (empty when not clustered)."""
        return [] if self.groups is None else factorize_clusters(self.groups)[1]

    @property
    def df(self) -> float | None:
        """Denominator degrees of freedom of t and F tests; ``None`` for normal/chi-square."""
        if not self.small_sample:
            return None
        if self.cov_type == "clustered":
            return float(min(self.cluster_counts) - 1)
        return float(self.n_obs - self.n_params)

    def wald_p_value(self, wald: float, k: int) -> float:
        """p-value of a Wald statistic of ``k`` restrictions (chi2(k), or F(k, df) of wald/k)."""
        df = self.df
        return float(stats.chi2.sf(wald, k) if df is None else stats.f.sf(wald / k, k, df))

    def wald_critical(self, alpha: float, k: int) -> float:
        """Critical value of the Wald statistic: chi2(k) or k times the F(k, df) quantile."""
        df = self.df
        return float(stats.chi2.isf(alpha, k) if df is None else k * stats.f.isf(alpha, k, df))


def partial_out(W: np.ndarray | None, *arrays: np.ndarray,
                weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Residuals of each array (column-wise) after least squares on ``[1, W]``.

    ``[1, W]`` is equilibrated first, so the units of the covariates do not matter.
    With sampling ``weights`` every array and ``[1, W]`` are first multiplied by
    ``sqrt(weights)`` (weighted least squares as OLS on transformed data, as
    linearmodels does): the residuals returned are the transformed ones, and every
    moment built on them is the weighted moment.

    >>> partial_out(None, np.array([1.0, 3.0]))[0].round(9).tolist()
    [-1.0, 1.0]
    """
    n = len(arrays[0])
    X = np.ones((n, 1)) if W is None or W.size == 0 else np.column_stack([np.ones(n), W])
    root = np.ones((n, 1)) if weights is None else np.sqrt(np.asarray(weights, float))[:, None]
    X = equilibrate(X * root)[0]
    out = []
    for a in arrays:
        a2 = np.asarray(a, dtype=float).reshape(n, -1) * root
        coef = np.linalg.lstsq(X, a2, rcond=None)[0]
        res = a2 - X @ coef
        out.append(res if np.ndim(a) > 1 else res[:, 0])
    return out


def _cluster_meat(Zt: np.ndarray, res_a: np.ndarray, res_b: np.ndarray, codes: np.ndarray
                  ) -> tuple[np.ndarray, int]:
    """Sum over clusters of (Z' a)_g (Z' b)_g' and the number of clusters."""
    n_groups = int(codes.max()) + 1
    sa = np.zeros((n_groups, Zt.shape[1]))
    sb = np.zeros_like(sa)
    np.add.at(sa, codes, Zt * res_a[:, None])
    np.add.at(sb, codes, Zt * res_b[:, None])
    return sa.T @ sb, n_groups


def sandwich(Zt: np.ndarray, res_a: np.ndarray, res_b: np.ndarray,
             rule: VarianceRule) -> np.ndarray:
    """``Q^-1 S Q^-1`` for coefficients on ``Zt``; ``S`` pairs residuals ``a`` and ``b``.

    ``unadjusted`` uses ``sum(a * b) / n * Q^-1`` (``/ (n - K)`` in small samples),
    ``robust`` the HC0 sum (times ``n / (n - K)``) and ``clustered`` the sum of
    cluster scores (times ``G/(G-1) (n-1)/(n-K)``); with two cluster columns the
    two-way ``S_a + S_b - S_ab`` of Cameron, Gelbach & Miller (2011), each term
    with its own ``G``.  This is linearmodels' convention with ``debiased`` =
    ``rule.small_sample``.
    """
    n, K = len(res_a), rule.n_params
    Qi = np.linalg.inv(Zt.T @ Zt)
    small = rule.small_sample
    if rule.cov_type == "unadjusted":
        return float(res_a @ res_b) / (n - K if small else n) * Qi
    if rule.cov_type == "robust":
        S = (Zt * (res_a * res_b)[:, None]).T @ Zt * (n / (n - K) if small else 1.0)
    else:
        codes = factorize_clusters(rule.groups)[0]
        if codes.ndim == 1:
            parts = [(1.0, codes)]
        else:
            both = np.unique(codes, axis=0, return_inverse=True)[1].reshape(-1)
            parts = [(1.0, codes[:, 0]), (1.0, codes[:, 1]), (-1.0, both)]
        S = np.zeros((Zt.shape[1], Zt.shape[1]))
        for sign, c in parts:
            meat, g = _cluster_meat(Zt, res_a, res_b, c)
            S += sign * meat * (g / (g - 1) * (n - 1) / (n - K) if small else 1.0)
    return Qi @ S @ Qi


@dataclass(frozen=True)
class FirstStage:
    """First-stage coefficients of the instruments and their strength.

    ``p_value`` tests that every instrument's coefficient is zero, from chi2(k)
    or, in small samples, ``F(k, df)`` with ``df`` the denominator degrees of freedom.
    """

    coefficients: np.ndarray
    cov: np.ndarray
    f_stat: float
    f_effective: float
    partial_r2: float
    n_instruments: int
    cov_type: str
    p_value: float = float("nan")
    df: float | None = None


def n_exogenous(W: np.ndarray | None, n: int) -> int:
    """Number of exogenous regressors: the intercept plus the columns of ``W``."""
    return 1 + (0 if W is None else np.asarray(W).reshape(n, -1).shape[1])


def first_stage_strength(d: np.ndarray, Z: np.ndarray, W: np.ndarray | None = None,
                         cov_type: str = "robust", groups: np.ndarray | None = None,
                         small_sample: bool = False,
                         weights: np.ndarray | None = None) -> FirstStage:
    """First-stage F, effective F and partial R-squared of instruments ``Z`` for ``d``.

    ``small_sample`` selects the ``n - K`` variance and the F reference
    distribution (see the module docstring).  The instruments are equilibrated
    internally: their units change only their coefficients.  ``weights``: the
    weighted first stage (:func:`partial_out`).
    """
    Z = np.asarray(Z, dtype=float).reshape(len(d), -1)
    dt, Zt = partial_out(W, d, Z, weights=weights)
    Zt, scales = equilibrate(Zt)
    k = Zt.shape[1]
    rule = VarianceRule(cov_type, len(d), n_exogenous(W, len(d)) + k, small_sample, groups)
    Q = Zt.T @ Zt
    pi = np.linalg.solve(Q, Zt.T @ dt)
    e = dt - Zt @ pi
    V = sandwich(Zt, e, e, rule)
    wald = float(pi @ np.linalg.solve(V, pi))
    f_eff = float(pi @ Q @ pi) / float(np.trace(V @ Q))
    tss = float(dt @ dt)
    r2 = 1.0 - float(e @ e) / tss if tss > 0 else 0.0
    return FirstStage(pi / scales, V / np.outer(scales, scales), wald / k, f_eff, r2, k,
                      cov_type, rule.wald_p_value(wald, k), rule.df)


def weak_instrument_warning(f_stat: float, threshold: float = 10.0,
                            what: str = "the instrument(s)") -> None:
    """Warn (``UserWarning``) when the first-stage F is below ``threshold``."""
    if f_stat < threshold:
        warnings.warn(
            f"weak instrument: first-stage F = {f_stat:.2f} < {threshold:g} for {what}; the "
            "Wald confidence interval can badly under-cover, use the Anderson-Rubin set in "
            "diagnostics['anderson_rubin_ci']", UserWarning, stacklevel=3)
