"""Shared fixtures: the path to ../shared/data and the skip rule for it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DOTWISE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data_path(*parts: str) -> Path:
    """Path inside ../shared/data, skipping the test (with the reason) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"needs the licensed data set at {path} (not redistributed with dotwise); "
            f"set DOTWISE_SHARED_DATA to its folder to run this test"
        )
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave files worth looking at (screenshots, plots)."""
    path = REPO / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def client():
    """A ``distributed.Client`` on a LocalCluster on 127.0.0.1 (one worker, two threads).

    Module-scoped: each Dask test module starts one cluster. ``protocol="tcp"``: an
    in-process cluster otherwise uses ``inproc://``, which rejects a host.
    """
    distributed = pytest.importorskip(
        "distributed", reason="the Dask tests need the scale extra: pip install -e '.[scale]'")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c
