"""ACIC 2016 (Dorie et al. 2019): the 10 settings that the causallib wheel ships.

The 2016 Atlantic Causal Inference Conference challenge simulated treatment
and outcomes on 58 real covariates of 4,802 units (77 data-generating
settings x 100 replications).  causallib ships one replication of 10 settings
as CSVs (``causallib/datasets/data/acic_challenge_2016``: ``x.csv`` and
``zymu_1.csv`` ... ``zymu_10.csv``, licence CDLA-Sharing-1.0), each with the
treatment ``z``, the noisy potential outcomes ``y0``, ``y1`` and their
noiseless means ``mu0``, ``mu1``; the true CATE is ``mu1 - mu0``, the truth of
the challenge's estimand (SATT) is its mean over the treated.

causalkit never imports causallib (its pins, ``pandas<3``, do not fit
causalkit's environment): the CSVs are read as package data, from the first of

1. ``source=`` or the ``CAUSALKIT_ACIC2016`` environment variable: the path of a
   causallib wheel (a zip, from ``pip download causallib --no-deps``) or of a
   folder holding the CSVs;
2. an installed causallib's files, found through ``importlib.metadata`` (its
   ``__init__`` is not run);
3. a ``causallib-*.whl`` in ``../shared/data`` beside the checkout;
4. a ``causallib-*.whl`` in the user cache (``$XDG_CACHE_HOME/causalkit`` or
   ``~/.cache/causalkit``), downloaded there from PyPI on first use with
   ``python -m pip download causallib --no-deps`` (the wheel only: nothing is
   installed, and causallib's dependencies are not fetched).  Pass
   ``download=False`` (or set ``CAUSALKIT_ACIC2016_DOWNLOAD=0``) to forbid it.

The data are never copied into causalkit.  Categorical covariates (``x_2``,
``x_21``, ``x_24``) are one-hot encoded with the first level dropped, as
causallib's own loader does.

Reference: V. Dorie, J. Hill, U. Shalit, M. Scott and D. Cervone (2019),
"Automated versus do-it-yourself methods for causal inference: lessons learned
from a data analysis competition", Statistical Science 34(1), 43-68.

Example
-------
>>> ds = acic2016(1)                          # doctest: +SKIP
>>> ds.n_obs, round(ds.truth["ATT"], 3)       # doctest: +SKIP
(4802, ...)
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ._base import CausalDataset
from .real import DatasetUnavailableError

#: The folder of the CSVs inside the causallib wheel / installation.
PACKAGE_FOLDER = "causallib/datasets/data/acic_challenge_2016"

#: The settings shipped (causallib's ``instance`` numbers).
SETTINGS = tuple(range(1, 11))

ENV_VAR = "CAUSALKIT_ACIC2016"

ACIC_CITATION = ("V. Dorie, J. Hill, U. Shalit, M. Scott and D. Cervone (2019), 'Automated "
                 "versus do-it-yourself methods for causal inference: lessons learned from a "
                 "data analysis competition', Statistical Science 34(1), 43-68")

HOW_TO_GET = (f"`pip download causallib --no-deps -d DIR` and set {ENV_VAR}=DIR/causallib-"
              "<version>-py3-none-any.whl (or pass source=); causallib need not be installed "
              "or importable")


def _wheel_in(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("causallib-*.whl")) if folder.is_dir() else []
    return wheels[-1] if wheels else None


def cache_folder() -> Path:
    """The user cache where a downloaded causallib wheel is kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "causalkit"


def download_wheel(folder: Path | None = None) -> Path:
    """Fetch the causallib wheel (no dependencies, nothing installed) from PyPI into ``folder``."""
    folder = folder or cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
           "-d", str(folder), "causallib"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DatasetUnavailableError(f"downloading the causallib wheel failed ({err}); "
                                      f"{HOW_TO_GET}") from None
    wheel = _wheel_in(folder)
    if proc.returncode != 0 or wheel is None:
        reason = (proc.stderr.strip().splitlines() or ["no wheel was saved"])[-1]
        raise DatasetUnavailableError(f"downloading the causallib wheel failed ({reason}); "
                                      f"{HOW_TO_GET}")
    return wheel


