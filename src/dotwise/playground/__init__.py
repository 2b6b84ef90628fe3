"""The dotwise playground: a local web page of interactive demos computed by dotwise.

Needs the ``web`` extra (``pip install -e ".[web]"``: FastAPI, Uvicorn, Plotly).
Start it with ``dotwise playground``, or build the app yourself::

    from dotwise.playground import create_app
    app = create_app()          # serve with: uvicorn.run(app, host="127.0.0.1", port=8765)

The page computes no maths: every number comes from the JSON API under ``/api``
(documented at ``/docs``), which calls the public dotwise API.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*, allowed_hosts: list[str] | None = None) -> Any:
    """Build the FastAPI app (imported lazily so ``import dotwise.playground`` stays light).

    ``allowed_hosts`` limits the accepted Host headers (see :func:`.app.create_app`).
    """
    from .app import create_app as _create_app

    return _create_app(allowed_hosts=allowed_hosts)
