"""The interactive colorizing page and its API, served by FastAPI and uvicorn.

Meant for one person on their own machine: it listens on 127.0.0.1 by
default, answers only Host headers that are IP addresses, ``localhost`` or
the name it was started on, and refuses requests made by other web sites.

* ``app``: the routes (see :func:`create_app`).
* ``guard``: the limits that hold under abuse (:class:`Limits`).
* ``server``: uvicorn on a socket bound up front (:class:`WebServer`).
* ``static/``: the page (plain HTML, CSS and JavaScript; nothing is fetched from elsewhere).
"""

from __future__ import annotations

import dataclasses

from .app import create_app
from .guard import Limits, WebError
from .server import WebServer

__all__ = ["create_app", "Limits", "WebError", "WebServer", "make_server"]


def make_server(host: str = "127.0.0.1", port: int = 8000, *, model: str | None = None,
                workers: int | None = None, limits: Limits | None = None) -> WebServer:
    """Create (and bind, not start) the web server; call ``serve_forever()`` on it.

    Parameters
    ----------
    host, port : str, int
        Where to listen; port 0 picks a free port (see ``server.server_address``).
    model : str, optional
        The model selected by default (a bundled name or a model folder).
    workers : int, optional
        Colorizing threads (``Limits.workers``, default 2).
    limits : Limits, optional
        All the bounds; ``workers`` overrides its ``workers``.

    Raises
    ------
    OSError
        If ``host:port`` cannot be bound (``errno.EADDRINUSE``: the port is taken).
    """
    limits = limits or Limits()
    if workers is not None:
        limits = dataclasses.replace(limits, workers=workers)
    return WebServer(host, port, model=model, limits=limits)
