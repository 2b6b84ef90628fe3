"""The core install never imports Dask, and works when Dask is absent.

Runs in fresh interpreters: one with Dask installed (it must stay out of
``sys.modules`` after the in-memory calls), one where importing ``dask``,
``distributed`` or ``zarr`` fails as it would without the ``scale`` extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

_CALLS = """
import numpy as np
import dotwise as dw
from dotwise.scale import is_dask_array
A = np.random.default_rng(0).standard_normal((50, 3)); b = A @ [1.0, 2.0, 3.0]
assert np.allclose(dw.lstsq(A, b).x, [1, 2, 3]) and dw.ridge(A, b, 0.0).shape == (3,)
dw.LinearRegression().fit(A, b).predict(A); dw.PCA(2).fit(A).transform(A)
assert not is_dask_array(A)
"""

_BLOCK = """
import sys
for _name in ('dask', 'dask.array', 'distributed', 'zarr'):
    sys.modules[_name] = None   # import raises ImportError, find_spec returns None: as if absent
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": ""}, timeout=120)


def test_in_memory_calls_do_not_import_dask():
    proc = _run(_CALLS + "import sys; print(sorted(m for m in sys.modules "
                         "if m.split('.')[0] in ('dask', 'distributed', 'zarr')))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_everything_in_memory_works_without_the_extra():
    proc = _run(_BLOCK + _CALLS + "print('ok')")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_cli_says_install_the_extra(tmp_path):
    (tmp_path / "A.zarr").mkdir()
    code = _BLOCK + (
        "import sys\nfrom dotwise.cli import main\n"
        f"sys.argv = ['dotwise', 'lstsq', {str(tmp_path / 'A.zarr')!r}, '--b', '-1']\n"
        "main()\n")
    proc = _run(code)
    assert proc.returncode == 2, proc.stderr
    assert "install dotwise[scale]" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
