"""Fixtures shared by the tests."""

from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

#: Public datasets that no PyPI package ships live beside the clone, never in it.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_csv() -> Callable[[str], pd.DataFrame]:
    """Loader of a CSV from ../shared/data that skips the test when the folder is absent."""

    def load(name: str) -> pd.DataFrame:
        path = SHARED_DATA / name
        if not path.exists():
            pytest.skip(f"{name} not found at {path} (needs ../shared/data beside the clone)")
        return pd.read_csv(path)

    return load
