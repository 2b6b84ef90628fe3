"""The playground's demos, one routes module each, found automatically.

Contract — a new demo is one routes module plus one script (its CSS inline or in style.css):

* ``routes/<demo>.py`` defines ``router = fastapi.APIRouter()`` (its paths under
  ``/api/...``), ``TITLE`` (the tab's label) and ``ORDER`` (a number; tabs sort by it);
  it calls the public dotwise API only and answers with :mod:`.._json` helpers;
* ``static/demos/<demo>.js`` calls ``dotwise.registerDemo({id, title, order, mount(root)})``;
  ``mount`` fills the ``<section>`` it is given (the first time its tab opens).

Modules whose name starts with ``_`` are helpers, not demos. :func:`discover` imports every
other module here (an import error is raised, never hidden); ``GET /api/demos`` lists the
demos that also have their script, and the page builds its tabs from that list.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

STATIC = Path(__file__).resolve().parents[1] / "static"

__all__ = ["demo_list", "discover"]


@functools.lru_cache(maxsize=1)
def discover() -> tuple[ModuleType, ...]:
    """Every demo's routes module, sorted by ``ORDER`` (then name)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for attr in ("router", "TITLE", "ORDER"):
            if not hasattr(module, attr):
                raise AttributeError(f"playground demo module {module.__name__} must define "
                                     f"{attr} (see dotwise.playground.routes)")
        found.append(module)
    return tuple(sorted(found, key=lambda m: (m.ORDER, m.__name__)))


def demo_id(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def demo_list() -> list[dict[str, object]]:
    """``id``, ``title``, ``order``, ``script`` of each demo that has ``static/demos/<id>.js``."""
    out = []
    for module in discover():
        ident = demo_id(module)
        if (STATIC / "demos" / f"{ident}.js").is_file():
            out.append({"id": ident, "title": module.TITLE, "order": module.ORDER,
                        "script": f"/static/demos/{ident}.js"})
    return out
