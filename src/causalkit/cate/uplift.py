"""Uplift evaluation of a CATE model on held-out (ideally randomized) data.

Units are ranked by predicted uplift (highest first). For the top ``k`` units,
with ``N_t(k)``, ``N_c(k)`` treated and control units among them and
``Y_t(k)``, ``Y_c(k)`` the sums of their outcomes:

* Qini curve (Radcliffe 2007): ``Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k)``,
  the incremental outcomes gained by treating the top ``k``, in outcome units;
* uplift curve: ``U(k) = (Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) k``, the
  difference in mean outcomes among the top ``k`` scaled to ``k`` units.

An arm with no units yet among the top ``k`` contributes 0. Tied scores are
one block: the curves are evaluated only where the score changes (as
``sklearn.metrics.roc_curve`` does), so the order of tied units does not matter.
The x axis is the fraction ``k / n`` targeted, from 0 to 1, and areas are by
the trapezoid rule over it:

* ``qini_coefficient``: area between the Qini curve and the random-targeting
  line from ``(0, 0)`` to ``(1, Q(n))``;
* ``auuc``: area under the uplift curve; a random ranking has expected area
  about ``U(n) / 2``.

``policy_value`` estimates, by inverse propensity weighting, the mean outcome
if only the top ``k`` % by score were treated.

Reference: N. J. Radcliffe (2007), "Using control groups to target on
predicted lift", Direct Marketing Analytics Journal 1, 14-21.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> n = 2000; x = rng.normal(size=n); t = rng.integers(0, 2, n)
>>> y = x * t + rng.normal(size=n)
>>> bool(qini_coefficient(y, t, x) > qini_coefficient(y, t, rng.permutation(x)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..inference import check_alpha, wald
from ..validation import require_both_arms


@dataclass(frozen=True)
class UpliftCurve:
    """A gain curve evaluated at the score boundaries.

    ``fraction`` is ``k / n`` (starting at 0), ``n_targeted`` is ``k`` and
    ``gain`` the curve value; ``kind`` is ``"qini"`` or ``"uplift"``.
    """

    kind: str
    fraction: np.ndarray
    n_targeted: np.ndarray
    gain: np.ndarray

    @property
    def area(self) -> float:
        """Trapezoid area under the curve over the targeted fraction."""
        x, g = self.fraction, self.gain
        return float(np.sum(np.diff(x) * (g[1:] + g[:-1])) / 2.0)

    @property
    def random_area(self) -> float:
        """Area under the straight line of random targeting, ``gain[-1] / 2``."""
        return float(self.gain[-1] / 2.0)


def _arrays(y: Any, t: Any, score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).reshape(-1)
    t_raw = np.asarray(t).reshape(-1)
    score = np.asarray(score, dtype=float).reshape(-1)
    if not (y.size == t_raw.size == score.size):
        raise DataError(f"outcome, treatment and score must have the same length, got "
                        f"{y.size}, {t_raw.size} and {score.size}")
    for name, arr in (("outcome", y), ("score", score)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"the {name} holds {int(np.sum(~np.isfinite(arr)))} NaN or "
                            "infinite value(s)")
    t_float = t_raw.astype(float)
    if not np.all(np.isin(t_float, (0.0, 1.0))):
        from ..errors import TreatmentNotBinaryError

        raise TreatmentNotBinaryError("uplift evaluation needs a binary (0/1) treatment")
    t_int = t_float.astype(int)
    require_both_arms(t_int, "treatment", min_per_arm=1)
    return y, t_int, score


def _cumulative(y: np.ndarray, t: np.ndarray, score: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative counts and outcome sums per arm at each score boundary (with a leading 0)."""
    order = np.argsort(-score, kind="mergesort")
    y, t, s = y[order], t[order], score[order]
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    k = np.r_[0, ends + 1]
    n_t = np.r_[0, np.cumsum(t)[ends]]
    y_t = np.r_[0.0, np.cumsum(y * t)[ends]]
    y_c = np.r_[0.0, np.cumsum(y * (1 - t))[ends]]
    return k, n_t, k - n_t, y_t, y_c


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def _curve(kind: str, y: Any, t: Any, score: Any) -> UpliftCurve:
    y, t, score = _arrays(y, t, score)
    k, n_t, n_c, y_t, y_c = _cumulative(y, t, score)
    if kind == "qini":
        gain = y_t - _ratio(y_c * n_t, n_c.astype(float))
    else:
        gain = (_ratio(y_t, n_t.astype(float)) - _ratio(y_c, n_c.astype(float))) * k
    return UpliftCurve(kind, k / y.size, k, gain)


