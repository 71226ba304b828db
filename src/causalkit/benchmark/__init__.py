"""The benchmark runner: estimators x datasets x seeds, scored against the truth."""
