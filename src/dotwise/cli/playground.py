"""``dotwise playground``: serve the interactive demos on a local web page."""

from __future__ import annotations

import ipaddress
import threading

import typer

from ._common import console, err_console, fail

WEB_EXTRA = 'pip install -e ".[web]"'


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _missing_web_dependency() -> str | None:
    for module in ("fastapi", "uvicorn", "plotly", "pydantic"):
        try:
            __import__(module)
        except ImportError:
            return module
    return None


def _port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound right now (in use, bad address), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def register(app: typer.Typer) -> None:
    @app.command()
    def playground(
        port: int = typer.Option(8765, "--port", "-p", min=1, max=65535,
                                 help="Port to listen on."),
        host: str = typer.Option("127.0.0.1", "--host",
                                 help="Address to bind. Keep the default (this machine only) "
                                      "unless you mean to share the page on your network."),
        no_browser: bool = typer.Option(False, "--no-browser",
                                        help="Do not open a browser tab."),
    ) -> None:
        """Open the playground: interactive demos of the dot product, computed by dotwise.

        Drag vectors and watch projections, transform the plane with a matrix, step through
        Gram–Schmidt, fit curves by least squares, play with attention weights, search
        similar digits, compress a photo by SVD and chain photo filters. Works offline.
        Needs the web extra: [bold]pip install -e ".\\[web]"[/bold].

        Example: [bold]dotwise playground[/bold] (opens http://127.0.0.1:8765), or
        [bold]dotwise playground --port 9000 --no-browser[/bold]. Stop it with Ctrl+C.
        The API is documented at /docs on the same address.
        """
        missing = _missing_web_dependency()
        if missing is not None:
            fail(f"the playground needs {missing}, part of the 'web' extra; install it "
                        f"with: {WEB_EXTRA}")
        import uvicorn

        from dotwise.playground import create_app

        shown_host = host if ":" not in host else f"[{host}]"
        url = f"http://{shown_host}:{port}"
        if not is_loopback(host):
            err_console.print(
                f"[bold yellow]warning:[/bold yellow] binding to {host}, not 127.0.0.1: anyone "
                "who can reach this machine on the network can use the playground. Use "
                "--host 127.0.0.1 to keep it private.", highlight=False)
            if host in ("0.0.0.0", "::"):
                url = f"http://127.0.0.1:{port}"
        problem = _port_problem(host, port)
        if problem:
            fail(f"could not listen on {host}:{port}: {problem}; pick another --port")
        console.print(f"dotwise playground on [bold]{url}[/bold]  (API docs: {url}/docs; "
                      "Ctrl+C to stop)", highlight=False)
        if not no_browser:
            import webbrowser

            threading.Timer(1.0, lambda: webbrowser.open(url)).start()
        try:
            # On loopback, accept only local Host headers (defeats DNS rebinding).
            hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(host) else None
            uvicorn.run(create_app(allowed_hosts=hosts), host=host, port=port,
                        log_level="warning")
        except OSError as exc:
            fail(f"could not listen on {host}:{port}: {exc.strerror or exc}; "
                 "pick another --port")
