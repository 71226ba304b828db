"""The same benchmark call on a local Dask cluster through joblib's backend switch."""

import pytest

from causalkit.benchmark import run

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.mark.dask
def test_run_on_local_dask_cluster_matches_local_backend():
    import joblib

    args = (["difference_in_means", "regression_adjustment"], {"randomized": {"n": 100}})
    local = run(*args, reps=4, n_jobs=1, seed=9).results
    with distributed.Client(n_workers=2, threads_per_worker=1, processes=False,
                            dashboard_address=None) as client:
        with joblib.parallel_backend("dask"):
            remote = run(*args, reps=4, seed=9).results
        assert client.scheduler_info()["workers"]
    cols = ["dataset", "method", "rep", "estimate", "std_error", "ci_low", "ci_high"]
    assert local[cols].equals(remote[cols])
