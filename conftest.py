"""Root pytest configuration: doctests in src/ skip modules whose optional extra is absent.

``python -m pytest`` collects the doctests of every module under src/. Modules
that need an optional extra (the playground needs ``web``) are left out of
collection when that extra is not installed, so the core suite passes on a
fresh ``pip install -e ".[test]"``; their own tests skip with a reason.
"""

from __future__ import annotations

import importlib.util

_OPTIONAL = {
    "src/dotwise/playground/*": ("fastapi", "uvicorn", "pydantic"),
    "src/dotwise/scale/*": ("dask", "distributed", "zarr"),
}

collect_ignore_glob = [
    pattern for pattern, needs in _OPTIONAL.items()
    if any(importlib.util.find_spec(mod) is None for mod in needs)
]
