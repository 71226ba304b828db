"""`run`: registered estimators x datasets x replications, scored against the truth.

Each replication draws a fresh dataset (seeded from ``seed``, the dataset's
name and the replication number, so results do not depend on ``n_jobs``) and
fits every compatible estimator on it; estimators that take a
``random_state`` get one derived from the same seed.  A fit that raises is recorded with its
error message and the run goes on.  Replications run in parallel through
joblib; to use a Dask (or Ray) cluster, wrap the call in joblib's backend
switch::

    from dask.distributed import Client
    import joblib
    client = Client("scheduler-address:8786")          # or Client() for a local one
    with joblib.parallel_backend("dask"):
        result = run(reps=1000, n_jobs=-1)

Example
-------
>>> result = run(["difference_in_means"], {"randomized": {"n": 200}}, reps=3, seed=1)
>>> len(result.results), int(result.summary.loc[0, "n_fits"])
(3, 3)
"""

from __future__ import annotations

import inspect
import sys
import time
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import joblib
import numpy as np
import pandas as pd

from .. import registry
from ..api import estimate
from ..datasets import catalog
from ..datasets._base import CausalDataset
from ..errors import OptionError
from ..inference import check_alpha
from ..options import suggest
from .grid import compatible, fit_roles
from .summary import summarize

DatasetSpec = Any  # name | (name, params) | callable(seed) -> CausalDataset | CausalDataset

#: Which DAG adjustment set backdoor estimators receive.
ADJUSTMENTS = ("optimal", "minimal")

RESULT_COLUMNS = ["dataset", "method", "rep", "estimand", "truth", "estimate", "std_error",
                  "ci_low", "ci_high", "covered", "ci_width", "time_s", "n_obs", "covariates",
                  "error_type", "error"]


@dataclass
class BenchmarkResult:
    """The tidy per-fit table (``results``) and its summary (``summary``)."""

    results: pd.DataFrame
    summary: pd.DataFrame
    skipped: pd.DataFrame

    def to_markdown(self, **kwargs: Any) -> str:
        """The summary as a Markdown table (see :func:`causalkit.benchmark.report.to_markdown`)."""
        from .report import to_markdown

        return to_markdown(self.summary, **kwargs)

    def save(self, out_dir: str, figure: bool = True) -> dict[str, str]:
        """Write results.csv, summary.csv, summary.md and (optionally) benchmark.png."""
        from .report import save

        return save(self, out_dir, figure=figure)


@dataclass(frozen=True)
class _Source:
    name: str
    make: Callable[[np.random.SeedSequence], CausalDataset]
    fixed: bool  # a fixed (real) dataset is fitted once, not per replication


def _sources(datasets: DatasetSpec | Iterable[DatasetSpec] | Mapping[str, Mapping] | None
             ) -> list[_Source]:
    from .defaults import DEFAULT_DATASETS

    if datasets is None:
        datasets = DEFAULT_DATASETS
    if isinstance(datasets, (str, CausalDataset)) or callable(datasets):
        datasets = [datasets]
    items = list(datasets.items()) if isinstance(datasets, Mapping) else [
        (d, {}) if isinstance(d, str) else d for d in datasets]
    out = []
    for item in items:
        if isinstance(item, CausalDataset):
            out.append(_Source(item.name, (lambda s, d=item: d), True))
        elif callable(item):
            name = getattr(item, "__name__", "dataset")
            out.append(_Source(name, (lambda s, f=item: f(seed=s)), False))
        else:
            name, params = item
            make = catalog.generator(name)
            if name in catalog.REAL:
                ds = make(**dict(params or {}))
                out.append(_Source(name, (lambda s, d=ds: d), True))
            else:
                out.append(_Source(name, (lambda s, f=make, p=dict(params or {}):
                                          f(**p, seed=s)), False))
    names = [s.name for s in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise OptionError(f"dataset names must be unique in a benchmark, repeated: {sorted(dup)}")
    return out


def _seed(seed: int, name: str, rep: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode()), int(rep)])


def _takes_random_state(spec: registry.EstimatorSpec) -> bool:
    try:
        return "random_state" in inspect.signature(spec.func).parameters
    except (TypeError, ValueError):
        return False


