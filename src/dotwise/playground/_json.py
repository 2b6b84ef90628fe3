"""JSON helpers every playground route uses: safe numbers, direct responses, warnings, PNGs.

Answers are plain JSON: finite floats as numbers, infinities as the strings
``"inf"``/``"-inf"``, NaN as ``null``. Warnings the library raises
(``IllConditionedWarning``...) come back in a ``warnings`` list. The ``python``
field of each answer is built with :func:`py_literal` (the equivalent dotwise call).
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
import json
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from fastapi import Response

try:
    import orjson as _orjson
except ImportError:  # optional: the standard library does the same, a little slower
    _orjson = None

__all__ = ["as_json", "captured_warnings", "jarr", "jnum", "json_response", "png_data_url",
           "py_literal"]


def jnum(x: Any) -> float | str | None:
    """A JSON-safe number: finite → float, ±inf → "inf"/"-inf", NaN → None."""
    x = float(x)
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return None
    return "inf" if x > 0 else "-inf"


def jarr(a: Any) -> Any:
    """A JSON-safe nested list of an array (non-finite entries as in :func:`jnum`)."""
    a = np.asarray(a, dtype=float)
    if np.all(np.isfinite(a)):
        return a.tolist()
    if a.ndim == 0:
        return jnum(a)
    return [jarr(row) for row in a]


def json_response(payload: Any, status_code: int = 200) -> Response:
    """``payload`` (already JSON-safe) as a JSON response, with orjson when installed."""
    if _orjson is not None:
        body = _orjson.dumps(payload)
    else:
        body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status_code, media_type="application/json")


def as_json(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return the route's dict as a JSON ``Response`` directly.

    The payloads are already JSON-safe (see :func:`jnum`), so FastAPI's generic
    encoder is skipped: it costs more than the maths for the small demos.
    """
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Response:
            return json_response(await func(*args, **kwargs))

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return json_response(func(*args, **kwargs))

    return wrapper


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect warning messages raised inside the block (for the page to show).

    ``warnings.catch_warnings`` is process-global state: use it only in ``async def``
    routes (they run one at a time on the event loop), not in threaded ``def`` ones.
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in messages:
            messages.append(text)


def _fmt(x: float) -> str:
    return f"{float(x) + 0.0:.12g}"  # + 0.0: no "-0"


def py_literal(a: Any) -> str:
    """Compact Python literal for the code boxes: [[1, 2], [3, 4]]."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return _fmt(a)
    return "[" + ", ".join(py_literal(r) for r in a) + "]"


def png_data_url(img: np.ndarray) -> str:
    """A float image in [0, 1] ((H, W) or (H, W, 1 | 3)) as a PNG ``data:`` URL."""
    from PIL import Image

    arr = np.clip(np.asarray(img, dtype=np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)  # fast; size is secondary
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