def locate(source: str | os.PathLike[str] | None = None, download: bool | None = None) -> Path:
    """Where the ACIC 2016 CSVs are: a wheel or a folder (see the module docstring)."""
    given = source if source is not None else os.environ.get(ENV_VAR)
    if given:
        path = Path(given).expanduser()
        if path.is_dir() and not (path / "x.csv").exists():
            wheel = _wheel_in(path)
            if wheel is None and (path / PACKAGE_FOLDER / "x.csv").exists():
                return path / PACKAGE_FOLDER
            if wheel is None:
                raise DatasetUnavailableError(
                    f"{str(path)!r} holds neither x.csv nor a causallib wheel; {HOW_TO_GET}")
            return wheel
        if not path.exists():
            raise DatasetUnavailableError(f"the ACIC 2016 source {str(path)!r} does not exist; "
                                          f"{HOW_TO_GET}")
        return path
    try:
        installed = Path(str(metadata.distribution("causallib").locate_file(PACKAGE_FOLDER)))
        if (installed / "x.csv").exists():
            return installed
    except metadata.PackageNotFoundError:
        pass
    for folder in [Path(__file__).resolve().parents[i] / "shared" / "data" for i in range(2, 6)]:
        wheel = _wheel_in(folder)
        if wheel is not None:
            return wheel
    cached = _wheel_in(cache_folder())
    if cached is not None:
        return cached
    if download is None:
        download = os.environ.get("CAUSALKIT_ACIC2016_DOWNLOAD", "1") not in ("0", "false", "no")
    if download:
        return download_wheel()
    raise DatasetUnavailableError(f"the ACIC 2016 data were not found; {HOW_TO_GET}")


def read_csv(name: str, source: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One CSV of the ACIC 2016 folder, read from the wheel (zip) or the folder."""
    where = locate(source)
    try:
        if zipfile.is_zipfile(where):
            with zipfile.ZipFile(where) as wheel:
                return pd.read_csv(io.BytesIO(wheel.read(f"{PACKAGE_FOLDER}/{name}")))
        return pd.read_csv(where / name)
    except (KeyError, FileNotFoundError):
        raise DatasetUnavailableError(f"{name} is not in {str(where)!r}; {HOW_TO_GET}") from None


def _covariates(source: Any) -> pd.DataFrame:
    x = read_csv("x.csv", source)
    categorical = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    return pd.get_dummies(x, columns=categorical, drop_first=True, dtype=float).astype(float)


def acic2016(setting: int = 1, source: str | os.PathLike[str] | None = None,
             seed: Any = None) -> CausalDataset:
    """ACIC 2016 setting ``setting`` (1-10) as shipped by causallib, with its true CATE.

    ``seed`` is accepted and ignored (the data are fixed), so the benchmark can
    treat each setting as one replication.
    """
    if isinstance(setting, bool) or setting not in SETTINGS:
        raise OptionError(f"ACIC 2016 setting must be one of 1-10, got {setting!r}")
    x = _covariates(source)
    zymu = read_csv(f"zymu_{setting}.csv", source)
    t = zymu["z"].to_numpy(np.int64)
    data = x.copy()
    data.insert(0, "z", t)
    data["y"] = np.where(t == 1, zymu["y1"], zymu["y0"]).astype(float)
    cate = (zymu["mu1"] - zymu["mu0"]).to_numpy(float)
    covariates = list(x.columns)
    return CausalDataset(
        name=f"acic2016_{setting}", data=data,
        roles={"treatment": "z", "outcome": "y", "covariates": covariates},
        truth={"ATE": float(cate.mean()), "ATT": float(cate[t == 1].mean()),
               "CATE": float(cate.mean())},
        cate=cate, adjustment=tuple(covariates),
        description=f"ACIC 2016 data challenge, setting {setting} of the 10 causallib ships "
                    "(one replication each); truth from the noiseless potential outcomes",
        citation=ACIC_CITATION, licence="CDLA-Sharing-1.0 (data as shipped by causallib)",
        source=str(locate(source)), params={"setting": setting})
