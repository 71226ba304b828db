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
from .metrics import CATE_COLUMNS, cate_scores
from .progress import ProgressLine
from .summary import summarize

DatasetSpec = Any  # name | (name, params) | callable(seed) -> CausalDataset | CausalDataset

#: Which DAG adjustment set backdoor estimators receive.
ADJUSTMENTS = ("optimal", "minimal")

RESULT_COLUMNS = ["dataset", "method", "rep", "estimand", "truth", "estimate", "std_error",
                  "ci_low", "ci_high", "covered", "ci_width", *CATE_COLUMNS, "time_s",
                  "peak_mem_mb", "n_obs", "covariates", "error_type", "error"]


@dataclass
class BenchmarkResult:
    """The tidy per-fit table (``results``) and its summary (``summary``)."""

    results: pd.DataFrame
    summary: pd.DataFrame
    skipped: pd.DataFrame
    suite: Any = ()

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
    make: Callable[[np.random.SeedSequence, int], CausalDataset]
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
            out.append(_Source(item.name, (lambda s, r, d=item: d), True))
        elif callable(item):
            name = getattr(item, "__name__", "dataset")
            out.append(_Source(name, (lambda s, r, f=item: f(seed=s)), False))
        else:
            name, params = item
            make = catalog.generator(name)
            if name in catalog.REAL:
                ds = make(**dict(params or {}))
                out.append(_Source(name, (lambda s, r, d=ds: d), True))
            else:
                out.append(_Source(name, (lambda s, r, f=make, p=dict(params or {}):
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


def _measured_fit(spec: registry.EstimatorSpec, ds: CausalDataset, roles: Mapping[str, Any],
                  alpha: float, options: Mapping[str, Any], memory: bool) -> tuple[Any, float]:
    """Fit once (single-threaded BLAS/OpenMP), returning the Effect and peak traced MiB."""
    import tracemalloc

    from threadpoolctl import threadpool_limits

    trace = memory and not tracemalloc.is_tracing()
    if trace:
        tracemalloc.start()
    try:
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            eff = estimate(ds.data, method=spec.name, alpha=alpha, **roles, **dict(options))
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else np.nan
    finally:
        if trace:
            tracemalloc.stop()
    return eff, peak


def _fit_one(spec: registry.EstimatorSpec, ds: CausalDataset, rep: int, alpha: float,
             adjustment: str, options: Mapping[str, Any], random_state: int,
             memory: bool = True) -> dict[str, Any]:
    options = dict(options)
    if "random_state" not in options and _takes_random_state(spec):
        options["random_state"] = random_state  # reproducible cross-fitting, bootstraps, ...
    row: dict[str, Any] = {"dataset": ds.name, "method": spec.name, "rep": rep,
                           "error_type": None, "error": None}
    start = time.perf_counter()
    try:
        roles = fit_roles(spec, ds, adjustment)
        row["covariates"] = ",".join(roles.get("covariates") or [])
        eff, row["peak_mem_mb"] = _measured_fit(spec, ds, roles, alpha, options, memory)
        row["time_s"] = time.perf_counter() - start
        truth = ds.true_effect(eff.estimand)
        row.update(estimand=eff.estimand, estimate=eff.estimate, std_error=eff.std_error,
                   ci_low=eff.ci_low, ci_high=eff.ci_high, n_obs=eff.n_obs,
                   truth=np.nan if truth is None else truth)
        row.update(cate_scores(eff, ds))
        if not np.isfinite(eff.estimate):
            row.update(error_type="NonFiniteEstimate", error="the estimate is not finite")
    except Exception as err:  # a failing estimator (or a missing peer) never stops the run
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
    causalkit.errors.OptionError: method 'ipw' has no option 'trimm'; did you mean 'trim'? Its options: estimand, normalized, stabilized, propensity_model, trim, clip, propensity_formula, variance
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


def _run_task(source: _Source, rep: int, seed: int, spec: registry.EstimatorSpec,
              alpha: float, adjustment: str, options: Mapping[str, Any], memory: bool,
              key: tuple[str, int, str, str]) -> dict[str, Any]:
    """One fit: draw (or load) the dataset of replication ``rep`` and fit ``spec`` on it."""
    seq = _seed(seed, source.name, rep)
    random_state = int(seq.spawn(1)[0].generate_state(1)[0])
    try:
        ds = source.make(seq, rep)
    except Exception as err:
        row = {"dataset": source.name, "method": spec.name, "rep": rep,
               "error_type": type(err).__name__, "error": f"dataset: {err}"[:300]}
    else:
        row = _fit_one(spec, ds, rep, alpha, adjustment, options, random_state, memory)
        row["dataset"] = source.name
    row["fingerprint"] = key[3]
    return row


#: Text columns of the per-fit table (the others are numbers).
TEXT_COLUMNS = ("dataset", "method", "estimand", "covariates", "error_type", "error")


def _score(results: pd.DataFrame) -> pd.DataFrame:
    """Fixed columns and dtypes (fresh or stored rows alike), coverage and CI width."""
    results = results.reindex(columns=RESULT_COLUMNS)
    for col in RESULT_COLUMNS:
        if col in TEXT_COLUMNS:
            results[col] = pd.Series([None if pd.isna(v) else str(v) for v in results[col]],
                                     index=results.index, dtype=object)
        elif col == "rep":
            results[col] = pd.to_numeric(results[col]).astype(np.int64)
        else:
            results[col] = pd.to_numeric(results[col], errors="coerce").astype(float)
    if len(results):
        ok = results["error"].isna()
        covered = (results["ci_low"] <= results["truth"]) & (results["truth"] <= results["ci_high"])
        results["covered"] = np.where(ok & results["ci_low"].notna() & results["truth"].notna(),
                                      covered.astype(float), np.nan)
        results["ci_width"] = results["ci_high"] - results["ci_low"]
    return results


def _parallel_fits(calls: list[Any], n_jobs: int | None) -> Iterable[dict[str, Any]]:
    """Fit rows as they finish (any order); ordered when the backend cannot do better."""
    try:
        return joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls)
    except ValueError:  # a backend without unordered generators
        return joblib.Parallel(n_jobs=n_jobs, return_as="generator")(calls)


def run(methods: Sequence[str] | None = None,
        datasets: DatasetSpec | Iterable[DatasetSpec] | Mapping[str, Mapping] | None = None,
        reps: int | None = None, n_jobs: int | None = None, seed: int = 0, alpha: float = 0.05,
        adjustment: str = "optimal", options: Mapping[str, Mapping[str, Any]] | None = None,
        progress: bool | None = None, suite: str | Sequence[str] | None = None,
        suite_params: Mapping[str, Any] | None = None, out: str | None = None,
        memory: bool = True, progress_interval: float = 5.0) -> BenchmarkResult:
    """Fit every compatible (method, dataset) pair on ``reps`` fresh draws and score it.

    Parameters
    ----------
    methods
        Registered estimator names, peers included (``econml.CausalForestDML``);
        default: the cheap estimators registered now
        (:func:`causalkit.benchmark.defaults.default_methods`).
    datasets
        Dataset names from :data:`causalkit.datasets.SYNTHETIC` / ``REAL``, a
        mapping ``name -> generator parameters``, ``(name, params)`` pairs,
        callables ``f(seed=...) -> CausalDataset`` or fixed ``CausalDataset``
        objects (fitted once).  Default: :data:`~causalkit.benchmark.defaults.DEFAULT_DATASETS`.
        Not together with ``suite``.
    reps
        Replications (fresh draws) per synthetic dataset; default 100, or the
        suite's default.
    n_jobs
        joblib ``n_jobs``; ``None`` uses the active joblib backend's default
        (1 outside a ``parallel_backend`` block; Dask and Ray through it).
        Each fit runs single-threaded (``threadpoolctl``): the parallelism is
        across fits.
    seed
        Base seed; results are reproducible and independent of ``n_jobs`` and
        of the backend.
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
        A progress line on stderr every ``progress_interval`` seconds (also
        when stderr is not a terminal); ``None``: only on runs longer than
        that; ``False``: never.
    suite, suite_params
        A benchmark suite (:data:`causalkit.benchmark.suites.SUITES`:
        ``ihdp_a``, ``ihdp_b``, ``acic2016``, ``lalonde``, ``cate``,
        ``synthetic``), or several run as one, and parameters of their
        datasets.  A suite's fixed datasets (ACIC 2016, LaLonde) are fitted
        once each; ``reps`` defaults to the largest default of the suites.
    out
        A directory where every fit is appended to ``fits.csv`` as it
        finishes; rerunning the same call skips the fits stored there.
    memory
        Record each fit's peak traced memory (``tracemalloc``, MiB).

    Returns
    -------
    BenchmarkResult
        ``results`` (one row per fit, in a fixed order), ``summary`` (one row
        per dataset x method x estimand: bias, RMSE, coverage, CI width,
        sqrt(PEHE), policy risk, time, memory, fits and failures) and
        ``skipped`` (pairs that were not compatible).
    """
    from . import suites
    from .defaults import default_methods
    from .store import ResultStore, fingerprint

    chosen_list = ([suites.get(s) for s in ([suite] if isinstance(suite, str) else suite)]
                   if suite is not None else [])
    chosen = chosen_list[0] if len(chosen_list) == 1 else (chosen_list or None)
    if chosen_list and datasets is not None:
        raise OptionError("give either suite= or datasets=, not both")
    if reps is None:
        reps = max(s.default_reps for s in chosen_list) if chosen_list else 100
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
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
    if chosen_list:  # the suites' estimand (the first that asks for another one)
        options = {s.name: {**next((o for o in (c.options_for(s) for c in chosen_list) if o), {}),
                            **options.get(s.name, {})} for s in specs}
    store = ResultStore(out, RESULT_COLUMNS + ["fingerprint"]) if out is not None else None
    sources = ([src for c in chosen_list for src in _suite_sources(c, dict(suite_params or {}))]
               if chosen_list else _sources(datasets))
    skipped, fit_pairs = _pairs(specs, sources, seed)
    tasks = []
    for src, spec in fit_pairs:
        tag = fingerprint(seed=int(seed), alpha=alpha, adjustment=adjustment,
                          options=options.get(spec.name, {}),
                          suite=[c.name for c in chosen_list],
                          suite_params=dict(suite_params or {}))
        for rep in range(1 if src.fixed else reps):
            tasks.append((src, rep, spec, (src.name, rep, spec.name, tag)))
    stored = store.done() if store is not None else set()
    todo = [t for t in tasks if t[3] not in stored]
    line = ProgressLine(total=len(tasks), interval=progress_interval,
                        done=len(tasks) - len(todo), always=bool(progress))
    calls = [joblib.delayed(_run_task)(src, rep, seed, spec, alpha, adjustment,
                                       options.get(spec.name, {}), memory, key)
             for src, rep, spec, key in todo]
    rows = []
    for row in (_parallel_fits(calls, n_jobs) if calls else []):
        rows.append(row)
        if store is not None:
            store.add(row)
        if progress is not False:
            line.update(failed=row.get("error") is not None)
    if progress is not False:
        line.close()
    fresh = pd.DataFrame(rows)
    if store is not None:
        keys = {t[3] for t in tasks}
        fresh = pd.concat([store.rows(keys & stored), fresh], ignore_index=True)
    results = _order(fresh, tasks)
    return BenchmarkResult(results=results, summary=summarize(results), skipped=skipped,
                           suite=chosen_list)


def _order(rows: pd.DataFrame, tasks: Sequence[tuple]) -> pd.DataFrame:
    """Rows in task order (dataset, method, replication), whatever order they finished in."""
    if not len(rows):
        return _score(pd.DataFrame(columns=RESULT_COLUMNS))
    position = {(k[0], k[1], k[2]): i for i, (*_, k) in enumerate(tasks)}
    rows = rows.assign(_pos=[position.get((d, int(r), m), len(position)) for d, r, m in
                             zip(rows["dataset"], rows["rep"], rows["method"])])
    rows = rows.sort_values("_pos", kind="stable").drop(columns="_pos")
    return _score(rows.reset_index(drop=True))


def _suite_sources(suite: Any, params: dict[str, Any]) -> list[_Source]:
    return [_Source(name, make, fixed) for name, make, fixed in suite.datasets(**params)]


def _pairs(specs: Sequence[registry.EstimatorSpec], sources: Sequence[_Source], seed: int
           ) -> tuple[pd.DataFrame, list[tuple[_Source, registry.EstimatorSpec]]]:
    """Compatible (source, method) pairs, and the others with the reason they are skipped.

    Compatibility is decided on replication 0 of each source; a source whose
    first draw fails is fitted anyway (every fit then records the failure).
    """
    rows, pairs = [], []
    for src in sources:
        try:
            ds = src.make(_seed(seed, src.name, 0), 0)
        except Exception:
            pairs += [(src, spec) for spec in specs]
            continue
        for spec in specs:
            if compatible(spec, ds):
                pairs.append((src, spec))
            else:
                weighted = ds.roles.get("weights") is not None
                reason = (f"{src.name} has sampling weights ({ds.roles['weights']!r}) and "
                          f"{spec.name} takes no weights="
                          if weighted and "weights" not in spec.accepted_roles else
                          f"{spec.name} needs roles {list(spec.roles)}; "
                          f"{src.name} is a {ds.design} design")
                rows.append({"dataset": src.name, "method": spec.name, "reason": reason})
    pairs.sort(key=lambda p: (sources.index(p[0]), specs.index(p[1])))
    return pd.DataFrame(rows, columns=["dataset", "method", "reason"]), pairs
