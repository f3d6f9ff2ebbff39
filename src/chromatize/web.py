"""A small local web page: drop a photo, get it colorized.

Standard library only (``http.server``); meant for one person on their own
machine (it binds to 127.0.0.1 by default), not for the open internet.

Routes
------
``GET /``
    The page.
``GET /models``
    JSON list of model names.
``POST /colorize?model=NAME&render_size=N&saturation=S``
    Body: the bytes of an image file. Answer: the colorized photo as PNG, or
    ``400`` with a one-line plain-text reason.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from .infer import colorize_photo
from .io import DEFAULT_MAX_PIXELS, ImageReadError, decode_image, encode_png
from .models import DEFAULT_MODEL, Colorizer, ModelFormatError, bundled_models, load_model
from .text import one_line

__all__ = ["make_server", "MAX_UPLOAD_BYTES"]

#: Uploads larger than this are refused before they are read.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chromatize</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
#drop { border: 2px dashed #999; border-radius: 8px; padding: 2em; text-align: center; cursor: pointer; }
#drop.over { background: #eef; }
.pair { display: flex; gap: 1em; margin-top: 1em; } .pair figure { flex: 1; margin: 0; }
.pair img { max-width: 100%; } #msg { color: #a00; min-height: 1.5em; }
</style></head><body>
<h1>chromatize</h1>
<p>Drop a black-and-white photo (or click to choose one). It is colorized on this machine.</p>
<p><label>Model <select id="model"></select></label></p>
<div id="drop">Drop a photo here</div>
<input type="file" id="file" accept="image/*" hidden>
<p id="msg"></p>
<div class="pair"><figure><img id="before" alt=""><figcaption>input</figcaption></figure>
<figure><img id="after" alt=""><figcaption>colorized <a id="save" download="colorized.png" hidden>save</a></figcaption></figure></div>
<script>
const $ = (id) => document.getElementById(id);
fetch("models").then(r => r.json()).then(ms => ms.forEach(m => $("model").add(new Option(m, m))));
async function send(file) {
  $("msg").textContent = "colorizing " + file.name + " ...";
  $("before").src = URL.createObjectURL(file);
  const r = await fetch("colorize?model=" + encodeURIComponent($("model").value), {method: "POST", body: file});
  if (!r.ok) { $("msg").textContent = await r.text(); $("after").removeAttribute("src"); return; }
  const url = URL.createObjectURL(await r.blob());
  $("after").src = url; $("save").href = url; $("save").hidden = false; $("msg").textContent = "";
}
$("drop").onclick = () => $("file").click();
$("file").onchange = (e) => e.target.files[0] && send(e.target.files[0]);
$("drop").ondragover = (e) => { e.preventDefault(); $("drop").classList.add("over"); };
$("drop").ondragleave = () => $("drop").classList.remove("over");
$("drop").ondrop = (e) => { e.preventDefault(); $("drop").classList.remove("over"); send(e.dataTransfer.files[0]); };
</script></body></html>
"""


class _Models:
    """Loaded models by name, loaded once each (thread-safe)."""

    def __init__(self, default: str | None):
        self.default = default or DEFAULT_MODEL
        self.names = [self.default] + [m for m in bundled_models() + ["gray"] if m != self.default]
        self._cache: dict[str, Colorizer] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None) -> Colorizer:
        name = name or self.default
        if name not in self.names:
            raise ModelFormatError(f"{name}: not a model this server offers ({', '.join(self.names)})")
        with self._lock:
            if name not in self._cache:
                self._cache[name] = load_model(name)
            return self._cache[name]


def _number(query: dict, key: str, kind: type):
    """A number from the query string, or None; ValueError naming the key otherwise."""
    text = query.get(key, [""])[0]
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{key}: not a number ({text!r})") from None


def _handler(models: _Models, max_pixels: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "chromatize"

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
            pass  # quiet: the CLI says where it serves

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, text: str) -> None:
            self._send(status, text.encode() + b"\n", "text/plain; charset=utf-8")

        def do_GET(self):  # noqa: N802 - the stdlib's name
            path = urlparse(self.path).path
            if path == "/":
                self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
            elif path == "/models":
                self._send(HTTPStatus.OK, json.dumps(models.names).encode(), "application/json")
            else:
                self._error(HTTPStatus.NOT_FOUND, f"{path}: not found")

        def do_POST(self):  # noqa: N802
            url = urlparse(self.path)
            if url.path != "/colorize":
                return self._error(HTTPStatus.NOT_FOUND, f"{url.path}: not found")
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0:
                return self._error(HTTPStatus.BAD_REQUEST, "upload: empty request (send the image file as the body)")
            if length > MAX_UPLOAD_BYTES:
                return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   f"upload: {length:,} bytes is over the limit of {MAX_UPLOAD_BYTES:,}")
            query = parse_qs(url.query)
            try:
                model = models.get(query.get("model", [None])[0])
                render_size = _number(query, "render_size", int)
                saturation = _number(query, "saturation", float)
                photo = decode_image(self.rfile.read(length), "upload", max_pixels=max_pixels)
                out = colorize_photo(photo, model, render_size, saturation)
            except (ImageReadError, ModelFormatError, ValueError, TypeError) as exc:
                return self._error(HTTPStatus.BAD_REQUEST, one_line(exc))
            self._send(HTTPStatus.OK, encode_png(out.rgb, out.alpha), "image/png")

    return Handler


def make_server(host: str = "127.0.0.1", port: int = 8000, *, model: str | None = None,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> ThreadingHTTPServer:
    """Create (not start) the web server; call ``serve_forever()`` on it.

    Parameters
    ----------
    host, port : str, int
        Where to listen; port 0 picks a free port (see ``server.server_address``).
    model : str, optional
        The model selected by default (a bundled name); the default model if None.
    """
    return ThreadingHTTPServer((host, port), _handler(_Models(model), max_pixels))
