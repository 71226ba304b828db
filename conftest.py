"""Pytest configuration: doctests of the package run with the tests."""

import matplotlib

matplotlib.use("Agg")

# The alias modules replace themselves in sys.modules by their family's module, whose
# doctests run from its own file; tests/test_layout.py checks the aliases.
collect_ignore_glob = ["src/causalkit/__main__.py", "benchmarks/*", "src/causalkit/balance.py",
                       "src/causalkit/uplift.py", "src/causalkit/cate_summary.py"]
