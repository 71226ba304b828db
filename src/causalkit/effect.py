"""`Effect`: the one result type every estimator returns.

Example
-------
>>> from causalkit.effect import Effect
>>> eff = Effect.from_estimate(method="difference_in_means", estimand="ATE",
...                            estimate=1.5, std_error=0.5, treatment="t", outcome="y",
...                            n_treated=50, n_control=50)
>>> round(eff.ci_low, 3), round(eff.ci_high, 3)
(0.52, 2.48)
>>> eff.to_frame().shape
(1, 17)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .inference import undefined_inference_reason, wald


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, eq=False)
class Effect:
    """Estimated causal effect with its inference and diagnostics.

    Attributes
    ----------
    method, estimand
        Registered estimator name and the estimand (``"ATE"``, ``"ATT"``, ...).
    estimate, std_error, ci_low, ci_high, p_value, statistic
        Point estimate and Wald inference at level ``alpha``.
    df
        Degrees of freedom of the t reference distribution, ``None`` for normal.
    treatment, outcome
        Column names of the roles used.
    n_treated, n_control, n_obs
        Sample sizes used in estimation.
    covariates
        The adjustment set used (a tuple of column names).
    inference
        How the standard error was obtained, in words (e.g. ``"HC2 robust"``).
    diagnostics
        Read-only mapping of method-specific diagnostics.
    cate
        Per-unit conditional effects for the fitted rows, where the method gives them.
    """

    method: str
    estimand: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    alpha: float
    p_value: float
    statistic: float = math.nan
    df: float | None = None
    treatment: str | None = None
    outcome: str | None = None
    n_treated: int | None = None
    n_control: int | None = None
    n_obs: int | None = None
    covariates: tuple[str, ...] = ()
    inference: str = ""
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    cate: np.ndarray | None = None
    cate_predictor: Callable[[Any], np.ndarray] | None = field(default=None, repr=False)
    #: The estimator's keyword inputs (roles, options, alpha; not the data), recorded by
    #: the registry so that sensitivity analyses and refuters can refit the same call.
    call: Mapping[str, Any] | None = field(default=None, repr=False)
    _sensitivity: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "diagnostics", _freeze(self.diagnostics))
        object.__setattr__(self, "covariates", tuple(self.covariates or ()))
        if self.call is not None:
            object.__setattr__(self, "call", _freeze(self.call))
        if self.n_obs is None and self.n_treated is not None and self.n_control is not None:
            object.__setattr__(self, "n_obs", int(self.n_treated) + int(self.n_control))

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_estimate(cls, *, method: str, estimand: str, estimate: float, std_error: float,
                      alpha: float = 0.05, df: float | None = None, **extra: Any) -> "Effect":
        """Build an `Effect` from an estimate and standard error, filling in Wald inference.

        >>> Effect.from_estimate(method="m", estimand="ATE", estimate=0.0, std_error=1.0).p_value
        1.0
        """
        w = wald(estimate, std_error, alpha=alpha, df=df)
        reason = undefined_inference_reason(float(estimate), float(std_error))
        if reason is not None:
            said = extra.get("inference") or ""
            extra["inference"] = f"{said}; {reason}" if said else reason
        return cls(method=method, estimand=estimand, estimate=float(estimate),
                   std_error=float(std_error), ci_low=w.ci_low, ci_high=w.ci_high,
                   alpha=float(alpha), p_value=w.p_value, statistic=w.statistic, df=df, **extra)

    # ------------------------------------------------------------------ views
    @property
    def ci(self) -> tuple[float, float]:
        """The confidence interval as a ``(low, high)`` tuple."""
        return (self.ci_low, self.ci_high)

    @property
    def confidence_level(self) -> float:
        """``1 - alpha``."""
        return 1.0 - self.alpha

    def predict_cate(self, new_data: Any) -> np.ndarray:
        """Conditional effects for new rows, for methods that fit a CATE model."""
        if self.cate_predictor is None:
            from .errors import EstimationError

            raise EstimationError(
                f"method {self.method!r} does not fit a CATE model; predict_cate is "
                "available for the heterogeneous-effect learners")
        return np.asarray(self.cate_predictor(new_data))

    def sensitivity(self, kind: str, *args: Any, **kwargs: Any) -> Any:
        """Sensitivity of this estimate to unmeasured confounding; see :mod:`causalkit.sensitivity`.

        ``kind`` is ``"evalue"``, ``"ovb"`` (Cinelli & Hazlett, linear regression),
        ``"ovb_dml"`` (Chernozhukov et al., AIPW and the learners) or ``"rosenbaum"``
        (matched designs); the other arguments go to that function.  The result is
        returned and its one-line summary is added to :meth:`summary`.
        """
        from .sensitivity import dispatch

        result = dispatch(self, kind, *args, **kwargs)
        self._sensitivity[kind] = result
        return result

    def to_dict(self) -> dict[str, Any]:
        """The scalar fields (and the diagnostics as a nested dict) as a plain dict.

        The per-unit CATE array is omitted; ``covariates`` becomes a list.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("cate", "cate_predictor", "call", "_sensitivity"):
                continue
            value = getattr(self, f.name)
            if f.name == "diagnostics":
                value = dict(value)
            elif f.name == "covariates":
                value = list(value)
            out[f.name] = value
        return out

    def to_frame(self) -> pd.DataFrame:
        """A one-row DataFrame; ``pd.concat`` many of them into a tidy table.

        Diagnostics are left out (they are not scalar in general); covariates are
        joined by commas.
        """
        row = self.to_dict()
        row.pop("diagnostics")
        row["covariates"] = ", ".join(row["covariates"])
        return pd.DataFrame([row])

    # ------------------------------------------------------------------ printing
    def summary(self) -> str:
        """A text table in the style of statsmodels' ``summary()``; also printed by ``print``."""
        width = 78
        lines = ["=" * width, "causalkit estimation results".center(width), "=" * width]
        left_right = [
            ("Method:", self.method, "Estimand:", self.estimand),
            ("Outcome:", self.outcome or "-", "Treatment:", self.treatment or "-"),
            ("No. treated:", _fmt_int(self.n_treated), "No. control:", _fmt_int(self.n_control)),
            ("No. obs.:", _fmt_int(self.n_obs), "Reference dist.:",
             "normal" if self.df is None else f"t({self.df:.4g})"),
        ]
        for a, b, c, d in left_right:
            lines.append(f"{a:<17}{str(b):<24}{c:<17}{str(d):>20}")
        cov = ", ".join(self.covariates) if self.covariates else "(none)"
        lines.append(f"{'Covariates:':<17}{_wrap(cov, width - 17)}")
        if self.inference:
            lines.append(f"{'Inference:':<17}{_wrap(self.inference, width - 17)}")
        lines.append("=" * width)
        stat_name = "z" if self.df is None else "t"
        lo = f"[{self.alpha / 2:.3g}"
        hi = f"{1 - self.alpha / 2:.3g}]"
        lines.append(f"{'':<10}{'estimate':>11}{'std err':>11}{stat_name:>10}"
                     f"{'P>|' + stat_name + '|':>10}{lo:>13}{hi:>13}")
        lines.append("-" * width)
        lines.append(f"{self.estimand:<10}{_num(self.estimate):>11}{_num(self.std_error):>11}"
                     f"{_num(self.statistic, 3):>10}{_pval(self.p_value):>10}"
                     f"{_num(self.ci_low):>13}{_num(self.ci_high):>13}")
        lines.append("=" * width)
        scalar_diags = {k: v for k, v in self.diagnostics.items()
                        if isinstance(v, (int, float, str, bool, np.number))}
        if scalar_diags:
            lines.append("Diagnostics:")
            for k, v in scalar_diags.items():
                lines.append(f"  {k:<36}{_num(v) if isinstance(v, (float, np.floating)) else v}")
        for result in self._sensitivity.values():
            line = (result.summary_line() if callable(getattr(result, "summary_line", None))
                    else getattr(result, "attrs", {}).get("summary_line"))
            if line:
                lines.append(f"Sensitivity: {line}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The effect as an HTML table, for Jupyter (:func:`causalkit.tables.effect_html`)."""
        from .tables import effect_html

        return effect_html(self)


def _fmt_int(value: int | None) -> str:
    return "-" if value is None else f"{int(value):,}"


def _num(value: Any, digits: int = 4) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-4):
        return f"{v:.{digits}e}"
    return f"{v:.{digits}f}"


def _pval(p: float) -> str:
    if math.isnan(p):
        return "nan"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _wrap(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: width - 3] + "..."


def effects_to_frame(effects: Sequence[Effect]) -> pd.DataFrame:
    """Concatenate many effects into one tidy DataFrame (one row each).

    >>> e = Effect.from_estimate(method="m", estimand="ATE", estimate=1.0, std_error=1.0)
    >>> len(effects_to_frame([e, e]))
    2
    """
    return pd.concat([e.to_frame() for e in effects], ignore_index=True)
