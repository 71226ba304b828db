"""The benchmark runner: estimators x datasets x seeds, scored against the truth.

Example
-------
>>> from causalkit import benchmark
>>> res = benchmark.run(["difference_in_means"], ["randomized"], reps=2)
>>> list(res.summary["method"])
['difference_in_means']
"""

from .defaults import CHEAP_METHODS, DEFAULT_DATASETS, DEFAULT_REPS, default_methods
from .grid import compatible, fit_roles
from .report import plot, save, to_markdown
from .runner import BenchmarkResult, run
from .summary import summarize

__all__ = ["run", "BenchmarkResult", "summarize", "to_markdown", "plot", "save", "compatible",
           "fit_roles", "default_methods", "CHEAP_METHODS", "DEFAULT_DATASETS", "DEFAULT_REPS"]
