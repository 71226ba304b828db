"""The event-time results of the panel estimators: one tidy frame and uniform bands.

Every event-study estimator of the family (``event_study``, ``callaway_santanna``,
``sun_abraham``, ``imputation_did``, ``did2s``) reports its event-time effects
in ``diagnostics["event_study"]`` with the columns :data:`EVENT_COLUMNS`: the
event time, the estimate, its standard error, the pointwise ``1 - alpha``
interval (``ci_low``, ``ci_high``) and the uniform (sup-t) band
(``band_low``, ``band_high``) that covers *all* event-time effects jointly with
probability ``1 - alpha``.  Reference (normalised) event times appear as rows
with estimate and standard error 0.  ``diagnostics["event_study_cov"]`` holds
the covariance of the estimated (non-reference) effects, indexed by event time.

The band's critical value is the ``1 - alpha`` quantile of ``max_k |Z_k|`` for
``Z`` drawn from the normal (or, with degrees of freedom, the multivariate t)
distribution with the estimated correlation matrix (Olea & Plagborg-Møller
2019; Callaway & Sant'Anna 2021, section 4.1), simulated with a fixed seed.

Example
-------
>>> import numpy as np
>>> tab, crit = event_time_table(np.array([0, 1]), np.array([1.0, 2.0]),
...                              np.diag([0.04, 0.09]), alpha=0.05)
>>> list(tab.columns) == list(EVENT_COLUMNS), 1.96 < crit < 2.5
(True, True)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..inference import critical_value

#: Columns of every event-time table of the panel family, in order.
EVENT_COLUMNS: tuple[str, ...] = ("event_time", "att", "std_error", "ci_low", "ci_high",
                                  "band_low", "band_high")

#: Number of simulation draws behind the sup-t critical value (Monte-Carlo error of
#: the 95% quantile about 0.3% of its value).
BAND_DRAWS = 20000


def sup_t_critical_value(cov: np.ndarray, alpha: float = 0.05, df: float | None = None,
                         n_draws: int = BAND_DRAWS, random_state: Any = 0) -> float:
    """The ``1 - alpha`` quantile of ``max_k |Z_k| / sd_k`` with ``Z ~ N(0, cov)``.

    With ``df`` the draws are multivariate t (``Z / sqrt(chi2_df / df)``), the
    simultaneous analogue of a t critical value.  Coefficients with zero variance
    are ignored.  For independent coefficients the value is the Šidák one,
    ``Phi^{-1}((1 + (1 - alpha)^(1/k)) / 2)``; for perfectly correlated ones it is
    the pointwise one.

    >>> round(sup_t_critical_value(np.eye(1)), 1)
    2.0
    """
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    keep = sd > 0
    if not keep.any():
        return float("nan")
    if keep.sum() == 1:
        return critical_value(alpha, df)
    corr = cov[np.ix_(keep, keep)] / np.outer(sd[keep], sd[keep])
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    rng = np.random.default_rng(random_state)
    z = rng.standard_normal((int(n_draws), root.shape[0])) @ root.T
    if df is not None and np.isfinite(df):
        z /= np.sqrt(rng.chisquare(df, size=(int(n_draws), 1)) / df)
    return float(np.quantile(np.abs(z).max(axis=1), 1.0 - alpha))


def event_time_table(event_time: Sequence[float], att: Sequence[float], cov: np.ndarray,
                     alpha: float = 0.05, df: float | None = None,
                     reference: Sequence[int] = (), random_state: Any = 0,
                     extra: dict[str, Sequence[Any]] | None = None
                     ) -> tuple[pd.DataFrame, float]:
    """The tidy event-time frame (:data:`EVENT_COLUMNS`) and the sup-t critical value.

    ``cov`` is the covariance of ``att``; ``reference`` event times are added as
    rows of zeros.  ``extra`` columns (one value per estimated event time) are
    appended after the standard ones.
    """
    e = np.asarray(event_time, dtype=float)
    b = np.asarray(att, dtype=float)
    V = np.atleast_2d(np.asarray(cov, dtype=float)).reshape(len(b), len(b))
    se = np.sqrt(np.clip(np.diag(V), 0.0, None))
    crit = critical_value(alpha, df)
    band = sup_t_critical_value(V, alpha, df, random_state=random_state) if len(b) else np.nan
    table = pd.DataFrame({"event_time": e.astype(int), "att": b, "std_error": se,
                          "ci_low": b - crit * se, "ci_high": b + crit * se,
                          "band_low": b - band * se, "band_high": b + band * se})
    for name, values in (extra or {}).items():
        table[name] = list(values)
    ref = [int(r) for r in reference if int(r) not in set(table.event_time)]
    if ref:
        zeros = pd.DataFrame({c: 0.0 for c in EVENT_COLUMNS[1:]}, index=range(len(ref)))
        zeros.insert(0, "event_time", ref)
        table = pd.concat([table, zeros], ignore_index=True)
    return table.sort_values("event_time", ignore_index=True), float(band)


def event_time_diagnostics(event_time: Sequence[float], att: Sequence[float],
                           cov: np.ndarray, alpha: float = 0.05, df: float | None = None,
                           reference: Sequence[int] = (), random_state: Any = 0,
                           extra: dict[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """``event_study`` (the tidy frame), ``event_study_cov`` and ``band_critical_value``."""
    table, band = event_time_table(event_time, att, cov, alpha, df, reference, random_state,
                                   extra)
    labels = pd.Index(np.asarray(event_time, dtype=float).astype(int), name="event_time")
    V = pd.DataFrame(np.atleast_2d(np.asarray(cov, dtype=float)).reshape(len(labels), -1),
                     index=labels, columns=labels)
    order = np.argsort(labels.to_numpy(), kind="stable")
    V = V.iloc[order, order]
    return {"event_study": table, "event_study_cov": V, "band_critical_value": band}


def check_random_state(random_state: Any) -> Any:
    """``random_state`` if it can seed :func:`numpy.random.default_rng`, else OptionError."""
    try:
        np.random.default_rng(random_state)
    except (TypeError, ValueError) as err:
        raise OptionError(f"random_state must be an integer seed or a numpy Generator, got "
                          f"{random_state!r}") from err
    return random_state


def plot_event_study(effect: Any, ax: Any = None, title: str | None = None,
                     band: bool = True) -> Any:
    """Plot event-time effects with pointwise intervals (and the uniform band).

    Accepts the Effect of any event-study estimator of the panel family
    (``event_study``, ``callaway_santanna``, ``sun_abraham``, ``imputation_did``,
    ``did2s``: their ``diagnostics["event_study"]`` frame) or such a frame.  The
    sup-t band is drawn as a shaded area when the frame has it and ``band`` is
    true.  Returns the matplotlib Axes.

    >>> import pandas as pd
    >>> tab = pd.DataFrame({"event_time": [-2, -1, 0], "att": [0.1, 0.0, 1.0],
    ...                     "std_error": [0.1, 0.0, 0.2], "ci_low": [-0.1, 0.0, 0.6],
    ...                     "ci_high": [0.3, 0.0, 1.4]})
    >>> ax = plot_event_study(tab)
    >>> len(ax.lines) >= 2
    True
    """
    import matplotlib.pyplot as plt

    table = effect if isinstance(effect, pd.DataFrame) else \
        getattr(effect, "diagnostics", {}).get("event_study")
    if table is None:
        raise OptionError("plot_event_study needs the Effect of an event-study estimator "
                          "(event_study, callaway_santanna, sun_abraham, imputation_did, "
                          "did2s) or its event-study table")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = table["event_time"].to_numpy(dtype=float)
    y = table["att"].to_numpy(dtype=float)
    if band and {"band_low", "band_high"} <= set(table.columns):
        ax.fill_between(x, table["band_low"].to_numpy(dtype=float),
                        table["band_high"].to_numpy(dtype=float), step="mid",
                        color="tab:blue", alpha=0.15, linewidth=0, label="uniform band")
    err = np.vstack([y - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - y])
    colors = np.where(x < 0, "tab:gray", "tab:blue")
    for c in ("tab:gray", "tab:blue"):
        m = colors == c
        ax.errorbar(x[m], y[m], yerr=err[:, m], fmt="o", color=c, capsize=3,
                    label="pre-treatment" if c == "tab:gray" else "post-treatment")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="tab:red", linestyle="--", linewidth=0.8)
    ax.set_xlabel("event time (periods since treatment)")
    ax.set_ylabel("effect")
    ax.set_title(title or "Event study")
    ax.legend(loc="best")
    return ax
