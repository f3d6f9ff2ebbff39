"""The web API (FastAPI's TestClient, plus a real uvicorn server where the HTTP layer matters)."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import struct
import threading
import time
import warnings
import zlib
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from chromatize.hints import parse_hints
from chromatize.infer import colorize_photo
from chromatize.io import decode_image
from chromatize.models import load_model
from chromatize.web import Limits, WebError, create_app, make_server
from chromatize.web import app as web_app
from chromatize.web.guard import WorkPool, host_is_allowed
from chromatize.guidance import Guidance

with warnings.catch_warnings():  # starlette suggests httpx2 over httpx; the client works the same
    warnings.simplefilter("ignore")  # StarletteDeprecationWarning (a UserWarning)
    from fastapi.testclient import TestClient

BASE = "http://127.0.0.1:8000"


def png_bytes(rgb: np.ndarray, mode: str | None = None) -> bytes:
    buf = BytesIO()
    Image.fromarray(rgb, mode).save(buf, format="PNG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels and holds none: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1000)))
            + chunk(b"IEND", b""))


@pytest.fixture
def client():
    with TestClient(create_app("gray"), base_url=BASE) as c:
        yield c


@pytest.fixture
def image(photo):
    return png_bytes(photo)


def post(client, route="/api/colorize", image=None, files=None, **fields):
    files = dict(files or {})
    if image is not None:
        files["image"] = ("photo.png", image, "image/png")
    return client.post(route, files=files, data={k: str(v) for k, v in fields.items()})


def assert_error(r, status, *words):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    message = r.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message
    for w in words:
        assert w in message, message
    return message


# ---------- routes ----------

def test_page_static_and_models(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert 'id="slider"' in r.text and "Drop a photo" in r.text
    for name, kind in (("app.js", "javascript"), ("editor.js", "javascript"), ("style.css", "css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    assert_error(client.get("/static/../app.py"), 404)
    assert_error(client.get("/nope"), 404, "/nope")
    answer = client.get("/api/models").json()
    names = [m["name"] for m in answer["models"]]
    assert answer["default"] == "gray" and names[0] == "gray" and "cnn" in names and "mlp" in names
    assert {m["name"]: m["hints"] for m in answer["models"]}["cnn"] is True
    assert answer["limits"]["max_render_size"] == 1024 and answer["limits"]["max_pixels"] == 100_000_000


def test_colorize_is_the_library_result_at_full_size(client, photo, image):
    r = post(client, image=image, model="mlp", saturation=1.2, render_size=16)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    out = decode_image(r.content)
    expected = colorize_photo(decode_image(image), load_model("mlp"), Guidance(render_size=16, saturation=1.2))
    assert out.rgb.shape == photo.shape
    np.testing.assert_array_equal(out.rgb, expected.rgb)


def test_alpha_is_kept(client, photo):
    rgba = np.dstack([photo, np.full(photo.shape[:2], 100, np.uint8)])
    out = decode_image(post(client, image=png_bytes(rgba, "RGBA")).content)
    assert out.alpha is not None and (out.alpha == 100).all()


def test_wide_panorama_is_answered(client):
    """40000 x 300: once a request that got no answer at all."""
    strip = np.tile(np.linspace(0, 255, 40000, dtype=np.uint8), (300, 1))
    r = post(client, image=png_bytes(strip), model="cnn")
    assert r.status_code == 200, r.text
    assert decode_image(r.content).rgb.shape == (300, 40000, 3)


# ---------- bad uploads: always an answer, 4xx, one line ----------

@pytest.mark.parametrize("name, data, words", [
    ("empty", b"", ["image"]),  # an empty file part: as if none was sent
    ("text", b"definitely not an image\n", ["photo.png", "not an image"]),
    ("truncated", None, ["photo.png"]),
    ("bomb", png_header_only(50_000, 50_000), ["pixels"]),
])
def test_bad_uploads_are_one_line_400(client, image, name, data, words):
    if name == "truncated":
        data = image[: len(image) // 2]
    assert_error(post(client, image=data), 400, *words)


@pytest.mark.parametrize("hints, words", [
    ("{", ["hints", "not JSON"]),
    ('{"points": []}', ["hints"]),
    ('[{"x": 1, "y": 2}]', ["hint 0", "'ab'"]),
    ('[{"x": 1000, "y": 2, "color": "#ff0000"}]', ["outside the photo"]),
    ('[{"x": 1, "y": 2, "color": "red"}]', ["#rrggbb"]),
    ("[" * 5_000 + "]" * 5_000, ["hints", "nested too deeply"]),  # was a 500
    ("[" * 100_000, ["hints", "nested too deeply"]),
])
def test_bad_hints_are_one_line_400(client, image, hints, words):
    assert_error(post(client, image=image, hints=hints, model="cnn"), 400, *words)


def test_bad_forms(client, image):
    assert_error(post(client), 400, "image")
    assert_error(post(client, image=image, colour="red"), 400, "colour")
    assert_error(client.post("/api/colorize", content=image, headers={"content-type": "image/png"}), 400, "image")
    assert_error(client.post("/api/colorize", content=b"--x\r\ngarbage", headers={"content-type": "multipart/form-data; boundary=x"}), 400)
    assert_error(post(client, image=image, model="nope"), 400, "nope")
    assert_error(post(client, image=image, render_size="abc"), 400, "render_size")
    assert_error(post(client, image=image, saturation="nan"), 400, "saturation")
    assert_error(post(client, image=image, saturation="11"), 400, "saturation")
    assert_error(client.post("/api/colorize", data={"image": "x"}), 400, "file")


# ---------- limits ----------

def test_render_size_is_bounded(client, image):
    assert_error(post(client, image=image, render_size=8192), 400, "render_size", "1024")
    assert_error(post(client, image=image, render_size=4), 400, "render_size")
    assert post(client, image=image, render_size=1024, model="cnn").status_code == 200


def test_upload_size_and_pixel_limits(image):
    limits = Limits(max_upload_bytes=5000, max_pixels=100)
    with TestClient(create_app("gray", limits), base_url=BASE) as c:
        assert_error(post(c, image=bytes(10_000)), 413, "5,000")
        chunks = (bytes(2000) for _ in range(5))  # no Content-Length: counted as it arrives
        r = c.post("/api/colorize", content=chunks, headers={"content-type": "multipart/form-data; boundary=x"})
        assert_error(r, 413)
        assert_error(post(c, image=image), 400, "pixels")
    with TestClient(create_app("cnn", Limits(max_hints=2)), base_url=BASE) as c:
        hints = json.dumps([{"x": 1, "y": 1, "color": "#ff0000"}] * 3)
        assert_error(post(c, image=image, hints=hints), 400, "limit is 2")


def test_host_and_origin_checks(client, image):
    assert_error(client.get("/", headers={"host": "evil.example:8000"}), 403, "evil.example")
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]:8000"}).status_code == 200
    assert_error(client.post("/api/colorize", files={"image": ("a.png", image)}, headers={"origin": "https://evil.example"}),
                 403, "other web sites")
    assert_error(client.get("/api/models", headers={"sec-fetch-site": "cross-site"}), 403)
    link = client.get("/", headers={"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"})
    assert link.status_code == 200  # following a link to the page is fine; it cannot read or post anything
    same = client.post("/api/colorize", files={"image": ("a.png", image)}, headers={"origin": BASE})
    assert same.status_code == 200
    assert host_is_allowed("10.0.0.7:8000") and host_is_allowed("localhost") and not host_is_allowed("a.b:1")
    assert host_is_allowed("myhost:8000", ("myhost",))


def test_no_upload_is_left_on_disk(tmp_path, monkeypatch, client, rng):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    noisy = rng.integers(0, 256, (700, 700, 3), dtype=np.uint8)  # ~1.4 MB: spooled to a temp file
    r = post(client, image=png_bytes(noisy), files={"reference": ("r.png", png_bytes(noisy), "image/png")})
    assert r.status_code in (200, 400)
    assert list(tmp_path.iterdir()) == []


def test_work_pool_queue_and_timeout():
    async def scenario():
        pool = WorkPool(workers=1, queue=1, timeout_s=0.3)
        slow = [asyncio.ensure_future(pool.run(time.sleep, 0.6)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(WebError) as full:
            await pool.run(time.sleep, 0)
        assert full.value.status == 503 and int(full.value.headers["Retry-After"]) >= 1
        results = await asyncio.gather(*slow, return_exceptions=True)
        assert all(isinstance(r, WebError) and r.status == 503 for r in results)  # past the 0.3 s timeout
        assert pool.pending == 1  # the running job keeps its worker until it ends; the queued one was dropped
        await asyncio.sleep(0.5)
        assert pool.pending == 0
        assert await pool.run(lambda: 42) == 42
        pool.shutdown()

    asyncio.run(scenario())


# ---------- suggestions ----------

def test_suggest(client, image, photo):
    answer = post(client, "/api/suggest", image=image, x=5, y=7, model="cnn").json()
    colors = answer["colors"]  # the default cnn classifies into bins: its probable bins come first
    assert colors[0]["source"] == "model" and {c["source"] for c in colors[1:]} == {"bins", "training"}
    assert all(len(c["hex"]) == 7 and c["hex"][0] == "#" and len(c["ab"]) == 2 for c in colors)
    assert set(answer["sources"]) >= {"model", "training"} and 0 <= answer["lightness"] <= 100
    assert_error(post(client, "/api/suggest", image=image, x=500, y=7), 400, "outside the photo")
    assert_error(post(client, "/api/suggest", image=image, y=7), 400, "x")
    assert_error(post(client, "/api/suggest", image=b"nope", x=1, y=1), 400, "photo.png")


# ---------- guidance ----------

def test_hints_scribbles_and_reference_change_the_result(image, photo):
    with TestClient(create_app("cnn"), base_url=BASE) as c:
        plain = decode_image(post(c, image=image).content).rgb
        hints = {"hints": [{"x": 10, "y": 10, "color": "#d02020", "size": 5}]}
        parse_hints(hints)  # the CLI's format
        hinted = decode_image(post(c, image=image, hints=json.dumps(hints)).content).rgb
        assert np.abs(hinted.astype(int) - plain).mean() > 0.5
        strokes = np.zeros(photo.shape[:2] + (4,), np.uint8)
        strokes[4:8, 4:20] = (20, 40, 220, 255)
        files = {"scribbles": ("s.png", png_bytes(strokes, "RGBA"), "image/png")}
        scribbled = decode_image(post(c, image=image, files=files).content).rgb
        assert np.abs(scribbled.astype(int) - plain).mean() > 0.5
        ref = np.zeros_like(photo)
        ref[..., 1] = 200
        files = {"reference": ("ref.png", png_bytes(ref), "image/png")}
        referenced = post(c, image=image, files=files)
        assert referenced.status_code == 200, referenced.text
        opaque = {"scribbles": ("s.png", png_bytes(photo), "image/png")}
        assert_error(post(c, image=image, files=opaque), 400, "transparency")
        small = {"scribbles": ("s.png", png_bytes(strokes[:5], "RGBA"), "image/png")}
        assert_error(post(c, image=image, files=small), 400, "scribbles")
        assert_error(post(c, image=image, hints=json.dumps(hints), model="mlp"), 400, "hints")


# ---------- the real server: HTTP-level limits ----------

@pytest.fixture
def live():
    with make_server("127.0.0.1", 0, model="gray", limits=Limits(upload_timeout_s=1.0, workers=1, queue=0)) as srv:
        yield srv


def raw_request(port: int, data: bytes, wait: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_slow_headers_are_answered_408_and_closed_in_bounded_time():
    """Sockets trickling headers a byte at a time held every connection (503 for all); a half-sent GET / hung."""
    limits = Limits(header_timeout_s=1.0, workers=1, queue=0)
    with make_server("127.0.0.1", 0, model="gray", limits=limits) as srv:
        port = srv.server_address[1]
        t = time.monotonic()
        half = raw_request(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", wait=10)  # never finished
        assert half.startswith(b"HTTP/1.1 408") and b"headers not received within 1 s" in half
        assert time.monotonic() - t < 5
        trickling = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
        t = time.monotonic()
        answers = [b""] * len(trickling)
        while time.monotonic() - t < 8 and not all(answers):
            for i, s in enumerate(trickling):
                if answers[i]:
                    continue
                try:
                    s.sendall(b"G")  # one byte at a time, never a whole request line
                    s.settimeout(0.05)
                    answers[i] = s.recv(4096)
                except TimeoutError:
                    pass
                except OSError:
                    answers[i] = b"closed"
            time.sleep(0.2)
        assert all(a.startswith(b"HTTP/1.1 408") or a == b"closed" for a in answers), answers
        assert time.monotonic() - t < 5  # closed after about header_timeout_s, though bytes kept coming
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # a prompt request is answered
            s.sendall(b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(0.5)  # and on the same kept-alive connection, the next request gets its own time
            s.sendall(b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        for s in trickling:
            s.close()
        assert raw_request(port, b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                           ).startswith(b"HTTP/1.1 200")


def test_malformed_content_length_is_answered(live):
    port = live.server_address[1]
    answer = raw_request(port, b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and "Content-Length" in json.loads(body)["error"]


def test_stalled_upload_gets_408(live):
    port = live.server_address[1]
    t = time.monotonic()
    answer = raw_request(port, b"POST /api/colorize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000\r\n\r\n--x\r\n")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - t < 4
    assert "not received" in json.loads(answer.partition(b"\r\n\r\n")[2])["error"]


def test_busy_server_answers_503_with_retry_after(live, image, monkeypatch):
    import httpx

    def slow(*args, **kwargs):
        time.sleep(1.0)
        return colorize_photo(*args, **kwargs)

    monkeypatch.setattr(web_app, "colorize_photo", slow)
    url = f"http://127.0.0.1:{live.server_address[1]}/api/colorize"
    answers = []

    def one():
        answers.append(httpx.post(url, files={"image": ("a.png", image, "image/png")}, timeout=30))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert codes[0] == 200 and 503 in codes, codes
    busy = next(r for r in answers if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1 and "busy" in busy.json()["error"]


def test_busy_port_is_an_os_error(live):
    with pytest.raises(OSError) as exc:
        make_server("127.0.0.1", live.server_address[1])
    assert exc.value.errno == errno.EADDRINUSE
