"""Covariate balance and overlap diagnostics shared by matching, IPW and AIPW.

:func:`balance_table` gives, per covariate, the standardized mean difference
(SMD) and the variance ratio between arms before and after matching or
weighting; :func:`plot_balance` draws it as a love plot and
:func:`plot_overlap` draws the propensity-score histograms of both arms.  The
SMD uses the same denominator before and after adjustment, computed on the
unadjusted sample: the pooled standard deviation ``sqrt((s1^2 + s0^2) / 2)``
for the ATE, the treated SD for the ATT and the control SD for the ATC
(Austin 2009, Stat. Med. 28:3083; as in R's cobalt/MatchIt).

Example
-------
>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); t = np.array([0, 0, 1, 1])
>>> tab = balance_table(X, t, ["x"], weights=np.array([0.0, 1.0, 1.0, 0.0]))
>>> round(float(tab.loc["x", "smd_before"]), 3), float(tab.loc["x", "smd_after"])
(4.0, 2.0)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._blocks import BLOCK_ROWS, row_blocks
from ..errors import DataError

#: Conventional threshold for an acceptable absolute SMD (Austin 2009).
SMD_THRESHOLD = 0.1


def _arm_stats(X: np.ndarray, t: np.ndarray, *weights: np.ndarray
               ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Weighted mean and (population) variance of each column in each arm, per weight vector.

    ``X`` is centred at its column means; every weighted moment then comes from
    two BLAS products, ``W' Xc`` and ``W' Xc^2``, with ``W`` the n x 2m matrix of
    the weight vectors masked to each arm (``E[x^2] - E[x]^2``).  Both are
    accumulated over row blocks (:mod:`causalkit._blocks`), so neither a centred
    copy of ``X`` nor ``W`` is formed in full.  Returns ``(mean_1, var_1, mean_0,
    var_0)`` for each weight vector.
    """
    n, p = X.shape
    centre = X.mean(axis=0)
    on = t == 1
    columns = 2 * len(weights)
    totals, first, second = np.zeros(columns), np.zeros((columns, p)), np.zeros((columns, p))
    size = min(BLOCK_ROWS, max(n, 1))
    xc_block, w_block = np.empty((size, p), order="F"), np.empty((size, columns))
    for lo, hi in row_blocks(n):
        xc, W = xc_block[:hi - lo], w_block[:hi - lo]
        np.subtract(X[lo:hi], centre, out=xc)
        for j, w in enumerate(weights):
            np.multiply(w[lo:hi], on[lo:hi], out=W[:, 2 * j])
            np.subtract(w[lo:hi], W[:, 2 * j], out=W[:, 2 * j + 1])
        totals += W.sum(axis=0)
        first += W.T @ xc
        np.multiply(xc, xc, out=xc)
        second += W.T @ xc
    out = []
    for j in range(len(weights)):
        stats = []
        for col in (2 * j, 2 * j + 1):
            if totals[col] <= 0:
                nan = np.full(p, np.nan)
                stats += [nan, nan]
                continue
            m = first[col] / totals[col]
            stats += [m + centre, np.maximum(second[col] / totals[col] - m * m, 0.0)]
        out.append((stats[0], stats[1], stats[2], stats[3]))
    return out


