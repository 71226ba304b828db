"""Pytest configuration: doctests of the package run with the tests."""

import matplotlib

matplotlib.use("Agg")

collect_ignore_glob = ["src/causalkit/__main__.py", "benchmarks/*"]
