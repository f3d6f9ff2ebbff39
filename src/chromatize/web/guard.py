"""What keeps the web server answering under abuse: limits, the Host/Origin check, the work pool.

* :class:`Limits`: every bound in one place (upload bytes, pixels, render
  size, hints, time to upload, time to answer, workers, queue).
* :class:`Guard`: ASGI middleware in front of the app. It refuses requests
  whose Host is a DNS name it does not serve (DNS rebinding) and requests
  that another web site makes (Origin / Sec-Fetch-Site), checks
  Content-Length before a byte of the body is read, and reads the body with
  a byte limit and a deadline, so that a stalled upload costs no thread and
  ends with 408.
* :class:`WorkPool`: CPU work runs in a bounded thread pool, off the event
  loop. At most ``workers`` jobs run and ``queue`` wait; beyond that a
  request is answered at once with 503 and Retry-After. A job that outlives
  the request timeout is answered with 503 while its worker finishes it and
  only then takes the next job, so the bound on running work always holds.

Every refusal is a :class:`WebError` carrying an HTTP status and one line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from ..io import DEFAULT_MAX_PIXELS

__all__ = ["Limits", "WebError", "Guard", "WorkPool", "json_error_body", "host_is_allowed", "is_ip"]


@dataclass(frozen=True)
class Limits:
    """The server's bounds (defaults are the values ``chromatize serve`` uses)."""

    #: Largest request body (the image, scribbles and reference together), in bytes.
    max_upload_bytes: int = 64 * 1024 * 1024
    #: Largest image, scribble or reference, in pixels: the CLI's limit.
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Largest working size (``render_size``) accepted; the CLI allows more, a server should not.
    max_render_size: int = 1024
    #: Most point hints in one request.
    max_hints: int = 1000
    #: Seconds a client has to send the whole request body.
    upload_timeout_s: float = 30.0
    #: Seconds a client has to send a request's line and headers (from connecting, or from the last answer on a
    #: kept-alive connection); then the connection is answered 408 and closed, so that clients trickling headers
    #: cannot hold the server's connections.
    header_timeout_s: float = 10.0
    #: Seconds from the body's arrival to the answer (waiting for a worker included).
    request_timeout_s: float = 60.0
    #: Jobs that run at once (threads).
    workers: int = 2
    #: Jobs that may wait for a worker; more are refused with 503.
    queue: int = 16
    #: Names besides IP literals and ``localhost`` that the Host header may carry.
    allowed_hosts: tuple[str, ...] = field(default=())

    def __post_init__(self):
        for key in ("max_upload_bytes", "max_pixels", "max_render_size", "max_hints", "workers"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        if isinstance(self.queue, bool) or not isinstance(self.queue, int) or self.queue < 0:
            raise ValueError(f"queue must be an integer >= 0, got {self.queue!r}")
        for key in ("upload_timeout_s", "header_timeout_s", "request_timeout_s"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{key} must be a positive number of seconds, got {value!r}")

    def public(self) -> dict:
        """The limits a client needs to know (GET /api/models)."""
        d = asdict(self)
        d.pop("allowed_hosts")
        return d


#: Sent with an error answered before the body was read to its end: the connection cannot be reused.
CLOSE = {"Connection": "close"}


class WebError(Exception):
    """A request refused or failed: ``status`` (an HTTP code), a one-line message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def json_error_body(message: str) -> bytes:
    """The body of every error answer: ``{"error": "one line"}``."""
    return json.dumps({"error": message}).encode()


def _host_name(host: str) -> str:
    """The name part of a Host header value ('[::1]:8000' -> '::1', 'a.b:80' -> 'a.b')."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_ip(name: str) -> bool:
    """Whether ``name`` is an IPv4 or IPv6 address literal."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_is_allowed(host: str, allowed: tuple[str, ...] = ()) -> bool:
    """IP literals and ``localhost`` always; other names only when listed (a DNS name can be rebound)."""
    name = _host_name(host)
    return name == "localhost" or name in {a.lower() for a in allowed} or is_ip(name)


class Guard:
    """ASGI middleware: Host and Origin checks, Content-Length check, body limit and upload deadline.

    Parameters
    ----------
    app : ASGI app
    limits : Limits
    """

    def __init__(self, app, limits: Limits):
        self.app = app
        self.limits = limits

    async def _refuse(self, send, error: WebError) -> None:
        body = json_error_body(str(error))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def check(self, scope) -> None:
        """Raise WebError if the request's headers are refused (nothing of the body is read)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not host_is_allowed(host, self.limits.allowed_hosts):
            raise WebError(403, f"host {host!r} is not served here (open the page by its IP address or localhost)")
        origin = headers.get("origin")
        navigation = scope["method"] == "GET" and headers.get("sec-fetch-mode") == "navigate"  # a link to the page
        if (headers.get("sec-fetch-site") == "cross-site" and not navigation) or (
                scope["method"] not in ("GET", "HEAD", "OPTIONS") and origin is not None
                and origin.lower() != f"{scope.get('scheme', 'http')}://{host}".lower()):
            raise WebError(403, f"requests from other web sites are refused (origin {origin!r})")
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise WebError(400, f"Content-Length must be a number of bytes, got {length!r}")
            if int(length) > self.limits.max_upload_bytes:
                raise WebError(413, f"upload of {int(length):,} bytes is over the limit of "
                                    f"{self.limits.max_upload_bytes:,}")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            self.check(scope)
        except WebError as exc:
            return await self._refuse(send, exc)
        limits = self.limits
        deadline: float | None = None  # set at the first read of the body
        received = 0
        complete = False

        async def limited_receive():
            nonlocal deadline, received, complete
            if complete:  # the body is in: later reads only wait for a disconnect
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + limits.upload_timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                raise WebError(408, f"upload not received in {limits.upload_timeout_s:g} s", CLOSE) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limits.max_upload_bytes:
                    raise WebError(413, f"upload is over the limit of {limits.max_upload_bytes:,} bytes", CLOSE)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


class WorkPool:
    """A bounded thread pool for CPU work, with a bounded queue and a deadline per job.

    Parameters
    ----------
    workers : int
        Threads (jobs that run at once).
    queue : int
        Jobs that may wait; one more is refused with ``WebError(503)`` and Retry-After.
    timeout_s : float
        Longest wait plus run time per job; past it the request gets 503.
    """

    def __init__(self, workers: int, queue: int, timeout_s: float):
        self.workers, self.queue, self.timeout_s = workers, queue, timeout_s
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chromatize-web")
        self._lock = threading.Lock()
        self._pending = 0  # jobs waiting or running (a timed-out job counts until its thread ends)
        self._mean_s = 0.5  # running mean of job times, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    def _retry_after(self) -> str:
        return str(max(1, math.ceil(self._mean_s * (self._pending + 1) / self.workers)))

    @property
    def full(self) -> bool:
        """Whether a job submitted now would be refused."""
        return self._pending >= self.workers + self.queue

    def busy_error(self) -> WebError:
        """The 503 answer of a full queue, with Retry-After."""
        return WebError(503, f"busy: {self._pending} requests are being worked on or waiting; try again",
                        {"Retry-After": self._retry_after()})

    async def run(self, fn: Callable, *args):
        """Run ``fn(*args)`` in a worker thread and return its result (or raise its exception)."""
        with self._lock:
            if self.full:
                raise self.busy_error()
            self._pending += 1

        def job():
            t = time.monotonic()
            try:
                return fn(*args)
            finally:
                with self._lock:
                    self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - t)

        def done(_future):
            with self._lock:
                self._pending -= 1

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # shut down
            done(None)
            raise WebError(503, "the server is shutting down") from None
        future.add_done_callback(done)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout_s)
        except TimeoutError:
            future.cancel()  # drops it if it is still waiting; a running job finishes, holding its worker
            raise WebError(503, f"no answer within {self.timeout_s:g} s (the server is busy or the photo is large)",
                           {"Retry-After": self._retry_after()}) from None
        except asyncio.CancelledError:  # the client went away
            future.cancel()
            raise

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are dropped, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)
