"""E-values (VanderWeele & Ding 2017) for a point estimate and its confidence interval.

The E-value is the minimum strength of association, on the risk-ratio scale,
that an unmeasured confounder would need with both the treatment and the
outcome (conditional on the measured covariates) to move the observed risk
ratio ``RR`` to the null: ``E = RR + sqrt(RR (RR - 1))`` for ``RR >= 1`` (use
``1 / RR`` below 1).  The E-value of the confidence interval is that of the
limit nearer the null, and 1 when the interval contains the null.

Other scales are first converted to an (approximate) risk ratio, as in the
paper's Table 2:

* odds ratio, rare outcome (< 15% at the end of follow-up): ``RR ~ OR``;
  common outcome: ``RR ~ sqrt(OR)``;
* hazard ratio, rare outcome: ``RR ~ HR``; common outcome:
  ``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``;
* standardized mean difference ``d``: ``RR ~ exp(0.91 d)``, with the
  interval ``exp(0.91 d -+ 1.78 se)`` when a standard error is given.

Reference: T. J. VanderWeele and P. Ding (2017), "Sensitivity analysis in
observational research: introducing the E-value", Annals of Internal
Medicine 167(4), 268-274.

Example
-------
>>> from causalkit.sensitivity import evalue
>>> ev = evalue(3.9, lower=1.8, upper=8.7)           # breastfeeding example of the paper
>>> round(ev.point, 2), round(ev.ci, 2)
(7.26, 3.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError

#: Scales :func:`evalue` converts to a risk ratio, with the aliases it accepts.
SCALES: dict[str, tuple[str, bool | None]] = {
    "RR": ("RR", None), "OR": ("OR", None), "HR": ("HR", None), "SMD": ("SMD", None),
    "OR_rare": ("OR", True), "OR_common": ("OR", False),
    "HR_rare": ("HR", True), "HR_common": ("HR", False),
}

#: Multiplier of the SMD in the risk-ratio approximation ``RR ~ exp(0.91 d)``.
SMD_FACTOR = 0.91
#: Multiplier of the SMD's standard error for its interval, ``exp(0.91 d -+ 1.78 se)``.
SMD_SE_FACTOR = 1.78


def evalue_rr(rr: float) -> float:
    """E-value of one risk ratio: ``RR + sqrt(RR (RR - 1))`` after inverting ``RR < 1``.

    >>> round(evalue_rr(0.8), 4), evalue_rr(1.0)
    (1.809, 1.0)
    """
    if not rr > 0 or not math.isfinite(rr):
        raise OptionError(f"a risk ratio must be positive and finite, got {rr!r}")
    r = rr if rr >= 1 else 1.0 / rr
    return float(r + math.sqrt(r * (r - 1.0)))


def to_risk_ratio(value: float, scale: str, rare: bool | None = None) -> float:
    """Convert an estimate on ``scale`` (``RR``, ``OR``, ``HR``, ``SMD``) to a risk ratio.

    >>> round(to_risk_ratio(4.0, "OR", rare=False), 6)
    2.0
    >>> round(to_risk_ratio(1.0, "SMD"), 4)
    2.4843
    """
    if scale == "SMD":
        return float(math.exp(SMD_FACTOR * value))
    if not value > 0 or not math.isfinite(value):
        raise OptionError(f"a {scale} must be positive and finite, got {value!r}")
    if scale == "RR" or rare:
        return float(value)
    if scale == "OR":
        return float(math.sqrt(value))
    return float((1.0 - 0.5 ** math.sqrt(value)) / (1.0 - 0.5 ** math.sqrt(1.0 / value)))


@dataclass(frozen=True)
class EValue:
    """E-values of a point estimate and of its confidence interval.

    Attributes
    ----------
    point
        E-value of the point estimate.
    ci
        E-value of the confidence limit nearer the null (1 when the interval
        contains the null; NaN when no interval was given).
    rr, rr_lower, rr_upper
        The estimate and limits on the (approximate) risk-ratio scale.
    scale, null
        The scale of the input and the null (true) risk ratio shifted to.
    """

    point: float
    ci: float
    rr: float
    rr_lower: float
    rr_upper: float
    scale: str
    null: float = 1.0

    @property
    def table(self) -> pd.DataFrame:
        """The table of E-values: rows ``RR`` and ``E-value``; columns point, lower, upper.

        The E-value is reported under the limit nearer the null (the other is NaN).
        """
        lower_is_near = self.rr > self.null
        e_lo = self.ci if lower_is_near else math.nan
        e_hi = math.nan if lower_is_near else self.ci
        return pd.DataFrame({"point": [self.rr, self.point], "lower": [self.rr_lower, e_lo],
                             "upper": [self.rr_upper, e_hi]}, index=["RR", "E-value"])

    def summary_line(self) -> str:
        """One line for :meth:`causalkit.Effect.summary`."""
        ci = "" if math.isnan(self.ci) else f", CI limit {self.ci:.3g}"
        return f"E-value {self.point:.3g}{ci} (VanderWeele-Ding, {self.scale} scale)"

    def plot(self, ax: Any = None) -> Any:
        """The E-value curve: the confounder strengths that explain the estimate away."""
        from .plots import evalue_curve

        return evalue_curve(self, ax=ax)


def evalue(estimate: float, lower: float | None = None, upper: float | None = None,
           scale: str = "RR", *, rare: bool | None = None, se: float | None = None,
           null: float = 1.0) -> EValue:
    """E-value of ``estimate`` and of its confidence interval (VanderWeele & Ding 2017).

    Parameters
    ----------
    estimate, lower, upper
        The point estimate and (optionally) its confidence limits, on ``scale``.
    scale
        ``"RR"`` (risk or rate ratio), ``"OR"`` (odds ratio), ``"HR"`` (hazard
        ratio) or ``"SMD"`` (standardized mean difference); ``"OR_rare"``,
        ``"OR_common"``, ``"HR_rare"``, ``"HR_common"`` name the outcome's
        frequency too.
    rare
        For OR and HR: whether the outcome is rare (< 15% at the end of
        follow-up).  Required for those scales: the conversion depends on it.
    se
        For SMD: the standard error of ``d``; the limits are then
        ``exp(0.91 d -+ 1.78 se)`` as in the paper (do not also pass limits).
    null
        The true risk ratio to shift to (default 1, explaining the effect away).

    Examples
    --------
    >>> ev = evalue(0.80, 0.71, 0.91)              # leukemia example of the paper
    >>> round(ev.point, 2), round(ev.ci, 2)
    (1.81, 1.43)
    """
    if scale not in SCALES:
        raise OptionError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    base, implied = SCALES[scale]
    if implied is not None:
        if rare is not None and rare != implied:
            raise OptionError(f"scale={scale!r} contradicts rare={rare!r}")
        rare = implied
    if base in ("OR", "HR") and rare is None:
        raise OptionError(f"the {base} needs rare=True (outcome under 15% at the end of "
                          "follow-up) or rare=False: the conversion to a risk ratio depends "
                          f"on it; or pass scale='{base}_rare' / '{base}_common'")
    if base in ("RR", "SMD") and rare is not None:
        raise OptionError(f"rare= applies to odds and hazard ratios, not to scale={scale!r}")
    if not null > 0:
        raise OptionError(f"null must be a positive risk ratio, got {null!r}")
    if se is not None:
        if base != "SMD":
            raise OptionError("se= is used for scale='SMD' only; give lower= and upper=")
        if lower is not None or upper is not None:
            raise OptionError("give either se= or lower=/upper= for the SMD, not both")
        if not se > 0:
            raise OptionError(f"se must be positive, got {se!r}")
    values = [estimate, lower, upper]
    if any(v is not None and not np.isfinite(v) for v in values):
        raise OptionError(f"estimate and limits must be finite numbers, got {values}")
    if lower is not None and upper is not None and not lower <= estimate <= upper:
        raise OptionError(f"the interval [{lower}, {upper}] does not contain the estimate "
                          f"{estimate}")
    rr = to_risk_ratio(float(estimate), base, rare)
    if se is not None:
        lo = math.exp(SMD_FACTOR * estimate - SMD_SE_FACTOR * se)
        hi = math.exp(SMD_FACTOR * estimate + SMD_SE_FACTOR * se)
    else:
        lo = math.nan if lower is None else to_risk_ratio(float(lower), base, rare)
        hi = math.nan if upper is None else to_risk_ratio(float(upper), base, rare)
    point = evalue_rr(rr / null)
    if rr == null:
        ci = 1.0 if not (math.isnan(lo) and math.isnan(hi)) else math.nan
    else:
        near = lo if rr > null else hi
        if math.isnan(near):
            ci = math.nan
        else:
            ci = evalue_rr(near / null) if (near - null) * (rr - null) > 0 else 1.0
    return EValue(point=point, ci=ci, rr=rr, rr_lower=lo, rr_upper=hi, scale=scale,
                  null=float(null))


def effect_evalue(effect: Any, *, outcome_sd: float | None = None, data: Any = None,
                  scale: str = "SMD", **kwargs: Any) -> EValue:
    """E-value of an :class:`~causalkit.Effect` on a difference scale, as a standardized one.

    The effect and its confidence limits are divided by the outcome's standard
    deviation (``outcome_sd``, or the pooled within-arm SD of the outcome in
    ``data``), then converted with ``RR ~ exp(0.91 d)``, as VanderWeele & Ding
    (2017) and the EValue package's ``evalues.OLS`` do.  An effect already on
    a ratio scale can be given with ``scale="RR"`` (or OR/HR with ``rare=``).
    """
    if scale != "SMD":
        return evalue(effect.estimate, effect.ci_low, effect.ci_high, scale=scale, **kwargs)
    if outcome_sd is None:
        if data is None:
            raise OptionError("the E-value of a mean difference needs the outcome's standard "
                              "deviation: pass outcome_sd= or data= (the estimation data)")
        outcome_sd = pooled_sd(data, effect.treatment, effect.outcome)
    if not outcome_sd > 0:
        raise OptionError(f"outcome_sd must be positive, got {outcome_sd!r}")
    return evalue(effect.estimate / outcome_sd, effect.ci_low / outcome_sd,
                  effect.ci_high / outcome_sd, scale="SMD", **kwargs)


def pooled_sd(data: Any, treatment: str, outcome: str) -> float:
    """Pooled within-arm standard deviation of ``outcome`` (the SMD's denominator).

    >>> import pandas as pd
    >>> round(pooled_sd(pd.DataFrame({"t": [0, 0, 1, 1], "y": [0., 2., 1., 3.]}), "t", "y"), 4)
    1.4142
    """
    from ..validation import prepare

    d = prepare(data, treatment, outcome)
    ss = sum(float(((d.y[d.t == w] - d.y[d.t == w].mean()) ** 2).sum()) for w in (0, 1))
    return math.sqrt(ss / (len(d.y) - 2))
