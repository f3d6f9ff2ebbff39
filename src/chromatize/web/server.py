"""Serving the app with uvicorn on a socket bound up front.

The socket is bound when a :class:`WebServer` is made, so that a busy port is
an ``OSError`` (errno ``EADDRINUSE``) raised right there, before any
serving starts: the CLI turns it into one line. Malformed HTTP (a
Content-Length of ``abc``, say) is answered by the protocol layer; here it
gets the same ``{"error": ...}`` body as every other error. The protocol
also bounds the time a request's headers may take (uvicorn has no such
limit: sockets trickling headers a byte a second held every connection).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import threading
import time

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .guard import Limits, is_ip, json_error_body

__all__ = ["WebServer", "MAX_CONNECTIONS"]

#: Open connections beyond which uvicorn itself answers 503 (a backstop: the work queue refuses first).
MAX_CONNECTIONS = 1000


class JSONErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering malformed requests with a JSON error body, and slow headers with 408.

    A request's line and headers must arrive within :attr:`header_timeout_s`
    of the connection being made or of the last answer on it; otherwise the
    connection is answered 408 and closed. (uvicorn's ``timeout_keep_alive``
    is cancelled by any byte received, so it bounds only silent connections.)
    """

    #: Seconds a request's headers may take (set from ``Limits.header_timeout_s`` by :class:`WebServer`).
    header_timeout_s: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()  # the next request on this connection gets its own time

    def connection_lost(self, exc) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        # Still IDLE: no complete request line and headers yet (a request being read or answered is left alone).
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        body = json_error_body(f"request headers not received within {self.header_timeout_s:g} s")
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                             b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        body = json_error_body("malformed HTTP request (a bad request line or header, "
                               "such as a Content-Length that is not a number)")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a name: resolve it the way bind will
        return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]


class WebServer:
    """The web app on ``host:port``, bound at once; :meth:`serve_forever` serves until :meth:`shutdown`.

    Parameters
    ----------
    host : str
        Address to listen on (loopback by default: the page is for this machine).
    port : int
        0 picks a free port (see :attr:`server_address`).
    model : str, optional
        The model selected by default.
    limits : Limits, optional
        Bounds of the server; ``workers`` is the number of colorizing threads.
    log_level : str
        uvicorn's log level.

    Raises
    ------
    OSError
        If the address cannot be bound (``errno.EADDRINUSE`` for a busy port).

    Examples
    --------
    >>> with WebServer("127.0.0.1", 0, model="gray") as server:   # doctest: +SKIP
    ...     urllib.request.urlopen(server.url + "api/models").status
    200
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8000, *, model: str | None = None,
                 limits: Limits | None = None, log_level: str = "warning"):
        limits = limits or Limits()
        if host and host != "localhost" and not is_ip(host):  # served by name: that name is allowed
            limits = dataclasses.replace(limits, allowed_hosts=limits.allowed_hosts + (host,))
        self.app = create_app(model, limits)
        self.socket = socket.socket(_family(host), socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not for a listening port
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.server_address = self.socket.getsockname()[:2]
        config = uvicorn.Config(self.app, log_level=log_level, access_log=False, lifespan="off",
                                http=type("HeaderBoundH11Protocol", (JSONErrorH11Protocol,),
                                          {"header_timeout_s": limits.header_timeout_s}),
                                timeout_keep_alive=5,
                                limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    @property
    def started(self) -> bool:
        """Whether the server is accepting requests."""
        return bool(self._server.started)

    def wait_started(self, timeout: float = 10.0) -> None:
        """Block until the server accepts requests (for a server run in a thread)."""
        end = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > end:
                raise TimeoutError(f"the web server did not start within {timeout:g} s")
            time.sleep(0.02)

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (or Ctrl-C, when run in the main thread)."""
        self._server.run(sockets=[self.socket])

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to return (from another thread)."""
        self._server.should_exit = True

    def server_close(self) -> None:
        """Release the socket and the worker threads."""
        self.app.state.pool.shutdown()
        self.socket.close()

    def __enter__(self) -> "WebServer":
        """Serve in a background thread until the ``with`` block ends (tests, benchmarks, notebooks)."""
        self._thread = threading.Thread(target=self.serve_forever, name="chromatize-web-server", daemon=True)
        self._thread.start()
        self.wait_started()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self._thread.join(10)
        self.server_close()