def _fit_one(spec: registry.EstimatorSpec, ds: CausalDataset, rep: int, alpha: float,
             adjustment: str, options: Mapping[str, Any], random_state: int) -> dict[str, Any]:
    options = dict(options)
    if "random_state" not in options and _takes_random_state(spec):
        options["random_state"] = random_state  # reproducible cross-fitting, bootstraps, ...
    row: dict[str, Any] = {"dataset": ds.name, "method": spec.name, "rep": rep,
                           "error_type": None, "error": None}
    start = time.perf_counter()
    try:
        roles = fit_roles(spec, ds, adjustment)
        row["covariates"] = ",".join(roles.get("covariates") or [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eff = estimate(ds.data, method=spec.name, alpha=alpha, **roles, **dict(options))
        row["time_s"] = time.perf_counter() - start
        truth = ds.true_effect(eff.estimand)
        row.update(estimand=eff.estimand, estimate=eff.estimate, std_error=eff.std_error,
                   ci_low=eff.ci_low, ci_high=eff.ci_high, n_obs=eff.n_obs,
                   truth=np.nan if truth is None else truth)
        if not np.isfinite(eff.estimate):
            row.update(error_type="NonFiniteEstimate", error="the estimate is not finite")
    except Exception as err:  # a failing estimator never stops the run
        row["time_s"] = time.perf_counter() - start
        row.update(error_type=type(err).__name__, error=str(err)[:300] or repr(err))
    return row


def check_method_options(specs: Sequence[registry.EstimatorSpec],
                         options: Mapping[str, Mapping[str, Any]] | None
                         ) -> dict[str, dict[str, Any]]:
    """Check every per-method option before any fit, with the registry's check.

    >>> check_method_options([registry.get("ipw")], {"ipw": {"trimm": 0.01}})
    Traceback (most recent call last):
    ...
    causalkit.errors.OptionError: method 'ipw' has no option 'trimm'; did you mean 'trim'? Its options: estimand, normalized, stabilized, propensity_model, trim, clip
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise OptionError("options must map a method name to its options, e.g. "
                          "{'ipw': {'trim': 0.01}}")
    by_name = {s.name: s for s in specs}
    out: dict[str, dict[str, Any]] = {}
    for method, given in options.items():
        if method not in by_name:
            hint = suggest(method, by_name)
            raise OptionError(f"options are given for {method!r}, which is not among the "
                              f"benchmarked methods ({', '.join(by_name)})"
                              + (f"; did you mean {hint!r}?" if hint else ""))
        spec = by_name[method]
        if not isinstance(given, Mapping):
            raise OptionError(f"the options of {method!r} must be a mapping of option names "
                              f"to values, got {given!r}")
        fixed = [k for k in given if k in ("data", "alpha") or
                 (k in registry.ROLE_NAMES and k not in spec.option_names)]
        if fixed:
            raise OptionError(f"options for {method!r} name {', '.join(map(repr, fixed))}, "
                              "which the benchmark sets itself (roles come from each dataset, "
                              "alpha from run(alpha=...))")
        spec.checked_options(dict(given))
        out[method] = dict(given)
    return out


def _run_task(source: _Source, rep: int, seed: int, specs: Sequence[registry.EstimatorSpec],
              alpha: float, adjustment: str, options: Mapping[str, Mapping[str, Any]]
              ) -> list[dict[str, Any]]:
    seq = _seed(seed, source.name, rep)
    random_state = int(seq.spawn(1)[0].generate_state(1)[0])
    try:
        ds = source.make(seq)
    except Exception as err:
        return [{"dataset": source.name, "method": s.name, "rep": rep,
                 "error_type": type(err).__name__, "error": f"dataset: {err}"[:300]}
                for s in specs]
    return [_fit_one(s, ds, rep, alpha, adjustment, options.get(s.name, {}), random_state)
            for s in specs if compatible(s, ds)]


def run(methods: Sequence[str] | None = None,
        datasets: DatasetSpec | Iterable[DatasetSpec] | Mapping[str, Mapping] | None = None,
        reps: int = 100, n_jobs: int | None = None, seed: int = 0, alpha: float = 0.05,
        adjustment: str = "optimal", options: Mapping[str, Mapping[str, Any]] | None = None,
        progress: bool | None = None) -> BenchmarkResult:
    """Fit every compatible (method, dataset) pair on ``reps`` fresh draws and score it.

    Parameters
    ----------
    methods
        Registered estimator names; default: the cheap estimators registered
        now (:func:`causalkit.benchmark.defaults.default_methods`).
    datasets
        Dataset names from :data:`causalkit.datasets.SYNTHETIC` / ``REAL``, a
        mapping ``name -> generator parameters``, ``(name, params)`` pairs,
        callables ``f(seed=...) -> CausalDataset`` or fixed ``CausalDataset``
        objects (fitted once).  Default: :data:`~causalkit.benchmark.defaults.DEFAULT_DATASETS`.
    reps
        Replications (fresh draws) per synthetic dataset.
    n_jobs
        joblib ``n_jobs``; ``None`` uses the active joblib backend's default
        (1 outside a ``parallel_backend`` block).
    seed
        Base seed; results are reproducible and independent of ``n_jobs``.
    alpha
        One minus the confidence level of the intervals scored for coverage.
    adjustment
        ``"minimal"`` or ``"optimal"``: which DAG adjustment set backdoor
        estimators receive.
    options
        Per-method extra keyword arguments, e.g. ``{"ipw": {"trim": 0.01}}``.
        Checked before any fit by the registry's check (as
        :func:`causalkit.estimate` checks them): an option the method does not
        take, a role or ``alpha`` (which the benchmark sets) or a method not in
        ``methods`` raises :class:`~causalkit.errors.OptionError`.
    progress
        Show a tqdm bar; default: only when stderr is a terminal.

    Returns
    -------
    BenchmarkResult
        ``results`` (one row per fit), ``summary`` (one row per dataset x
        method x estimand: bias, RMSE, coverage, CI width, time, failures) and
        ``skipped`` (pairs that were not compatible).
    """
    from .defaults import default_methods

    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise OptionError(f"reps must be a positive integer, got {reps!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
    if n_jobs is not None and (not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise OptionError(f"n_jobs must be a non-zero integer (-1: all cores) or None, "
                          f"got {n_jobs!r}")
    if adjustment not in ADJUSTMENTS:
        raise OptionError(f"adjustment must be one of {', '.join(ADJUSTMENTS)}, got "
                          f"{adjustment!r}")
    alpha = check_alpha(alpha)
    names = default_methods() if methods is None else list(methods)
    specs = [registry.get(m) for m in names]
    options = check_method_options(specs, options)
    sources = _sources(datasets)
    tasks = [(src, rep) for src in sources for rep in range(1 if src.fixed else reps)]
    skipped = _skipped(specs, sources, seed)
    if progress is None:
        progress = sys.stderr.isatty()
    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator" if progress else "list")
    calls = (joblib.delayed(_run_task)(src, rep, seed, specs, alpha, adjustment, options)
             for src, rep in tasks)
    output = parallel(calls)
    if progress:
        from tqdm.auto import tqdm

        output = tqdm(output, total=len(tasks), desc="benchmark", unit="draw")
    rows = [row for chunk in output for row in chunk]
    results = pd.DataFrame(rows).reindex(columns=RESULT_COLUMNS)
    if len(results):
        ok = results["error"].isna()
        results["covered"] = np.where(ok, (results["ci_low"] <= results["truth"])
                                      & (results["truth"] <= results["ci_high"]), np.nan)
        results.loc[results["truth"].isna(), "covered"] = np.nan
        results["ci_width"] = results["ci_high"] - results["ci_low"]
    return BenchmarkResult(results=results, summary=summarize(results), skipped=skipped)


def _skipped(specs: Sequence[registry.EstimatorSpec], sources: Sequence[_Source],
             seed: int) -> pd.DataFrame:
    """Pairs not fitted because the estimator cannot use the dataset's roles."""
    rows = []
    for src in sources:
        try:
            ds = src.make(_seed(seed, src.name, 0))
        except Exception:
            continue
        for spec in specs:
            if not compatible(spec, ds):
                weighted = ds.roles.get("weights") is not None
                reason = (f"{src.name} has sampling weights ({ds.roles['weights']!r}) and "
                          f"{spec.name} takes no weights="
                          if weighted and "weights" not in spec.accepted_roles else
                          f"{spec.name} needs roles {list(spec.roles)}; "
                          f"{src.name} is a {ds.design} design")
                rows.append({"dataset": src.name, "method": spec.name, "reason": reason})
    return pd.DataFrame(rows, columns=["dataset", "method", "reason"])
