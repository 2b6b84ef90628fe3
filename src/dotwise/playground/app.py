"""The FastAPI application: the page, its static files, Plotly, and the JSON API (routes/).

``create_app()`` builds a fresh app (tests make one each); ``dotwise playground``
serves it with Uvicorn. Nothing here reads a path from a request: the static
folder and ``plotly.min.js`` are fixed files of installed packages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

import dotwise

from . import meta
from .docs import render_docs
from .routes import discover
from .schemas import MAX_BODY_BYTES

STATIC = Path(__file__).resolve().parent / "static"


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled with the installed ``plotly`` package (no CDN)."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RuntimeError(f"plotly is installed but has no bundled plotly.min.js at {path}")
    return path


class BodySizeLimit:
    """ASGI middleware: answer 422 to any request body larger than ``max_bytes``.

    Checks the declared Content-Length first, then counts the bytes actually
    received (for chunked uploads), so a large body is refused without being buffered.
    """

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: str) -> bytes:
        detail = (f"request body too large: {size}; the playground accepts at most "
                  f"{self.max_bytes} bytes (max_body_bytes)")
        return json.dumps({"detail": detail}).encode()

    async def _reject(self, send: Any, size: str) -> None:
        body = self._message(size)
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > self.max_bytes:
                await self._reject(send, f"{size} bytes")
                return
        received = 0
        too_big = False

        async def counting_receive() -> Any:
            nonlocal received, too_big
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_big = True
                    raise _BodyTooLarge
            return message

        started = False
        replaced = False

        async def guarded_send(message: Any) -> None:
            # The framework may turn the aborted read into its own error response:
            # answer with the limit instead.
            nonlocal started, replaced
            if too_big and not started:
                started = replaced = True
                await self._reject(send, f"more than {self.max_bytes} bytes")
                return
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if too_big and not started:
                await self._reject(send, f"more than {self.max_bytes} bytes")
            else:
                raise


class _BodyTooLarge(Exception):
    pass


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def create_app(*, allowed_hosts: list[str] | None = None) -> FastAPI:
    """Build the playground application (page at ``/``, API under ``/api``, docs at ``/docs``).

    Parameters
    ----------
    allowed_hosts : list of str, optional
        Host headers to accept (others get 400), e.g. ``["127.0.0.1", "localhost"]``:
        ``dotwise playground`` sets this when bound to loopback, which defeats DNS
        rebinding (a web page of another origin reaching the local server by name).
        ``None`` accepts any host.
    """
    app = FastAPI(
        docs_url=None, redoc_url=None,  # the default pages load from a CDN; ours is offline
        title="dotwise playground",
        version=dotwise.__version__,
        description=(
            "Interactive demos of the dot product at work. Every number the page shows "
            "comes from these endpoints, which call the public dotwise API. Limits: see "
            "`GET /api/limits`; a request over a limit is answered with 422 and a message "
            "naming the limit. Errors from the library come back as 422 with a readable "
            "`detail`."
        ),
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={
            "detail": _validation_message(exc),
            "errors": [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
                        "type": str(e.get("type", ""))} for e in exc.errors()],
        })

    @app.exception_handler(TypeError)
    @app.exception_handler(ValueError)
    async def _value_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=422,
                            content={"detail": str(exc), "error": type(exc).__name__})

    @app.exception_handler(np.linalg.LinAlgError)
    async def _linalg_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=422,
                            content={"detail": str(exc), "error": type(exc).__name__})

    app.include_router(meta.router)
    for module in discover():  # one routes module per demo (see dotwise.playground.routes)
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return FileResponse(plotly_js_path(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    return app