def balance_table(X: np.ndarray, t: np.ndarray, names: Sequence[str],
                  weights: np.ndarray | None = None, estimand: str = "ATE") -> pd.DataFrame:
    """SMD and variance ratio per covariate, before and (with ``weights``) after adjustment.

    Parameters
    ----------
    X, t, names
        Covariate matrix, 0/1 treatment and covariate names.
    weights
        Non-negative unit weights after matching or weighting (a unit used
        twice as a match has weight 2; unmatched units 0).  ``None`` gives the
        "before" columns only.
    estimand
        Chooses the SMD denominator (see the module docstring).

    Returns
    -------
    DataFrame indexed by covariate with ``mean_treated``, ``mean_control``,
    ``smd_before``, ``var_ratio_before`` and, with weights,
    ``mean_treated_after``, ``mean_control_after``, ``smd_after``,
    ``var_ratio_after``.  Variance ratios are treated over control.
    """
    X = np.asarray(X, dtype=float)
    t = np.asarray(t)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise DataError(f"balance_table needs one name per covariate column, got "
                        f"{len(names)} names for {X.shape[1] if X.ndim == 2 else 1} column(s)")
    ones = np.ones(len(t))
    if weights is None:
        (m1, v1, m0, v0), = _arm_stats(X, t, ones)
    else:
        (m1, v1, m0, v0), (a1, b1, a0, b0) = _arm_stats(X, t, ones,
                                                         np.asarray(weights, dtype=float))
    if estimand == "ATT":
        denom = np.sqrt(v1)
    elif estimand == "ATC":
        denom = np.sqrt(v0)
    else:
        denom = np.sqrt((v1 + v0) / 2)
    denom = np.where(denom > 0, denom, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = {"mean_treated": m1, "mean_control": m0, "smd_before": (m1 - m0) / denom,
                 "var_ratio_before": v1 / v0}
        if weights is not None:
            table.update(mean_treated_after=a1, mean_control_after=a0,
                         smd_after=(a1 - a0) / denom, var_ratio_after=b1 / b0)
    out = pd.DataFrame(table, index=pd.Index(list(names), name="covariate"))
    return out


def _table_from(effect_or_table: Any) -> pd.DataFrame:
    if isinstance(effect_or_table, pd.DataFrame):
        return effect_or_table
    diagnostics = getattr(effect_or_table, "diagnostics", None)
    if diagnostics is not None and isinstance(diagnostics.get("balance"), pd.DataFrame):
        return diagnostics["balance"]
    raise DataError("plot_balance needs a balance table (DataFrame) or an Effect whose "
                    "diagnostics hold one under 'balance' (propensity_matching, ipw, aipw)")


def plot_balance(effect_or_table: Any, threshold: float = SMD_THRESHOLD,
                 ax: Any = None) -> Any:
    """Love plot: absolute SMD of each covariate before and after adjustment.

    ``effect_or_table`` is an :class:`~causalkit.Effect` from
    ``propensity_matching``, ``ipw`` or ``aipw`` or a :func:`balance_table`.
    Returns the matplotlib figure.

    >>> import numpy as np
    >>> tab = balance_table(np.array([[0.], [1.], [2.], [4.]]), np.array([0, 0, 1, 1]), ["x"],
    ...                     weights=np.ones(4))
    >>> fig = plot_balance(tab)
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    table = _table_from(effect_or_table)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 0.9 + 0.35 * len(table)))
    else:
        fig = ax.figure
    ypos = np.arange(len(table))[::-1]
    ax.scatter(np.abs(table["smd_before"]), ypos, marker="o", facecolors="none",
               edgecolors="tab:red", label="before")
    if "smd_after" in table:
        ax.scatter(np.abs(table["smd_after"]), ypos, marker="o", color="tab:blue",
                   label="after")
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(ypos)
    ax.set_yticklabels([str(i) for i in table.index])
    ax.set_xlabel("absolute standardized mean difference")
    ax.set_title("covariate balance")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_overlap(effect_or_scores: Any, treatment: Any = None, bins: int = 40,
                 ax: Any = None) -> Any:
    """Histograms of the propensity score by arm; returns the matplotlib figure.

    Pass an :class:`~causalkit.Effect` from ``propensity_matching``, ``ipw``
    or ``aipw`` (its diagnostics hold the scores), or an array of scores and
    the 0/1 ``treatment`` array.

    >>> import numpy as np
    >>> fig = plot_overlap(np.array([0.2, 0.4, 0.5, 0.7]), np.array([0, 0, 1, 1]), bins=4)
    >>> fig.axes[0].get_xlabel()
    'propensity score'
    """
    import matplotlib.pyplot as plt

    diagnostics = getattr(effect_or_scores, "diagnostics", None)
    if diagnostics is not None:
        frame = diagnostics.get("propensity")
        if not isinstance(frame, pd.DataFrame):
            raise DataError("this Effect holds no propensity scores in its diagnostics")
        scores, t = frame["score"].to_numpy(), frame["treated"].to_numpy()
    else:
        if treatment is None:
            raise DataError("plot_overlap needs the treatment array with an array of scores")
        scores, t = np.asarray(effect_or_scores, dtype=float), np.asarray(treatment)
        if scores.shape != t.shape:
            raise DataError(f"scores and treatment differ in length ({len(scores)} vs {len(t)})")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    ax.hist(scores[t == 1], bins=edges, alpha=0.5, density=True, color="tab:blue",
            label="treated")
    ax.hist(scores[t == 0], bins=edges, alpha=0.5, density=True, color="tab:orange",
            label="control")
    ax.set_xlabel("propensity score")
    ax.set_ylabel("density")
    ax.set_title("overlap of propensity scores")
    ax.legend()
    fig.tight_layout()
    return fig


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``.

    >>> effective_sample_size(np.array([1.0, 1.0, 2.0]))
    2.6666666666666665
    """
    w = np.asarray(weights, dtype=float)
    denom = float(w @ w)
    return float(w.sum() ** 2 / denom) if denom > 0 else 0.0


def propensity_frame(scores: np.ndarray, t: np.ndarray, index: Any = None) -> pd.DataFrame:
    """The per-unit propensity scores and treatment, as stored in ``diagnostics['propensity']``."""
    return pd.DataFrame({"score": scores, "treated": t}, index=index)


__all__ = ["SMD_THRESHOLD", "balance_table", "effective_sample_size", "plot_balance",
           "plot_overlap", "propensity_frame"]
