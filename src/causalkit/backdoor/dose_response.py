"""Dose-response curves for a continuous treatment: ``theta(a) = E[Y(a)]``.

Two estimators, both adjusting for the covariates ``X`` (no unmeasured confounding
of the dose ``A``):

* ``estimator="kernel"`` (default): the doubly robust kernel estimator of
  E. H. Kennedy, Z. Ma, M. D. McHugh and D. S. Small (2017), "Non-parametric
  methods for doubly robust estimation of continuous treatment effects", JRSS B
  79(4), 1229-1245.  Cross-fitted nuisances (K folds, :mod:`causalkit.nuisance`):
  the outcome regression ``mu(x, a)`` and the conditional treatment density
  ``pi(a | x)`` (normal, or a kernel density of the standardized residuals).
  With ``varpi(a) = P_n pi(a | X)`` and ``m(a) = P_n mu(X, a)`` every unit gets the
  pseudo-outcome

      xi = (Y - mu(X, A)) varpi(A) / pi(A | X) + m(A),

  which is regressed on ``A`` by local-linear kernel regression (Gaussian kernel).
  ``E[xi | A = a] = theta(a)`` when either nuisance is correct.  The bandwidth
  minimizes the leave-one-out risk ``P_n[((xi - theta_h(A)) / (1 - H_h(A)))^2]`` over
  a grid (the paper's section 3.5).  Pointwise intervals use the paper's sandwich
  variance ``e1' D^-1 P_n[phi phi'] D^-1 e1 / n`` with
  ``phi = g K (xi - g'beta) + int g K (mu(X, t) - m(t)) dP_n(t)`` (Theorem 3); the
  uniform band replaces 1.96 by the quantile of the supremum of the studentized
  process from a Gaussian multiplier bootstrap of those influence functions.
  Intervals are for the kernel-smoothed curve ``theta_h``; with the risk-minimizing
  bandwidth the smoothing bias is of the order of the SE where the curve bends sharply.
* ``estimator="gps"``: the generalized propensity score of K. Hirano and G. W.
  Imbens (2004), "The propensity score with continuous treatments", in *Applied
  Bayesian Modeling and Causal Inference from Incomplete-Data Perspectives*,
  73-84.  ``A | X`` normal linear, ``R = pi(A | X)``; the outcome model
  ``E[Y | A, R] = a0 + a1 A + a2 A^2 + a3 R + a4 R^2 + a5 A R`` (OLS); the curve is
  ``theta(a) = P_n E[Y | a, pi(a | X)]``; SEs and bands from the nonparametric
  bootstrap of the whole procedure.

A point mass in the dose (e.g. 40% zeros: non-users beside users) is refused
unless ``point_mass="exclude"`` or ``"ignore"`` says how to handle it
(:func:`causalkit.validation.check_point_mass`).

Example
-------
>>> import numpy as np, pandas as pd, causalkit
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=600); a = 0.5 * x + rng.normal(size=600)
>>> df = pd.DataFrame({"a": a, "x": x, "y": a + x + rng.normal(size=600)})
>>> curve = causalkit.dose_response(df, "a", "y", covariates=["x"], grid=5)
>>> list(curve.columns)[:4]
['dose', 'estimate', 'std_error', 'ci_low']
>>> bool(np.all(np.abs(curve.estimate - curve.dose) < 4 * curve.std_error))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..effect import Effect
from ..errors import EstimationError, OptionError
from ..inference import check_alpha, critical_value
from ..nuisance import TreatmentDensity, fit_predict, folds
from ..registry import register
from ..validation import ContinuousData, prepare_continuous

ESTIMATORS = ("kernel", "gps")
_SQRT2PI = np.sqrt(2 * np.pi)


# ------------------------------------------------------------------ the curve frame
class DoseResponseCurve(pd.DataFrame):
    """A dose-response curve: one row per dose with ``estimate``, ``std_error``,
    pointwise ``ci_low``/``ci_high`` and uniform ``band_low``/``band_high``.

    ``attrs`` holds how it was estimated (``method``, ``bandwidth``, ``alpha``,
    ``treatment``, ``outcome``, ``n_obs``, ``inference``); :meth:`plot` draws it.
    """

    @property
    def _constructor(self) -> type:
        return DoseResponseCurve

    def plot(self, ax: Any = None, bands: bool = True,  # type: ignore[override]
             **kwargs: Any) -> Any:
        """Plot the curve with its pointwise intervals (and uniform band); returns the axes.

        >>> import matplotlib; matplotlib.use("Agg")
        >>> c = DoseResponseCurve({"dose": [0.0, 1.0], "estimate": [0.0, 1.0],
        ...                        "ci_low": [-1.0, 0.0], "ci_high": [1.0, 2.0]})
        >>> c.plot().get_xlabel()
        'dose'
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        x = self["dose"].to_numpy()
        ax.plot(x, self["estimate"].to_numpy(), color="C0", label="estimate", **kwargs)
        if bands and "band_low" in self and np.isfinite(self["band_low"]).any():
            ax.fill_between(x, self["band_low"], self["band_high"], color="C0", alpha=0.12,
                            label="uniform band")
        if bands and "ci_low" in self:
            ax.fill_between(x, self["ci_low"], self["ci_high"], color="C0", alpha=0.25,
                            label="pointwise CI")
        ax.set_xlabel(str(self.attrs.get("treatment", "dose")) if self.attrs.get("treatment")
                      else "dose")
        ax.set_ylabel(f"E[{self.attrs['outcome']}(a)]" if self.attrs.get("outcome")
                      else "E[Y(a)]")
        ax.set_title(f"Dose-response curve ({self.attrs.get('method', 'estimate')})")
        ax.legend()
        return ax


