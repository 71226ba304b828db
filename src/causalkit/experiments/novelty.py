"""Novelty and primacy effects: the lift day by day, a trend test and a plot.

A new feature often lifts a metric at first and fades (novelty), or hurts at
first and recovers as users learn it (primacy).  :func:`daily_effects`
analyzes each day (or any period) separately with :func:`~.analyze.analyze`
and regresses the daily lifts on the day by weighted least squares with
weights ``1 / se_d^2``: a slope different from 0 means the effect changes
over time, and the average lift over the experiment overstates (novelty) or
understates (primacy) the long-run effect.

``scale="estimated"`` (default) multiplies ``(X' W X)^-1`` by the residual
variance of the weighted fit and uses Student's t with ``D - 2`` df (day
effects beyond the sampling error widen the interval; statsmodels' ``WLS``);
``scale="fixed"`` trusts the daily SEs (z test, statsmodels' ``cov_type=
"fixed scale"``).  Units should be assigned for the whole experiment; a
user's day-``d`` metric is compared across arms on day ``d``.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> d = np.repeat(np.arange(14), 400)
>>> arm = np.tile([0, 1], 2800)
>>> df = pd.DataFrame({"day": d, "arm": arm, "y": rng.normal(arm * (0.5 - 0.03 * d), 1.0)})
>>> res = daily_effects(df, "arm", "y", "day")
>>> bool(res.trend["slope"] < 0 and res.trend["p_value"] < 0.05)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, OptionError
from ..validation import check_frame
from .analyze import analyze

__all__ = ["DailyEffects", "daily_effects", "weighted_trend"]


def weighted_trend(x: Any, estimates: Any, std_errors: Any, scale: str = "estimated"
                   ) -> dict[str, float]:
    """Slope of ``estimates`` on ``x`` by WLS with weights ``1 / std_errors^2``.

    >>> t = weighted_trend([0, 1, 2], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], scale="fixed")
    >>> round(t["slope"], 6), round(t["std_error"], 4)
    (1.0, 0.7071)
    """
    if scale not in ("estimated", "fixed"):
        raise OptionError(f"scale must be 'estimated' or 'fixed', got {scale!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    ok = np.isfinite(y) & np.isfinite(se) & (se > 0)
    x, y, w = x[ok], y[ok], 1.0 / se[ok] ** 2
    if len(x) < 3 or np.ptp(x) == 0:
        raise DataError(f"a trend needs at least 3 periods with a test; got {len(x)}")
    X = np.column_stack([np.ones(len(x)), x])
    xtwx = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(xtwx, X.T @ (w * y))
    cov = np.linalg.inv(xtwx)
    df = float(len(x) - 2)
    if scale == "estimated":
        resid = y - X @ beta
        cov = cov * float(np.sum(w * resid ** 2) / df)
    s = float(np.sqrt(cov[1, 1]))
    t = float(beta[1] / s) if s > 0 else np.nan
    p = float(2 * (stats.t.sf(abs(t), df) if scale == "estimated" else stats.norm.sf(abs(t))))
    return {"intercept": float(beta[0]), "slope": float(beta[1]), "std_error": s,
            "statistic": t, "p_value": p, "df": df if scale == "estimated" else np.inf}


@dataclass(frozen=True)
class DailyEffects:
    """``table``: one analysis row per period and arm; ``trend``: the WLS slope per arm
    (for one treatment arm, ``trend`` is that arm's row as a Series)."""

    table: pd.DataFrame
    trends: pd.DataFrame
    period: str

    @property
    def trend(self) -> pd.Series:
        """The trend of the first treatment arm."""
        return self.trends.iloc[0]

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Daily lifts with their intervals and the fitted trend line, per arm; saves a PNG."""
        import matplotlib.pyplot as plt

        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4))
        for arm, g in self.table.groupby("arm", sort=False):
            x = g["period_index"].to_numpy(dtype=float)
            line = ax.errorbar(x, g["estimate"], yerr=[g["estimate"] - g["ci_low"],
                                                       g["ci_high"] - g["estimate"]],
                               fmt="o", capsize=3, label=f"{arm}: daily lift")
            tr = self.trends.set_index("arm").loc[arm]
            ax.plot(x, tr["intercept"] + tr["slope"] * x, "-", color=line[0].get_color(),
                    label=f"{arm}: trend {tr['slope']:.3g}/period (p = {tr['p_value']:.2g})")
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel(self.period)
        ax.set_ylabel("lift vs control")
        ax.legend(fontsize=8)
        fig = fig or ax.figure
        if path is not None:
            fig.savefig(path, dpi=100, bbox_inches="tight")
        return fig


def daily_effects(data: pd.DataFrame, variant: str, metric: Any, period: str,
                  control: Any = None, *, alpha: float = 0.05, scale: str = "estimated",
                  **options: Any) -> DailyEffects:
    """Lift of ``metric`` per ``period`` (day) and arm, and its trend over the periods.

    ``period`` is a numeric or datetime column (datetimes are counted in days
    from the first); ``options`` go to :func:`~.analyze.analyze`.
    """
    frame = check_frame(data, roles={"period": period}, numeric=False)
    col = frame[period]
    if pd.api.types.is_datetime64_any_dtype(col):
        index = (col - col.min()) / pd.Timedelta(days=1)
    elif pd.api.types.is_numeric_dtype(col):
        index = col.astype(float)
    else:
        raise OptionError(f"period column {period!r} must be numeric or datetime, got {col.dtype}")
    parts = []
    pooled_control = analyze(frame, variant, metric, control, alpha=alpha, **options).control
    for value in np.sort(index.unique()):
        sub = frame[index == value]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = analyze(sub, variant, metric, pooled_control, alpha=alpha, correction="none",
                        **options).table
        parts.append(t.assign(period=sub[period].iloc[0], period_index=float(value)))
    table = pd.concat(parts, ignore_index=True)
    trends = []
    for arm, g in table.groupby("arm", sort=False):
        trends.append({"arm": arm, **weighted_trend(g["period_index"], g["estimate"],
                                                    g["std_error"], scale)})
    return DailyEffects(table, pd.DataFrame(trends), period)
