"""The FastAPI app: the page, the model list, colorizing with guidance, colour suggestions.

Routes
------
``GET /``
    The page (``static/index.html``; ``/static/editor.js``, ``/static/app.js``, ``/static/style.css``).
``GET /api/models``
    ``{"default": name, "models": [{"name", "hints"}], "limits": {...}}``.
``POST /api/colorize``
    Multipart: ``image`` (file), and optionally ``hints`` (JSON text, the
    ``chromatize colorize --hints`` format), ``scribbles`` (an RGBA image of
    the photo's size), ``reference`` (a colour photo), ``model``,
    ``saturation``, ``render_size``. Answer: the colorized photo, image/png,
    at the input's full resolution.
``POST /api/suggest``
    Multipart: ``image``, ``x``, ``y`` and optionally ``model``,
    ``render_size``. Answer: ``{"lightness", "colors": [{"hex", "ab",
    "weight", "source"}], "sources": {...}}`` (see :mod:`chromatize.suggest`).

Every error is a 4xx/5xx answer with ``{"error": "one line"}``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from importlib import resources

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..guidance import Guidance
from ..hints import HintError
from ..infer import colorize_photo
from ..io import ImageReadError, decode_image, encode_png
from ..models import (
    DEFAULT_MODEL,
    Colorizer,
    ModelFormatError,
    bundled_models,
    load_model,
)
from ..suggest import SOURCES, suggest_colors
from ..text import one_line, parse_json
from .guard import Guard, Limits, WebError, WorkPool, json_error_body

__all__ = ["create_app", "Models"]

log = logging.getLogger(__name__)

#: Errors of the request's content: answered with 400 and their message.
BAD_INPUT = (ImageReadError, ModelFormatError, HintError, ValueError, TypeError)
#: Headers of every answer: no framing by other sites, no MIME sniffing, no caching of results.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
PAGE_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
STATIC = {"app.js": "text/javascript; charset=utf-8", "editor.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}


class Models:
    """The models a server offers, each loaded once (thread-safe).

    Parameters
    ----------
    default : str, optional
        The model selected by default: a bundled name or a model folder.
    """

    def __init__(self, default: str | None = None):
        self.default = str(default or DEFAULT_MODEL)
        candidates = [self.default] + bundled_models() + ["levin", "gray"]
        self.names = list(dict.fromkeys(candidates))
        self._cache: dict[str, Colorizer] = {}
        self._lock = threading.RLock()
        self._described: list[dict] | None = None

    def get(self, name: str | None) -> Colorizer:
        """The loaded model; ``ModelFormatError`` if this server does not offer ``name``."""
        name = name or self.default
        if name not in self.names:
            raise ModelFormatError(f"model {name!r} is not offered here ({', '.join(self.names)})")
        with self._lock:
            if name not in self._cache:
                self._cache[name] = load_model(name)
            return self._cache[name]

    def describe(self) -> list[dict]:
        """``[{"name", "hints"}]`` for every model that loads (loads them all once)."""
        with self._lock:
            return self._describe()

    def _describe(self) -> list[dict]:
        if self._described is None:
            out = []
            for name in list(self.names):
                try:
                    model = self.get(name)
                except ModelFormatError:  # e.g. a family this install lacks: not offered
                    if name == self.default:
                        raise
                    self.names.remove(name)
                    continue
                out.append({"name": name, "hints": bool(model.accepts_hints)})
            self._described = out
        return self._described


def _number(form: dict, key: str, kind: type, low: float, high: float):
    """A number field of the form, or None when absent, empty or 'auto'; WebError(400) otherwise."""
    text = form.get(key, "").strip()
    if text in ("", "auto"):
        return None
    try:
        value = kind(text)
    except ValueError:
        raise WebError(400, f"{key}: not {'an integer' if kind is int else 'a number'} ({text[:40]!r})") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise WebError(400, f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return value


def upload_name(filename: str | None, field: str) -> str:
    """How errors name an upload: its file name (no folders, printable, at most 80 characters) or the field."""
    name = "".join(c for c in (filename or "").replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())[:80]
    return name or field


async def read_form(request: Request, files: tuple[str, ...], fields: tuple[str, ...]) -> dict:
    """The multipart form as ``{name: bytes | str}``, plus ``{file field}_name`` naming each upload in errors.

    Unknown fields, a text where a file is expected and vice versa are 400.
    """
    try:
        form = await request.form(max_files=len(files), max_fields=len(fields), max_part_size=1024 * 1024)
    except StarletteHTTPException as exc:  # a malformed multipart body
        raise WebError(400, f"form: {one_line(Exception(exc.detail))}") from None
    try:
        unknown = sorted(set(form.keys()) - set(files) - set(fields))
        if unknown:
            raise WebError(400, f"unknown form field(s) {', '.join(map(repr, unknown))} "
                                f"(known: {', '.join(files + fields)})")
        out: dict = {}
        for key in files:
            value = form.get(key)
            if value is None:
                continue
            if isinstance(value, str):
                raise WebError(400, f"{key}: expected a file upload, got a text field")
            out[key] = await value.read()
            out[key + "_name"] = upload_name(value.filename, key)
        for key in fields:
            value = form.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise WebError(400, f"{key}: expected a text field, got a file")
            out[key] = value
        return out
    finally:
        await form.close()  # temp files of large parts are removed here


def _guidance(form: dict, limits: Limits) -> Guidance:
    """The form's settings, hints, scribbles and reference, parsed once."""
    hints = None
    if form.get("hints", "").strip():
        try:
            obj = parse_json(form["hints"])
        except ValueError as exc:
            raise HintError(f"hints: not JSON ({one_line(exc)})") from None
        hints = obj["hints"] if isinstance(obj, dict) and "hints" in obj else obj
        if isinstance(hints, list) and len(hints) > limits.max_hints:
            raise HintError(f"hints: {len(hints)} hints, the limit is {limits.max_hints}")
        hints = obj
    scribbles = reference = None
    if form.get("scribbles"):
        photo = decode_image(form["scribbles"], form["scribbles_name"], max_pixels=limits.max_pixels)
        if photo.alpha is None:
            raise HintError("scribbles: need an image with transparency (RGBA PNG): opaque pixels are strokes")
        if photo.alpha.any():
            scribbles = np.dstack([photo.rgb, photo.alpha])
    if form.get("reference"):
        reference = decode_image(form["reference"], form["reference_name"], max_pixels=limits.max_pixels).rgb
    return Guidance.build(render_size=form["render_size"], saturation=form["saturation"], hints=hints,
                          scribbles=scribbles, reference=reference)


