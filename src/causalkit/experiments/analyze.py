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

import math
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ConstantColumnError, DataError, EmptyArmError, OptionError
from ..inference import check_alpha
from .aggregates import ExperimentStats, as_metrics
from .control import resolve_control
from .dunnett import dunnett_adjust
from .metrics import Comparison, Metric, compare
from .multiple import METHODS as P_METHODS
from .multiple import adjust_p, holm_across_families
from .noninferiority import decide, noninferiority
from .srm import SRMResult, srm_check
from .stats import Moments
from .warehouse import is_ibis_table, stats_from_table

if TYPE_CHECKING:
    from .report import ReportFiles

__all__ = ["ExperimentResult", "ExperimentStats", "UndefinedTestWarning", "analyze", "as_metrics"]

ACROSS = ("all", "metrics", "arms", "none")
CORRECTIONS = tuple(P_METHODS) + ("dunnett",)


class UndefinedTestWarning(UserWarning):
    """A row's test could not be computed: its p-value is NaN (see the row's ``note``)."""


@dataclass(frozen=True)
class ExperimentResult:
    """Result of :func:`analyze`: the tidy ``table``, the SRM check and the settings.

    ``control`` is the control arm and ``control_rule`` how it was chosen
    (given, or the unambiguous label of :mod:`.control`).
    """

    table: pd.DataFrame
    srm: SRMResult
    control: Any
    alpha: float
    correction: str
    stats: ExperimentStats = field(repr=False)
    control_rule: str = "given (control=)"
    #: The SQL of the aggregate queries run in the database (Ibis input), in order; else empty.
    sql: tuple[str, ...] = ()

    def summary(self) -> str:
        """A readable text table of the lifts, intervals and (adjusted) p-values, with notes."""
        t = self.table
        lines = [f"Experiment analysis (control = {self.control!r}: {self.control_rule}; "
                 f"alpha = {self.alpha}, correction = {self.correction})", str(self.srm), ""]
        head = (f"{'metric':<14}{'arm':<10}{'control':>11}{'treatment':>11}{'lift':>11}"
                f"{'95% CI' if self.alpha == 0.05 else 'CI':>24}{'rel. lift':>10}{'p':>10}{'p adj':>10}")
        lines += [head, "-" * len(head)]
        for r in t.itertuples():
            ci = f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
            lines.append(f"{str(r.metric):<14.14}{str(r.arm):<10.10}{r.control_mean:>11.4g}"
                         f"{r.treatment_mean:>11.4g}{r.estimate:>11.4g}{ci:>24}"
                         f"{r.relative:>10.2%}{r.p_value:>10.3g}{r.p_adjusted:>10.3g}")
        notes = [f"  {r.metric} / {r.arm}: {r.note}" for r in t.itertuples() if r.note]
        if notes:
            lines += ["", "Notes:"] + notes
        return "\n".join(lines)

    def decision(self) -> "Decision":
        """Ship / hold / roll back per arm from the primary and guardrail metrics.

        The rule is in :mod:`.noninferiority`: roll back when a primary metric
        is significantly worse or a guardrail fails; ship when a primary
        metric wins and every guardrail passes; hold otherwise.
        """
        rows, by_arm = decide(self.table, self.alpha)
        return Decision(rows, by_arm)

    def report(self, out_dir: "str | os.PathLike[str]" = "experiment_report", *,
               lift_of_interest: "float | Mapping[str, float]" = 0.05, power: float = 0.8,
               title: str = "Experiment report") -> "ReportFiles":
        """Write a self-contained HTML report and its PNGs into ``out_dir`` (see :mod:`.report`).

        The page has the forest plot of every metric's lift (guardrails
        marked), the sample-ratio check, the ship / hold / roll-back decision,
        the power achieved against a relative ``lift_of_interest`` (and the
        minimum detectable lift at ``power``) and the key numbers.  Returns
        the paths written; an unwritable ``out_dir`` is an
        :class:`~causalkit.errors.OutputPathError`.
        """
        from .report import write_report

        return write_report(self, out_dir, lift_of_interest=lift_of_interest, power=power,
                            title=title)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The analysis as HTML, for Jupyter: the settings, the SRM check and the table."""
        import html

        head = (f"<p>Experiment analysis (control = {html.escape(repr(self.control))}: "
                f"{html.escape(self.control_rule)}; alpha = {self.alpha}, correction = "
                f"{html.escape(str(self.correction))})<br>{html.escape(str(self.srm))}</p>")
        return head + self.table.to_html(classes="causalkit-experiment", float_format="%.4g")


@dataclass(frozen=True)
class Decision:
    """``metrics``: status of every metric x arm (win / flat / loss, pass / inconclusive /
    fail); ``arms``: the decision (ship / hold / roll back) and its reason per arm."""

    metrics: pd.DataFrame
    arms: pd.DataFrame

    def __str__(self) -> str:
        return "\n".join(f"{r.arm}: {r.decision.upper()} ({r.reason})" for r in self.arms.itertuples())


def analyze(data: pd.DataFrame | ExperimentStats, variant: str | None = None,
            metrics: str | Metric | Sequence[str | Metric] | None = None, control: Any = None,
            *, alpha: float = 0.05, correction: str = "holm", correct_across: str = "all",
            split: Sequence[float] | None = None, relative_ci: str = "fieller",
            pooled: bool = True, srm_threshold: float = 0.001,
            unit: str | None = None) -> ExperimentResult:
    """Analyze an A/B or multi-arm experiment on one or many metrics.

    Parameters
    ----------
    data
        One row per randomized unit (pandas, or any frame narwhals knows:
        polars, pyarrow, a DuckDB relation), an Ibis table (the statistics are
        computed in its database and only the aggregates are pulled, see
        :mod:`.warehouse`; the SQL is in ``result.sql``), or an
        :class:`ExperimentStats`.
    variant
        Column holding each unit's arm (only for raw rows).
    metrics
        Column names and/or :class:`~.metrics.Metric` objects (ratio metrics,
        CUPED covariates, explicit kinds); for ``ExperimentStats``, the names of
        the metrics to analyze (default: all).
    control
        Label of the control arm.  May be omitted only when the labels make it
        unambiguous (:func:`~.control.resolve_control`): one arm named
        ``control``/``ctrl``/``baseline``, integer arms ``0..K-1`` (0), or letter
        arms ``A, B, ...`` (A).  The result says which arm was used and why.
    alpha
        One minus the confidence level of every interval.
    correction
        ``"holm"`` (default), ``"bonferroni"``, ``"bh"``, ``"by"``, ``"dunnett"``
        or ``"none"``.  ``"dunnett"`` (:mod:`.dunnett`) adjusts each metric's
        treatment-vs-control comparisons jointly by the distribution of their
        maximum statistic (large-sample, unequal variances: the correlation of
        two arms' statistics comes from the shared control); with
        ``correct_across="all"`` these are then Holm-adjusted across metrics
        (each metric a family: step-down over metrics ordered by their smallest
        Dunnett p-value, which controls the family-wise error over every metric
        x arm); ``"arms"`` is Dunnett per metric only; ``"metrics"`` is refused
        (one comparison per metric and arm: nothing for Dunnett to do).
    correct_across
        The family of each correction: ``"all"`` (every metric x arm),
        ``"metrics"`` (per arm), ``"arms"`` (per metric) or ``"none"``.
    split
        Intended allocation for the SRM check (equal by default), in arm order.
    relative_ci
        ``"fieller"`` (default): the relative-lift interval that inverts the
        row's own test, so it excludes 0 exactly when ``p < alpha`` (for the
        pooled proportion test, Koopman's score interval); ``"delta"``: the
        delta-method interval (same reference distribution, but it can
        disagree with the p-value near the boundary).
    pooled
        Two-proportion z test with the pooled null variance (default) or,
        ``False``, the unpooled (Wald) variance.  Needs a proportion metric.
    srm_threshold
        p-value under which a sample-ratio mismatch is flagged (and warned).
    unit
        Rows are events of this unit column (e.g. ``user_id``): summed per unit
        before the analysis, so ratio and clustered metrics are per unit.

    Notes
    -----
    A row whose test cannot be computed (e.g. a zero standard error) has NaN
    statistic, p-value and intervals, the reason in its ``note`` column, and
    an :class:`UndefinedTestWarning` is issued.  An arm with no units (an
    unused category of a categorical variant) counts in the SRM check, then
    raises :class:`~causalkit.errors.EmptyArmError`.
    """
    alpha = check_alpha(alpha)
    if correct_across not in ACROSS:
        raise OptionError(f"correct_across must be one of {ACROSS}, got {correct_across!r}")
    sql: tuple[str, ...] = ()
    if correction not in CORRECTIONS:
        raise OptionError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    metrics, policy = _split_policy(metrics)
    if isinstance(data, ExperimentStats):
        if variant is not None or unit is not None:
            raise OptionError(f"{'variant' if variant is not None else 'unit'}= is for raw rows; "
                              "an ExperimentStats already holds the arms")
        st = data if metrics is None else data.subset(metrics)
    else:
        if variant is None or metrics is None:
            raise OptionError("analyze(data, variant, metrics): give the variant column and metrics")
        if is_ibis_table(data):
            st, sql = stats_from_table(data, variant, metrics, unit=unit)
        else:
            st = ExperimentStats.from_rows(data, variant, metrics, unit=unit)
    arms = list(st.arms)
    c, rule = resolve_control(arms, control)
    _check_pooled(pooled, st)
    srm = srm_check(st.counts(), split=split, threshold=srm_threshold, labels=arms)
    _check_statistics(st, srm)
    rows, control_var = [], []
    for name, mom in st.moments.items():
        metric = st.metrics[name]
        kind = metric.kind if metric.kind != "auto" else ("ratio" if metric.is_ratio else "mean")
        for a, arm in enumerate(arms):
            if a == c:
                continue
            r = compare(mom.take(a), mom.take(c), metric, alpha, kind, relative_ci, pooled)
            rows.append(_row(name, kind, arm, arms[c], mom.take(a), mom.take(c), r))
            control_var.append(float(r.var_control))
            if policy:
                rows[-1].update(noninferiority(r, policy.get(name, metric)))
    table = pd.DataFrame(rows)
    if correction == "dunnett":
        table["p_adjusted"] = dunnett_table(table, np.array(control_var), correct_across)
    else:
        table["p_adjusted"] = _adjust(table, correction, correct_across)
    undefined = table[table["p_value"].isna()]
    if len(undefined):
        warnings.warn("no test for " + "; ".join(
            f"{r.metric} / {r.arm}: {r.note}" for r in undefined.itertuples())
            + " (p-value NaN; see the note column)", UndefinedTestWarning, stacklevel=2)
    return ExperimentResult(table=table, srm=srm, control=arms[c], alpha=alpha,
                            correction=correction, stats=st, control_rule=rule, sql=sql)


def _split_policy(metrics: Any) -> tuple[Any, dict[str, Metric]]:
    """Metrics without their decision fields (margin, direction, guardrail) and those fields by name.

    The statistics depend only on the columns and kind; the decision fields
    drive :mod:`.noninferiority` and :meth:`ExperimentResult.decision`.
    """
    if metrics is None:
        return None, {}
    given = as_metrics(metrics)
    plain = [replace(m, margin=None, margin_kind="absolute", direction="higher", guardrail=False)
             for m in given]
    if all(m == p for m, p in zip(given, plain)):
        return metrics, {}
    return plain, {m.name: m for m in given}


def dunnett_table(table: pd.DataFrame, control_var: np.ndarray, across: str) -> np.ndarray:
    """Dunnett within each metric's arms, then Holm across metrics when ``across="all"``.

    ``control_var`` is the control's part of each row's variance of the
    difference; a Welch row's df enters as the smallest df of its metric
    (conservative; irrelevant at experiment sizes).
    """
    if across == "metrics":
        raise OptionError('correction="dunnett" adjusts across arms (within a metric); with '
                          'correct_across="metrics" each family has one comparison per metric. '
                          'Use correct_across="arms" or "all", or correction="holm"')
    if across == "none":
        return table["p_value"].to_numpy(dtype=float).copy()
    p = np.full(len(table), np.nan)
    # the control's share of each comparison's variance of the difference
    total = table["std_error"].to_numpy(dtype=float) ** 2
    share = control_var / np.where(total > 0, total, np.nan)
    groups = table.groupby("metric", sort=False).indices
    for idx in groups.values():
        df = table["df"].to_numpy(dtype=float)[idx]
        dfs = float(np.nanmin(df)) if np.isfinite(df).any() else math.inf
        p[idx] = dunnett_adjust(table["statistic"].to_numpy(dtype=float)[idx], share[idx], dfs)
    return p if across == "arms" else holm_across_families(p, list(groups.values()))


def _check_pooled(pooled: Any, st: ExperimentStats) -> None:
    """``pooled=False`` must have a (non-CUPED) proportion metric to apply to."""
    if not isinstance(pooled, (bool, np.bool_)):
        raise OptionError(f"pooled must be True or False, got {pooled!r}")
    if not pooled and not any(m.kind == "proportion" and m.covariate is None
                              for m in st.metrics.values()):
        raise OptionError(f"pooled=False chooses the unpooled two-proportion z test, but none of "
                          f"the metrics {list(st.metrics)} is a proportion without CUPED")


def _check_statistics(st: ExperimentStats, srm: SRMResult) -> None:
    """Refuse arms too small for a variance, constant metrics and zero ratio denominators."""
    for name, mom in st.moments.items():
        small = np.flatnonzero(mom.n < 2)
        if len(small):
            arm, n = st.arms[small[0]], int(mom.n[small[0]])
            hint = (f"; {srm}: a sample-ratio mismatch (assignment or logging is broken, or drop "
                    "the unused category)") if n == 0 else ""
            raise EmptyArmError(f"arm {arm!r} has {n} unit(s) for metric {name!r}; every arm "
                                f"needs at least 2{hint}")
        if np.all(mom.comoment[:, 0, 0] <= 0):
            raise ConstantColumnError(f"metric {name!r} takes a single value in every arm; "
                                      "there is nothing to compare (drop it)")
        if st.metrics[name].is_ratio and np.any(mom.mean[:, 1] == 0):
            bad = st.arms[int(np.flatnonzero(mom.mean[:, 1] == 0)[0])]
            raise DataError(f"ratio metric {name!r}: the denominator sums to 0 in arm {bad!r}")


def _row(metric: str, kind: str, arm: Any, control: Any, treat: Moments, ctrl: Moments,
         r: Comparison) -> dict[str, Any]:
    row = {"metric": metric, "kind": kind, "arm": arm, "control": control,
           "n_control": int(ctrl.n), "n_treatment": int(treat.n),
           "control_mean": float(r.control), "treatment_mean": float(r.treatment),
           "estimate": float(r.estimate), "std_error": float(r.std_error),
           "ci_low": float(r.ci_low), "ci_high": float(r.ci_high),
           "relative": float(r.relative), "relative_ci_low": float(r.relative_ci_low),
           "relative_ci_high": float(r.relative_ci_high), "statistic": float(r.statistic),
           "df": float(r.df), "p_value": float(r.p_value)}
    if r.theta is not None:
        row["cuped_theta"] = float(r.theta)
        row["variance_reduction"] = float(r.variance_reduction)  # type: ignore[arg-type]
    row["note"] = str(r.note)
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