def _curve_frame(doses: np.ndarray, est: np.ndarray, centre: np.ndarray, se: np.ndarray,
                 crit: float, band_crit: float, attrs: dict[str, Any]) -> DoseResponseCurve:
    frame = DoseResponseCurve({
        "dose": doses, "estimate": est, "std_error": se,
        "ci_low": centre - crit * se, "ci_high": centre + crit * se,
        "band_low": centre - band_crit * se, "band_high": centre + band_crit * se,
        "ci_centre": centre})
    frame.attrs.update(attrs, uniform_critical_value=float(band_crit))
    return frame


# ------------------------------------------------------------------ local linear kernel
def _kernel_moments(a: np.ndarray, points: np.ndarray, h: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``K_h(A_i - t)`` and ``u = (A_i - t) / h`` as (n, len(points)) matrices."""
    u = (a[:, None] - points[None, :]) / h
    return np.exp(-0.5 * u * u) / (_SQRT2PI * h), u


def local_linear(a: np.ndarray, xi: np.ndarray, points: np.ndarray, h: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Local-linear fit of ``xi`` on ``a`` at ``points`` (Gaussian kernel, bandwidth ``h``)
    and the weight each fit puts on an observation at the point itself (the hat value).

    >>> a = np.linspace(0, 1, 50)
    >>> fit, _ = local_linear(a, 2 * a + 1, np.array([0.0, 0.5]), 0.2)
    >>> np.round(fit, 10).tolist()
    [1.0, 2.0]
    """
    K, u = _kernel_moments(a, points, h)
    s0, s1, s2 = K.mean(0), (K * u).mean(0), (K * u * u).mean(0)
    t0, t1 = (K * xi[:, None]).mean(0), (K * u * xi[:, None]).mean(0)
    det = s0 * s2 - s1 * s1
    det = np.where(det > 0, det, np.nan)
    fit = (s2 * t0 - s1 * t1) / det
    hat = s2 / det / (_SQRT2PI * h) / len(a)
    return fit, hat


def _nodes(a: np.ndarray, size: int = 200) -> np.ndarray:
    return np.linspace(a.min(), a.max(), size)


def loo_risk(a: np.ndarray, xi: np.ndarray, h: float) -> float:
    """Leave-one-out risk ``mean(((xi - theta_h(A)) / (1 - H_h(A)))^2)`` of the local-linear
    fit, with the fit and the hat values on a 200-point grid interpolated to each ``A``
    (Kennedy et al. 2017, section 3.5).

    >>> rng = np.random.default_rng(0); a = rng.normal(size=300)
    >>> xi = a + rng.normal(size=300)
    >>> bool(loo_risk(a, xi, 1.0) < loo_risk(a, xi, 0.02))
    True
    """
    nodes = _nodes(a)
    fit, hat = local_linear(a, xi, nodes, h)
    if not (np.all(np.isfinite(fit)) and np.all(np.isfinite(hat))):
        return np.inf
    f, H = np.interp(a, nodes, fit), np.interp(a, nodes, hat)
    if np.any(H >= 1):
        return np.inf
    return float(np.mean(((xi - f) / (1 - H)) ** 2))


def select_bandwidth(a: np.ndarray, xi: np.ndarray, bandwidths: Sequence[float] | None = None
                     ) -> tuple[float, pd.DataFrame]:
    """The bandwidth of least leave-one-out risk over ``bandwidths`` (default 30 values,
    geometric from 0.05 to 2 standard deviations of ``a``), and the risk table."""
    sd = float(np.std(a))
    grid = (np.geomspace(0.05 * sd, 2.0 * sd, 30) if bandwidths is None
            else np.asarray(bandwidths, dtype=float))
    if grid.ndim != 1 or grid.size < 1 or not np.all(np.isfinite(grid) & (grid > 0)):
        raise OptionError("bandwidth must be a positive number, a list of positive "
                          "candidates, or None (data-driven)")
    risk = np.array([loo_risk(a, xi, h) for h in grid])
    if not np.isfinite(risk).any():
        raise EstimationError("no candidate bandwidth gives a finite leave-one-out risk; "
                              "pass larger bandwidths")
    return float(grid[int(np.nanargmin(risk))]), pd.DataFrame({"bandwidth": grid, "risk": risk})


def local_polynomial_influence(a: np.ndarray, xi: np.ndarray, doses: np.ndarray, h: float,
                               order: int, nodes: np.ndarray, mu_nodes: np.ndarray,
                               m_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local-polynomial fit of the pseudo-outcomes at ``doses`` and its influence functions.

    ``beta(t) = D^-1 P_n[g K xi]`` with ``g = (1, u, ..., u^order)``,
    ``D = P_n[g g' K]``; the influence function of ``e1' beta`` for unit ``i`` is
    ``e1' D^-1 {g K (xi - g'beta) + int g K (mu(X_i, s) - m(s)) dP_n(s)}`` (Kennedy et
    al. 2017, Theorem 3), the integral over the empirical doses ``nodes``.  Returns
    the fit (G,) and the centred influence functions (n, G).
    """
    K, u = _kernel_moments(a, doses, h)                        # (n, G)
    p = order + 1
    Ku = [K]
    for _ in range(2 * order):
        Ku.append(Ku[-1] * u)                                  # K u^k, k = 0..2 order
    moments = np.array([m.mean(0) for m in Ku])                # (2p - 1, G)
    D = np.stack([[moments[i + j] for j in range(p)] for i in range(p)]).transpose(2, 0, 1)
    if not np.all(np.linalg.det(D) > 0):
        raise EstimationError("the kernel weights vanish at some dose of the grid (no units "
                              "near it): restrict the grid to the observed doses")
    rhs = np.stack([xi @ Ku[k] / len(a) for k in range(p)], axis=-1)      # (G, p)
    beta = np.linalg.solve(D, rhs[..., None])[..., 0]           # (G, p)
    e1 = np.linalg.solve(D, np.tile(np.eye(p)[:, :1], (len(doses), 1, 1)))[..., 0]
    fitted = sum(beta[:, k] * u ** k for k in range(p))
    resid = xi[:, None] - fitted
    Kn, un = _kernel_moments(nodes, doses, h)                  # (Q, G)
    centred = mu_nodes - m_nodes                               # (n, Q)
    influence = np.zeros_like(K)
    for k in range(p):
        influence += e1[:, k] * (Ku[k] * resid + centred @ (Kn * un ** k) / len(nodes))
    return beta[:, 0], influence - influence.mean(0)


# ------------------------------------------------------------------ Kennedy et al. 2017
@dataclass
class CurveFit:
    """A fitted curve at ``doses``: estimates, per-unit influence functions (n x G, mean
    zero) and what was chosen on the way."""

    doses: np.ndarray
    estimate: np.ndarray
    influence: np.ndarray | None
    std_error: np.ndarray
    bandwidth: float
    extra: dict[str, Any]


def _outcome_features(X: np.ndarray, a: np.ndarray, default: bool) -> np.ndarray:
    a = np.broadcast_to(a, (X.shape[0],))[:, None]
    return np.column_stack([X, a, a * a, X * a]) if default else np.column_stack([X, a])


def _predict_outcome(model: Any, X: np.ndarray, a: np.ndarray, y: np.ndarray,
                     train: np.ndarray, test: np.ndarray, nodes: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``mu(X_i, A_i)`` and ``mu(X_i, t_q)`` for the test rows, fitted on the training rows."""
    default = model is None
    Xt = X[test]
    # every (test row, node) pair in one matrix: one predict call, node-major
    stacked = _outcome_features(np.tile(Xt, (len(nodes), 1)), np.repeat(nodes, len(test)),
                                default)
    own, grid = fit_predict(model, _outcome_features(X[train], a[train], default), y[train],
                            [_outcome_features(Xt, a[test], default), stacked])
    return own, grid.reshape(len(nodes), len(test)).T


def kernel_curve(d: ContinuousData, doses: np.ndarray, *, outcome_model: Any,
                 treatment_model: Any, density: str, n_folds: int, random_state: Any,
                 bandwidth: Any, min_density_ratio: float, ci: str = "robust") -> CurveFit:
    """Kennedy et al. (2017) doubly robust kernel estimate at ``doses`` (see the module)."""
    a, y, X, n = d.a, d.y, d.X, d.n
    nodes = np.sort(a) if n <= 150 else np.quantile(a, (np.arange(150) + 0.5) / 150)
    mu = np.empty(n)
    pi = np.empty(n)
    mu_nodes = np.empty((n, len(nodes)))
    pi_nodes = np.empty((n, len(nodes)))
    for train, test in folds(n, n_folds, random_state):
        dens = TreatmentDensity(treatment_model, density).fit(X[train], a[train])
        mean_test = dens.mean(X[test])
        pi[test] = dens.density(a[test], X[test], mean_test)
        pi_nodes[test] = dens.density(nodes[None, :], X[test], mean_test[:, None])
        mu[test], mu_nodes[test] = _predict_outcome(outcome_model, X, a, y, train, test, nodes)
    varpi_nodes, m_nodes = pi_nodes.mean(0), mu_nodes.mean(0)
    varpi, m = np.interp(a, nodes, varpi_nodes), np.interp(a, nodes, m_nodes)
    ratio = pi / varpi
    n_bounded = int(np.sum(ratio < min_density_ratio))
    ratio = np.maximum(ratio, min_density_ratio)
    xi = (y - mu) / ratio + m
    if isinstance(bandwidth, (int, float, np.integer, np.floating)) \
            and not isinstance(bandwidth, bool):
        if not float(bandwidth) > 0:
            raise OptionError(f"bandwidth must be positive, got {bandwidth!r}")
        h, risk = float(bandwidth), None
    else:
        h, risk = select_bandwidth(a, xi, bandwidth)
    b0, influence = local_polynomial_influence(a, xi, doses, h, 1, nodes, mu_nodes, m_nodes)
    if ci == "robust":
        centre, influence = local_polynomial_influence(a, xi, doses, h, 2, nodes, mu_nodes,
                                                       m_nodes)
    else:
        centre = b0
    se = np.sqrt(np.mean(influence ** 2, axis=0) / n)
    return CurveFit(doses, b0, influence, se, h, {
        "ci_centre": centre, "bandwidth_risk": risk, "pseudo_outcome": xi,
        "n_density_ratio_bounded": n_bounded, "density": density, "n_folds": int(n_folds)})


# ------------------------------------------------------------------ Hirano & Imbens 2004
def _gps_fit(a: np.ndarray, y: np.ndarray, X: np.ndarray, doses: np.ndarray) -> np.ndarray:
    dens = TreatmentDensity(None, "normal").fit(X, a)
    mean = dens._fitted_mean
    r = dens.density(a, X, mean)
    design = np.column_stack([np.ones_like(a), a, a * a, r, r * r, a * r])
    scale = np.sqrt(np.mean(design ** 2, axis=0))
    coef = np.linalg.lstsq(design / scale, y, rcond=None)[0] / scale
    R = dens.density(doses[None, :], X, mean[:, None])         # (n, G)
    t = doses[None, :]
    return (coef[0] + coef[1] * t + coef[2] * t * t + coef[3] * R + coef[4] * R * R
            + coef[5] * t * R).mean(0)


def gps_curve(d: ContinuousData, doses: np.ndarray, *, n_bootstrap: int,
              random_state: Any) -> CurveFit:
    """Hirano & Imbens (2004) GPS estimate at ``doses``, with bootstrap draws."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) \
            or n_bootstrap < 20:
        raise OptionError(f"n_bootstrap must be an integer >= 20, got {n_bootstrap!r}")
    est = _gps_fit(d.a, d.y, d.X, doses)
    rng = np.random.default_rng(random_state)
    draws = np.empty((int(n_bootstrap), len(doses)))
    # small least-squares fits: BLAS threads only contend (10x slower on a busy machine)
    with threadpool_limits(limits=1, user_api="blas"):
        for b in range(int(n_bootstrap)):
            idx = rng.integers(0, d.n, d.n)
            draws[b] = _gps_fit(d.a[idx], d.y[idx], d.X[idx], doses)
    se = draws.std(axis=0, ddof=1)
    return CurveFit(doses, est, None, se, float("nan"),
                    {"bootstrap_draws": draws, "n_bootstrap": int(n_bootstrap)})


# ------------------------------------------------------------------ shared driver
def _doses(a: np.ndarray, grid: Any, contrast: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        if grid < 2:
            raise OptionError(f"grid must be at least 2 points, got {grid!r}")
        lo_q, hi_q = np.quantile(a, [0.05, 0.95])
        doses = np.linspace(float(lo_q), float(hi_q), int(grid))
    else:
        doses = np.asarray(grid, dtype=float).ravel()
        if doses.size < 1 or not np.all(np.isfinite(doses)):
            raise OptionError("grid must be a number of points or a list of finite doses")
    lo, hi = float(a.min()), float(a.max())
    outside = doses[(doses < lo) | (doses > hi)]
    if outside.size:
        raise OptionError(f"grid dose {outside[0]:g} lies outside the observed doses "
                          f"[{lo:g}, {hi:g}]: the curve is not identified there")
    pair = (np.quantile(a, [0.25, 0.75]) if contrast is None
            else np.asarray(contrast, dtype=float).ravel())
    if pair.size != 2 or not np.all(np.isfinite(pair)) or pair[0] == pair[1]:
        raise OptionError(f"contrast must be two distinct doses (a0, a1), got {contrast!r}")
    if np.any((pair < lo) | (pair > hi)):
        raise OptionError(f"contrast doses {pair.tolist()} must lie within the observed doses "
                          f"[{lo:g}, {hi:g}]")
    return doses, pair


def _uniform_critical_value(influence: np.ndarray, se: np.ndarray, alpha: float,
                            n_multiplier: int, random_state: Any) -> float:
    """(1 - alpha) quantile of ``sup_g |n^-1/2 sum_i e_i IF_i(g)| / sd(g)`` over Gaussian
    multipliers ``e_i`` (a multiplier bootstrap of the studentized process)."""
    n = influence.shape[0]
    sd = se * np.sqrt(n)
    rng = np.random.default_rng(random_state)
    sups = np.empty(n_multiplier)
    for start in range(0, n_multiplier, 250):
        e = rng.standard_normal((min(250, n_multiplier - start), n))
        sups[start:start + len(e)] = np.max(np.abs(e @ influence) / np.sqrt(n) / sd, axis=1)
    return float(np.quantile(sups, 1 - alpha))


def fit_curve(data: Any, treatment: Any, outcome: Any, covariates: Any, *, alpha: float,
              estimator: str, grid: Any, contrast: Any, outcome_model: Any,
              treatment_model: Any, density: str, n_folds: int, bandwidth: Any,
              n_bootstrap: int, point_mass: str, point_mass_threshold: float,
              min_density_ratio: float, random_state: Any, ci: str = "robust"
              ) -> tuple[DoseResponseCurve, dict[str, Any], ContinuousData]:
    """Validate, fit the chosen estimator at the grid and the two contrast doses, and
    return the curve frame, the contrast (estimate, SE, text) and the data used."""
    alpha = check_alpha(alpha)
    if estimator not in ESTIMATORS:
        raise OptionError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if ci not in ("robust", "conventional"):
        raise OptionError(f"ci must be 'robust' or 'conventional', got {ci!r}")
    if not 0.0 <= float(min_density_ratio) < 1.0:
        raise OptionError(f"min_density_ratio must lie in [0, 1), got {min_density_ratio!r}")
    d = prepare_continuous(data, treatment, outcome, covariates, method="dose_response",
                           point_mass_action=point_mass,
                           point_mass_threshold=point_mass_threshold)
    doses, pair = _doses(d.a, grid, contrast)
    points = np.r_[doses, pair]
    if estimator == "kernel":
        fit = kernel_curve(d, points, outcome_model=outcome_model,
                           treatment_model=treatment_model, density=density,
                           n_folds=n_folds, random_state=random_state, bandwidth=bandwidth,
                           min_density_ratio=min_density_ratio, ci=ci)
        IF = fit.influence
        assert IF is not None
        centre = fit.extra["ci_centre"]
        band = _uniform_critical_value(IF[:, :-2], fit.std_error[:-2], alpha, n_bootstrap,
                                       random_state)
        diff_if = IF[:, -1] - IF[:, -2]
        contrast_se = float(np.sqrt(np.mean(diff_if ** 2) / d.n))
        ci_text = ("robust bias-corrected intervals (local quadratic at the same bandwidth, "
                   "Calonico, Cattaneo & Farrell 2018)" if ci == "robust" else
                   "conventional intervals (for the smoothed curve theta_h)")
        text = (f"Kennedy et al. (2017) doubly robust kernel estimator: {n_folds}-fold "
                f"cross-fitted outcome model and {density} treatment density, local-linear "
                f"Gaussian kernel, bandwidth {fit.bandwidth:.4g} "
                f"({'given' if fit.extra['bandwidth_risk'] is None else 'leave-one-out risk'})"
                f"; sandwich SEs (Theorem 3), {ci_text}, uniform band by a {n_bootstrap}-draw "
                "multiplier bootstrap")
        method = "kernel (Kennedy et al. 2017)"
    else:
        fit = gps_curve(d, points, n_bootstrap=n_bootstrap, random_state=random_state)
        centre = fit.estimate
        draws = fit.extra["bootstrap_draws"]
        sd = fit.std_error[:-2]
        sups = np.max(np.abs(draws[:, :-2] - fit.estimate[:-2]) / sd, axis=1)
        band = float(np.quantile(sups, 1 - alpha))
        contrast_se = float(np.std(draws[:, -1] - draws[:, -2], ddof=1))
        text = ("Hirano & Imbens (2004) generalized propensity score: normal linear GPS, "
                "outcome quadratic in dose and GPS with their interaction, curve by averaging"
                f"; SEs and uniform band from {n_bootstrap} bootstrap resamples")
        method = "GPS (Hirano & Imbens 2004)"
    attrs = {"method": method, "bandwidth": fit.bandwidth, "alpha": alpha,
             "treatment": treatment, "outcome": outcome, "n_obs": d.n, "inference": text,
             "point_mass_action": d.diagnostics["point_mass_action"]}
    curve = _curve_frame(doses, fit.estimate[:-2], centre[:-2], fit.std_error[:-2],
                         critical_value(alpha), band, attrs)
    info = dict(fit.extra, estimate=float(centre[-1] - centre[-2]),
                std_error=contrast_se, contrast=tuple(float(p) for p in pair),
                inference=text, bandwidth=fit.bandwidth)
    return curve, info, d


@register("dose_response", estimand="ADRF", roles=("treatment", "outcome"),
          optional_roles=("covariates",),
          treatment_types=("continuous",))
def dose_response(data: pd.DataFrame, treatment: str, outcome: str,
                  covariates: Sequence[str] | None = None, alpha: float = 0.05,
                  estimator: str = "kernel", grid: int | Sequence[float] = 30,
                  contrast: Sequence[float] | None = None, outcome_model: Any = None,
                  treatment_model: Any = None, density: str = "normal", n_folds: int = 5,
                  bandwidth: float | Sequence[float] | None = None, n_bootstrap: int = 1000,
                  point_mass: str = "refuse", point_mass_threshold: float = 0.1,
                  min_density_ratio: float = 0.01, ci: str = "robust",
                  random_state: int | None = 0) -> Effect:
    """Dose-response curve E[Y(a)] of a continuous treatment (Kennedy et al. DR kernel, or GPS).

    The headline ``estimate`` is the contrast ``theta(a1) - theta(a0)`` between the
    two doses of ``contrast`` (default: the treatment's quartiles), from the curve the
    intervals are centred on (see ``ci``); the whole curve
    is ``diagnostics["curve"]`` (a :class:`DoseResponseCurve`, also returned by
    :func:`causalkit.dose_response`).

    Parameters
    ----------
    estimator
        ``"kernel"`` (default: the doubly robust kernel estimator of Kennedy, Ma, McHugh &
        Small 2017) or ``"gps"`` (the generalized propensity score of Hirano & Imbens 2004).
    grid
        The doses of the curve: a number of points between the 5th and 95th
        percentiles of the treatment (default 30), or the doses themselves.
    contrast
        The doses ``(a0, a1)`` of the headline contrast.
    outcome_model
        Regressor for ``E[Y | X, A]`` fitted on ``[X, A]`` (default: OLS on
        ``[X, A, A^2, X A]``); kernel estimator only.
    treatment_model
        Regressor for ``E[A | X]`` (default OLS); kernel estimator only (the GPS
        estimator is the normal linear model by definition).
    density
        ``"normal"`` (default) or ``"kernel"``: the density of the standardized
        treatment residual.
    n_folds
        Cross-fitting folds of the kernel estimator (default 5).
    bandwidth
        ``None`` (default: least leave-one-out risk over 30 candidates), a list of
        candidates, or one bandwidth.
    n_bootstrap
        Multiplier-bootstrap draws for the uniform band (kernel), or bootstrap
        resamples for every interval (GPS: use at least 200).
    point_mass, point_mass_threshold
        What to do when one dose holds at least ``point_mass_threshold`` of the units
        (default 10%): ``"refuse"`` (default), ``"exclude"`` those units (the curve
        is then that of the units off the point mass) or ``"ignore"`` it (a heaped
        but continuous dose).
    ci
        ``"robust"`` (default): intervals and bands centred on the local-quadratic fit
        at the same bandwidth, with its SE (robust bias correction, Calonico,
        Cattaneo & Farrell 2018, "On the effect of bias estimation on coverage
        accuracy in nonparametric inference", JASA 113, 767-779), so that they cover
        ``theta(a)`` itself with the risk-minimizing bandwidth; the curve's
        ``estimate`` stays the local-linear fit and ``ci_centre`` holds the centre.
        ``"conventional"``: Kennedy et al.'s intervals around the local-linear fit,
        valid for the smoothed curve ``theta_h``.  Kernel estimator only.
    min_density_ratio
        Lower bound on ``pi(A | X) / varpi(A)`` in the pseudo-outcome (default 0.01),
        the analogue of propensity clipping; how many were bounded is in the diagnostics.
    random_state
        Seed of the folds and of the bootstrap draws (default 0).
    """
    curve, info, d = fit_curve(
        data, treatment, outcome, covariates, alpha=alpha, estimator=estimator, grid=grid,
        contrast=contrast, outcome_model=outcome_model, treatment_model=treatment_model,
        density=density, n_folds=n_folds, bandwidth=bandwidth, n_bootstrap=n_bootstrap,
        point_mass=point_mass, point_mass_threshold=point_mass_threshold,
        min_density_ratio=min_density_ratio, random_state=random_state, ci=ci)
    a0, a1 = info["contrast"]
    diagnostics = dict(d.diagnostics, curve=curve, estimator=estimator,
                       bandwidth=info["bandwidth"], contrast_doses=(a0, a1),
                       uniform_critical_value=curve.attrs["uniform_critical_value"])
    diagnostics.update({k: v for k, v in info.items()
                        if k in ("bandwidth_risk", "pseudo_outcome", "n_density_ratio_bounded",
                                 "bootstrap_draws")})
    return Effect.from_estimate(
        method="dose_response", estimand="ADRF", estimate=info["estimate"],
        std_error=info["std_error"], alpha=curve.attrs["alpha"], treatment=treatment,
        outcome=outcome, n_obs=d.n, covariates=tuple(d.covariates),
        inference=f"theta({a1:.4g}) - theta({a0:.4g}); {info['inference']}",
        diagnostics=diagnostics)


def dose_response_curve(data: Any, treatment: Any, outcome: Any, covariates: Any = None,
                        **options: Any) -> DoseResponseCurve:
    """The dose-response curve frame of :func:`dose_response` (same options).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=300); a = x + rng.normal(size=300)
    >>> df = pd.DataFrame({"a": a, "x": x, "y": a + x + rng.normal(size=300)})
    >>> c = dose_response_curve(df, "a", "y", ["x"], estimator="gps", grid=4, n_bootstrap=50)
    >>> len(c), c.attrs["method"]
    (4, 'GPS (Hirano & Imbens 2004)')
    """
    eff = dose_response(data, treatment, outcome, covariates, **options)
    return eff.diagnostics["curve"]
