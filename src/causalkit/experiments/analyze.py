"""`analyze`: many metrics, two or more arms, one tidy table, from raw rows or sufficient statistics.

Raw rows are reduced per arm to :class:`~.stats.Moments` in one vectorized
pass (:class:`ExperimentStats`); an experiment aggregated elsewhere enters as
an :class:`ExperimentStats` directly (:meth:`ExperimentStats.from_aggregates`
for SQL-style ``n, sum, sum of squares`` columns).  Every treatment arm is
compared with the control on every metric (:func:`~.metrics.compare`), the
p-values are adjusted for multiplicity across the family the user chooses,
and a sample-ratio-mismatch check runs on every analysis.

For a two-arm mean metric the result equals the registry's
``difference_in_means`` estimator (Neyman variance, Welch t).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"arm": np.repeat(["control", "B"], 500),
...                    "revenue": rng.normal(10, 2, 1000), "bought": rng.integers(0, 2, 1000)})
>>> res = analyze(df, "arm", ["revenue", "bought"])
>>> res.table[["metric", "kind", "arm"]].values.tolist()
[['revenue', 'mean', 'B'], ['bought', 'proportion', 'B']]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ConstantColumnError, DataError, EmptyArmError, OptionError
from ..inference import check_alpha
from ..validation import (as_dataframe, check_frame, require_columns, require_finite,
                          require_numeric)
from .metrics import Comparison, Metric, compare
from .multiple import adjust_p
from .srm import SRMResult, srm_check
from .stats import Moments, factorize, group_moments

ACROSS = ("all", "metrics", "arms", "none")


def as_metrics(metrics: str | Metric | Sequence[str | Metric]) -> list[Metric]:
    """Normalize metric names / :class:`Metric` objects to a list of metrics.

    >>> [m.name for m in as_metrics(["a", Metric("b")])]
    ['a', 'b']
    """
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    out = [Metric(m) if isinstance(m, str) else m for m in metrics]
    if not out:
        raise OptionError("give at least one metric")
    for m in out:
        if not isinstance(m, Metric):
            raise OptionError(f"metrics must be column names or Metric objects, got {m!r}")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise OptionError(f"metric names must be unique, got {names}")
    return out


@dataclass(frozen=True)
class ExperimentStats:
    """Per-arm sufficient statistics of every metric: all :func:`analyze` needs.

    Attributes
    ----------
    arms
        Arm labels, in the order of the batch axis of every :class:`Moments`.
    moments
        ``{metric name: Moments}`` with batch shape ``(n_arms,)`` over the
        variables ``metric.columns``.
    metrics
        ``{metric name: Metric}`` with ``kind`` resolved.
    """

    arms: tuple[Any, ...]
    moments: Mapping[str, Moments]
    metrics: Mapping[str, Metric]

    @classmethod
    def from_rows(cls, data: pd.DataFrame, variant: str,
                  metrics: str | Metric | Sequence[str | Metric]) -> "ExperimentStats":
        """Reduce raw rows (one per unit) to per-arm moments in one vectorized pass each.

        >>> df = pd.DataFrame({"v": [0, 0, 1, 1], "y": [1.0, 3.0, 5.0, 9.0]})
        >>> ExperimentStats.from_rows(df, "v", "y").moments["y"].mean[:, 0].tolist()
        [2.0, 7.0]
        """
        mets = as_metrics(metrics)
        frame = as_dataframe(data)
        require_columns(frame, variant, role="variant")
        cols = sorted({c for m in mets for c in m.columns})
        require_columns(frame, cols, role="metric")
        require_numeric(frame, cols, role="metric")
        codes, labels = factorize(frame[variant], name=f"variant {variant!r}")
        if len(labels) < 2:
            raise DataError(f"variant column {variant!r} has only one arm ({labels[0]!r}); "
                            "an experiment needs a control and at least one treatment")
        arrays = {c: frame[c].to_numpy(dtype=float) for c in cols}
        moments, resolved = {}, {}
        for m in mets:
            mom = group_moments(codes, [arrays[c] for c in m.columns], len(labels),
                                names=m.columns)
            if not (np.all(np.isfinite(mom.mean)) and np.all(np.isfinite(mom.comoment))):
                # NaN/inf propagate into the sums: find and name them only then (lazy check)
                require_finite(frame, list(m.columns), role="metric")
            moments[m.name] = mom
            resolved[m.name] = _resolve_kind(m, arrays[m.columns[0]], mom)
        return cls(tuple(labels), moments, resolved)

    @classmethod
    def from_aggregates(cls, table: pd.DataFrame, variant: str, n: str,
                        metrics: Mapping[str, tuple[str, str]],
                        kinds: Mapping[str, str] | None = None) -> "ExperimentStats":
        """Statistics from one row per arm with SQL aggregates ``count``, ``sum`` and ``sum of squares``.

        ``metrics`` maps a metric name to its ``(sum column, sum-of-squares
        column)``; ``kinds`` optionally marks metrics as ``"proportion"``.

        >>> agg = pd.DataFrame({"arm": ["A", "B"], "n": [4, 4], "s": [14.0, 18.0],
        ...                     "ss": [70.0, 90.0]})
        >>> st = ExperimentStats.from_aggregates(agg, "arm", "n", {"y": ("s", "ss")})
        >>> st.moments["y"].var()[:, 0].tolist()
        [7.0, 3.0]
        """
        cols = [n] + [c for pair in metrics.values() for c in pair]
        require_columns(table, variant, role="variant")
        check_frame(table, roles={"aggregate": cols})
        if table[variant].duplicated().any():
            raise DataError(f"aggregate table must have one row per arm; {variant!r} repeats")
        kinds = dict(kinds or {})
        counts = table[n].to_numpy(dtype=float)
        moments, resolved = {}, {}
        for name, (s, ss) in metrics.items():
            sums = table[s].to_numpy(dtype=float)[:, None]
            cross = table[ss].to_numpy(dtype=float)[:, None, None]
            moments[name] = Moments.from_sums(counts, sums, cross, names=(name,))
            kind = kinds.get(name, "mean")
            resolved[name] = Metric(name, kind=kind)
        return cls(tuple(table[variant].tolist()), moments, resolved)

    def counts(self) -> np.ndarray:
        """Units per arm (from the first metric)."""
        return next(iter(self.moments.values())).n


def _resolve_kind(metric: Metric, column: np.ndarray, mom: Moments) -> Metric:
    """``auto`` -> ``ratio`` with a denominator, ``proportion`` for a 0/1 column, else ``mean``.

    A column within [0, 1] is 0/1 exactly when ``E[x^2] = E[x]``, i.e. its
    population variance is ``p (1 - p)`` in every arm; checked on the moments
    (relative tolerance 1e-9) after two cheap min/max passes.
    """
    if metric.kind != "auto":
        return metric
    kind = "mean"
    if metric.is_ratio:
        kind = "ratio"
    elif column.min() >= 0 and column.max() <= 1:
        p = mom.mean[:, 0]
        popvar = mom.comoment[:, 0, 0] / mom.n
        if np.allclose(popvar, p * (1 - p), rtol=1e-9, atol=1e-15):
            kind = "proportion"
    return Metric(metric.name, kind, metric.column, metric.denominator, metric.covariate,
                  metric.covariate_denominator)


@dataclass(frozen=True)
class ExperimentResult:
    """Result of :func:`analyze`: the tidy ``table``, the SRM check and the settings."""

    table: pd.DataFrame
    srm: SRMResult
    control: Any
    alpha: float
    correction: str
    stats: ExperimentStats = field(repr=False)

    def summary(self) -> str:
        """A readable text table of the lifts, intervals and (adjusted) p-values."""
        t = self.table
        lines = [f"Experiment analysis (control = {self.control!r}, alpha = {self.alpha}, "
                 f"correction = {self.correction})", str(self.srm), ""]
        head = (f"{'metric':<14}{'arm':<10}{'control':>11}{'treatment':>11}{'lift':>11}"
                f"{'95% CI' if self.alpha == 0.05 else 'CI':>24}{'rel. lift':>10}{'p':>10}{'p adj':>10}")
        lines += [head, "-" * len(head)]
        for r in t.itertuples():
            ci = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
            lines.append(f"{str(r.metric):<14.14}{str(r.arm):<10.10}{r.control_mean:>11.4g}"
                         f"{r.treatment_mean:>11.4g}{r.estimate:>11.4g}{ci:>24}"
                         f"{r.relative:>10.2%}{r.p_value:>10.3g}{r.p_adjusted:>10.3g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def analyze(data: pd.DataFrame | ExperimentStats, variant: str | None = None,
            metrics: str | Metric | Sequence[str | Metric] | None = None, control: Any = None,
            *, alpha: float = 0.05, correction: str = "holm", correct_across: str = "all",
            split: Sequence[float] | None = None, relative_ci: str = "delta",
            srm_threshold: float = 0.001) -> ExperimentResult:
    """Analyze an A/B or multi-arm experiment on one or many metrics.

    Parameters
    ----------
    data
        One row per randomized unit, or an :class:`ExperimentStats`.
    variant
        Column holding each unit's arm (not needed for ``ExperimentStats``).
    metrics
        Column names and/or :class:`~.metrics.Metric` objects (ratio metrics,
        CUPED covariates, explicit kinds).
    control
        Label of the control arm; default ``"control"`` when present, else the
        first label in sorted order.
    alpha
        One minus the confidence level of every interval.
    correction
        ``"holm"`` (default), ``"bonferroni"``, ``"bh"``, ``"by"`` or ``"none"``.
    correct_across
        The family of each correction: ``"all"`` (every metric x arm),
        ``"metrics"`` (per arm), ``"arms"`` (per metric) or ``"none"``.
    split
        Intended allocation for the SRM check (equal by default).
    relative_ci
        ``"delta"`` or ``"fieller"`` interval for the relative lift.
    srm_threshold
        p-value under which a sample-ratio mismatch is flagged (and warned).
    """
    alpha = check_alpha(alpha)
    if correct_across not in ACROSS:
        raise OptionError(f"correct_across must be one of {ACROSS}, got {correct_across!r}")
    if isinstance(data, ExperimentStats):
        st = data
        if metrics is not None:
            wanted = [m.name for m in as_metrics(metrics)]
            st = ExperimentStats(st.arms, {k: st.moments[k] for k in wanted},
                                 {k: st.metrics[k] for k in wanted})
    else:
        if variant is None or metrics is None:
            raise OptionError("analyze(data, variant, metrics): give the variant column and metrics")
        st = ExperimentStats.from_rows(data, variant, metrics)
    arms = list(st.arms)
    if control is None:
        control = "control" if "control" in arms else arms[0]
    if control not in arms:
        raise OptionError(f"control arm {control!r} is not among the arms {arms}")
    c = arms.index(control)
    _check_statistics(st)
    srm = srm_check(st.counts(), split=split, threshold=srm_threshold, labels=arms)
    rows = []
    for name, mom in st.moments.items():
        metric = st.metrics[name]
        kind = metric.kind if metric.kind != "auto" else ("ratio" if metric.is_ratio else "mean")
        for a, arm in enumerate(arms):
            if a == c:
                continue
            rows.append(_row(name, kind, arm, mom.take(a), mom.take(c),
                             compare(mom.take(a), mom.take(c), metric, alpha, kind, relative_ci)))
    table = pd.DataFrame(rows)
    table["p_adjusted"] = _adjust(table, correction, correct_across)
    return ExperimentResult(table=table, srm=srm, control=control, alpha=alpha,
                            correction=correction, stats=st)


def _check_statistics(st: ExperimentStats) -> None:
    """Refuse arms too small for a variance, constant metrics and zero ratio denominators."""
    for name, mom in st.moments.items():
        small = np.flatnonzero(mom.n < 2)
        if len(small):
            raise EmptyArmError(f"arm {st.arms[small[0]]!r} has {int(mom.n[small[0]])} unit(s) "
                                f"for metric {name!r}; every arm needs at least 2")
        if np.all(mom.comoment[:, 0, 0] <= 0):
            raise ConstantColumnError(f"metric {name!r} takes a single value in every arm; "
                                      "there is nothing to compare (drop it)")
        if st.metrics[name].is_ratio and np.any(mom.mean[:, 1] == 0):
            bad = st.arms[int(np.flatnonzero(mom.mean[:, 1] == 0)[0])]
            raise DataError(f"ratio metric {name!r}: the denominator sums to 0 in arm {bad!r}")


def _row(metric: str, kind: str, arm: Any, treat: Moments, ctrl: Moments, r: Comparison
         ) -> dict[str, Any]:
    row = {"metric": metric, "kind": kind, "arm": arm, "n_control": int(ctrl.n),
           "n_treatment": int(treat.n), "control_mean": float(r.control),
           "treatment_mean": float(r.treatment), "estimate": float(r.estimate),
           "std_error": float(r.std_error), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high),
           "relative": float(r.relative), "relative_ci_low": float(r.relative_ci_low),
           "relative_ci_high": float(r.relative_ci_high), "statistic": float(r.statistic),
           "df": float(r.df), "p_value": float(r.p_value)}
    if r.theta is not None:
        row["cuped_theta"] = float(r.theta)
        row["variance_reduction"] = float(r.variance_reduction)  # type: ignore[arg-type]
    return row


def _adjust(table: pd.DataFrame, correction: str, across: str) -> np.ndarray:
    p = table["p_value"].to_numpy()
    if across == "none" or correction == "none":
        return adjust_p(p, "none")
    if across == "all":
        return adjust_p(p, correction)
    key = "arm" if across == "metrics" else "metric"
    out = np.empty_like(p)
    for _, idx in table.groupby(key, sort=False).indices.items():
        out[idx] = adjust_p(p[idx], correction)
    return out