def create_app(model: str | None = None, limits: Limits | None = None) -> FastAPI:
    """The web app (an ASGI app; run it with uvicorn, or use :class:`chromatize.web.WebServer`).

    Parameters
    ----------
    model : str, optional
        The model selected by default (a bundled name or a model folder); the default model if None.
    limits : Limits, optional
        The server's bounds; ``Limits()`` if None.

    Returns
    -------
    fastapi.FastAPI
        With ``app.state.pool`` (the :class:`WorkPool`), ``app.state.models`` and ``app.state.limits``.
    """
    limits = limits or Limits()
    models = Models(model)
    pool = WorkPool(limits.workers, limits.queue, limits.request_timeout_s)
    app = FastAPI(title="chromatize", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.pool, app.state.models, app.state.limits = pool, models, limits
    app.add_middleware(Guard, limits=limits)
    _add_error_handlers(app)
    _add_page_routes(app)
    _add_api_routes(app, models, limits, pool)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error becomes a one-line JSON answer: ours with their status, FastAPI's, and anything else as 500."""

    @app.exception_handler(WebError)
    async def web_error(_request, exc: WebError):
        return Response(json_error_body(str(exc)), exc.status, {**SECURITY_HEADERS, **exc.headers},
                        media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = f"{request.url.path}: not found" if exc.status_code == 404 else one_line(Exception(exc.detail))
        return Response(json_error_body(message), exc.status_code, {**SECURITY_HEADERS, **(exc.headers or {})},
                        media_type="application/json")

    @app.exception_handler(Exception)
    async def server_error(_request, exc: Exception):
        log.error("unexpected error: %s", one_line(exc), exc_info=exc)
        return Response(json_error_body(f"internal error: {one_line(exc)}"), 500, SECURITY_HEADERS,
                        media_type="application/json")


def _add_page_routes(app: FastAPI) -> None:
    """The page and its static files."""
    def static(name: str) -> bytes:
        return (resources.files(__package__) / "static" / name).read_bytes()

    page = static("index.html")

    @app.get("/")
    async def index():
        return Response(page, media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP})

    @app.get("/static/{name}")
    async def static_file(name: str):
        if name not in STATIC:
            raise WebError(404, f"/static/{name}: not found")
        return Response(static(name), media_type=STATIC[name], headers=SECURITY_HEADERS)


def _add_api_routes(app: FastAPI, models: "Models", limits: Limits, pool: WorkPool) -> None:
    """The JSON/PNG API: the model list, colorizing, colour suggestions; work runs in ``pool``."""
    async def work(fn, *args):
        """Run a job in the pool; the request's content errors become 400, lack of memory 503."""
        try:
            return await pool.run(fn, *args)
        except BAD_INPUT as exc:
            raise WebError(400, one_line(exc)) from None
        except MemoryError:
            raise WebError(503, "out of memory for this request (try a smaller photo or render size)",
                           {"Retry-After": "5"}) from None

    async def refuse_if_busy(request: Request) -> None:
        """503 at once when the queue is full: the body is drained unparsed (so the client can read the answer)."""
        if pool.full:
            async for _ in request.stream():
                pass
            raise pool.busy_error()

    @app.get("/api/models")
    async def list_models():
        described = await work(models.describe)
        return JSONResponse({"default": models.default, "models": described, "limits": limits.public()},
                            headers=SECURITY_HEADERS)

    def colorize_job(form: dict) -> tuple[bytes, float]:
        t = time.perf_counter()
        photo = decode_image(form["image"], form["image_name"], max_pixels=limits.max_pixels)
        out = colorize_photo(photo, models.get(form.get("model")), _guidance(form, limits))
        return encode_png(out.rgb, out.alpha, compress_level=1), time.perf_counter() - t  # speed over size

    @app.post("/api/colorize")
    async def colorize(request: Request):
        await refuse_if_busy(request)
        form = await read_form(request, ("image", "scribbles", "reference"),
                               ("hints", "model", "saturation", "render_size"))
        if not form.get("image"):
            raise WebError(400, "image: no photo sent (the multipart field 'image' is missing or empty)")
        form["render_size"] = _number(form, "render_size", int, 8, limits.max_render_size)
        form["saturation"] = _number(form, "saturation", float, 0, 10)
        png, seconds = await work(colorize_job, form)
        return Response(png, media_type="image/png",
                        headers={**SECURITY_HEADERS, "X-Work-Ms": f"{seconds * 1000:.0f}"})

    def suggest_job(form: dict) -> dict:
        photo = decode_image(form["image"], form["image_name"], max_pixels=limits.max_pixels)
        lightness, colors = suggest_colors(photo, models.get(form.get("model")), form["x"], form["y"],
                                           render_size=form["render_size"])
        return {"x": form["x"], "y": form["y"], "lightness": round(lightness, 2),
                "colors": [{"hex": c.hex, "ab": list(c.ab), "weight": c.weight, "source": c.source} for c in colors],
                "sources": {s: SOURCES[s] for s in dict.fromkeys(c.source for c in colors)}}

    @app.post("/api/suggest")
    async def suggest(request: Request):
        await refuse_if_busy(request)
        form = await read_form(request, ("image",), ("x", "y", "model", "render_size"))
        if not form.get("image"):
            raise WebError(400, "image: no photo sent (the multipart field 'image' is missing or empty)")
        for key in ("x", "y"):
            form[key] = _number(form, key, float, -0.5, 1e6)
            if form[key] is None:
                raise WebError(400, f"{key}: missing (the hint's pixel coordinate)")
        form["render_size"] = _number(form, "render_size", int, 8, limits.max_render_size)
        return JSONResponse(await work(suggest_job, form), headers=SECURITY_HEADERS)