def qini_curve(y: Any, t: Any, score: Any) -> UpliftCurve:
    """Qini curve ``Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k)`` at every score boundary.

    >>> c = qini_curve([1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    >>> c.gain.tolist()
    [0.0, 1.0, 1.0, -1.0, 0.0]
    """
    return _curve("qini", y, t, score)


def uplift_curve(y: Any, t: Any, score: Any) -> UpliftCurve:
    """Uplift curve ``U(k) = (Y_t(k)/N_t(k) - Y_c(k)/N_c(k)) k`` at every score boundary.

    >>> c = uplift_curve([1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    >>> c.gain.tolist()
    [0.0, 1.0, 1.0, -1.5, 0.0]
    """
    return _curve("uplift", y, t, score)


def qini_coefficient(y: Any, t: Any, score: Any) -> float:
    """Area between the Qini curve and the random-targeting line (0 for no skill).

    >>> qini_coefficient([1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    0.25
    """
    curve = qini_curve(y, t, score)
    return curve.area - curve.random_area


def auuc(y: Any, t: Any, score: Any) -> float:
    """Area under the uplift curve over the targeted fraction.

    >>> auuc([1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    0.125
    """
    return uplift_curve(y, t, score).area


def uplift_by_decile(y: Any, t: Any, score: Any, bins: int = 10) -> pd.DataFrame:
    """Observed uplift in quantile groups of the score (group 1 = highest scores).

    Each row gives the group's size per arm, its mean predicted uplift, the
    observed difference in mean outcomes (treated minus control) and its
    Welch standard error (NaN when an arm has fewer than 2 units in the group).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=1000); t = rng.integers(0, 2, 1000)
    >>> tab = uplift_by_decile(s * t + rng.normal(size=1000), t, s)
    >>> len(tab), bool(tab.observed_uplift.iloc[0] > tab.observed_uplift.iloc[-1])
    (10, True)
    """
    y, t, score = _arrays(y, t, score)
    if not isinstance(bins, (int, np.integer)) or not 1 <= bins <= y.size:
        raise OptionError(f"bins must be an integer between 1 and {y.size}, got {bins!r}")
    order = np.argsort(-score, kind="mergesort")
    group = np.empty(y.size, dtype=int)
    group[order] = np.arange(y.size) * bins // y.size
    rows = []
    for g in range(bins):
        m = group == g
        yt, yc = y[m & (t == 1)], y[m & (t == 0)]
        diff = (yt.mean() if yt.size else np.nan) - (yc.mean() if yc.size else np.nan)
        se = (np.sqrt(yt.var(ddof=1) / yt.size + yc.var(ddof=1) / yc.size)
              if yt.size > 1 and yc.size > 1 else np.nan)
        rows.append({"group": g + 1, "n": int(m.sum()), "n_treated": int(yt.size),
                     "n_control": int(yc.size), "mean_score": float(score[m].mean()),
                     "observed_uplift": float(diff), "std_error": float(se)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PolicyValue:
    """IPW value of treating the top ``fraction`` by score, and its gain over treating no one."""

    fraction: float
    n_treated_by_policy: int
    value: float
    value_std_error: float
    gain: float
    gain_std_error: float
    gain_ci_low: float
    gain_ci_high: float


def ipw_value_terms(y: np.ndarray, t: np.ndarray, pi: np.ndarray, propensity: Any = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit IPW terms of a rule ``pi``'s value and of its gain over treating no one.

    Value: ``Y [T pi / p + (1 - T)(1 - pi) / (1 - p)]``; gain:
    ``Y pi (T / p - (1 - T) / (1 - p))``; ``propensity`` ``p`` defaults to the treated
    share (a randomized design).

    >>> v, g = ipw_value_terms(np.array([1.0, 3.0]), np.array([1, 0]), np.array([1.0, 0.0]))
    >>> v.tolist(), (g + 0.0).tolist()
    ([2.0, 6.0], [2.0, 0.0])
    """
    p = np.full(y.size, t.mean()) if propensity is None else \
        np.broadcast_to(np.asarray(propensity, dtype=float), y.shape)
    if not np.all((p > 0) & (p < 1)):
        raise DataError("propensities must lie strictly between 0 and 1")
    value_terms = y * (t * pi / p + (1 - t) * (1 - pi) / (1 - p))
    gain_terms = y * pi * (t / p - (1 - t) / (1 - p))
    return value_terms, gain_terms


def policy_value(y: Any, t: Any, score: Any, top: float = 0.2, propensity: Any = None,
                 alpha: float = 0.05) -> PolicyValue:
    """Inverse-propensity estimate of the mean outcome when the top ``top`` share is treated.

    The policy treats the ``round(top * n)`` units with the highest scores
    (ties broken by position). Its value is the mean of
    ``Y [T pi / p + (1 - T)(1 - pi) / (1 - p)]`` and its gain over treating no
    one the mean of ``Y pi (T / p - (1 - T) / (1 - p))``, each with the
    standard error ``sd / sqrt(n)`` (scores fixed, i.e. the model was fitted on
    other data). ``propensity`` defaults to the treated share (a randomized
    test set); pass an array of known assignment probabilities otherwise.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> s = rng.normal(size=4000); t = rng.integers(0, 2, 4000)
    >>> pv = policy_value(s * t + rng.normal(size=4000), t, s, top=0.5)
    >>> bool(abs(pv.gain - 0.5 * 0.798) < 0.1)
    True
    """
    y, t, score = _arrays(y, t, score)
    alpha = check_alpha(alpha)
    if not 0.0 <= float(top) <= 1.0:
        raise OptionError(f"top must be a share between 0 and 1, got {top!r}")
    n_top = int(round(float(top) * y.size))
    pi = np.zeros(y.size)
    pi[np.argsort(-score, kind="mergesort")[:n_top]] = 1.0
    value_terms, gain_terms = ipw_value_terms(y, t, pi, propensity)
    root_n = np.sqrt(y.size)
    gain_se = float(gain_terms.std(ddof=1) / root_n)
    w = wald(float(gain_terms.mean()), gain_se, alpha=alpha)
    return PolicyValue(fraction=float(top), n_treated_by_policy=n_top,
                       value=float(value_terms.mean()),
                       value_std_error=float(value_terms.std(ddof=1) / root_n),
                       gain=float(gain_terms.mean()), gain_std_error=gain_se,
                       gain_ci_low=w.ci_low, gain_ci_high=w.ci_high)


def evaluate_uplift(effect: Any, data: pd.DataFrame, top: float = 0.2,
                    bins: int = 10) -> dict[str, Any]:
    """All uplift metrics of a fitted CATE ``Effect`` on held-out ``data``.

    Uses ``effect.predict_cate(data)`` as the score and the effect's treatment
    and outcome columns. Returns a dict with ``qini_coefficient``, ``auuc``,
    ``qini_curve``, ``uplift_curve``, ``by_decile`` and ``policy_value``.
    """
    from ..validation import check_frame

    frame = check_frame(data, roles={"treatment": effect.treatment, "outcome": effect.outcome})
    score = effect.predict_cate(frame)
    y, t = frame[effect.outcome].to_numpy(dtype=float), frame[effect.treatment].to_numpy()
    q, u = qini_curve(y, t, score), uplift_curve(y, t, score)
    return {"qini_coefficient": q.area - q.random_area, "auuc": u.area, "qini_curve": q,
            "uplift_curve": u, "by_decile": uplift_by_decile(y, t, score, bins),
            "policy_value": policy_value(y, t, score, top)}


def plot_uplift(y: Any, t: Any, score: Any, ax: Any = None, kind: str = "both") -> Any:
    """Plot the Qini and/or uplift curve with the random-targeting line; returns the axes.

    ``kind`` is ``"qini"``, ``"uplift"`` or ``"both"`` (two panels).

    >>> import numpy as np
    >>> axes = plot_uplift([1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.8, 0.7, 0.1])
    >>> len(axes)
    2
    """
    import matplotlib.pyplot as plt

    kinds = {"qini": ["qini"], "uplift": ["uplift"], "both": ["qini", "uplift"]}
    if kind not in kinds:
        raise OptionError(f"kind must be 'qini', 'uplift' or 'both', got {kind!r}")
    wanted = kinds[kind]
    if ax is None:
        _, ax = plt.subplots(1, len(wanted), figsize=(5 * len(wanted), 4), squeeze=False)
        axes = list(ax[0])
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(wanted):
            raise OptionError(f"kind={kind!r} needs {len(wanted)} axes, got {len(axes)}")
    for which, a in zip(wanted, axes):
        curve = (qini_curve if which == "qini" else uplift_curve)(y, t, score)
        a.plot(curve.fraction, curve.gain, label="model")
        a.plot([0, 1], [0, curve.gain[-1]], linestyle="--", color="grey", label="random")
        a.set_xlabel("fraction targeted")
        a.set_ylabel("incremental outcome" if which == "qini" else "uplift x n targeted")
        a.set_title("Qini curve" if which == "qini" else "Uplift curve")
        a.legend()
    return axes


__all__ = ["PolicyValue", "UpliftCurve", "auuc", "evaluate_uplift", "ipw_value_terms",
           "plot_uplift",
           "policy_value", "qini_coefficient", "qini_curve", "uplift_by_decile",
           "uplift_curve"]
