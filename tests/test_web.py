import json
import threading
import urllib.error
import urllib.request
from io import BytesIO

import pytest
from PIL import Image

from chromatize.io import decode_image
from chromatize.web import make_server


@pytest.fixture
def server():
    srv = make_server("127.0.0.1", 0, model="gray")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def post(url, body):
    req = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers["Content-Type"], r.read()


def test_page_and_models(server):
    with urllib.request.urlopen(server + "/", timeout=10) as r:
        assert "Drop a photo" in r.read().decode()
    with urllib.request.urlopen(server + "/models", timeout=10) as r:
        names = json.loads(r.read())
    assert names[0] == "gray" and "mlp" in names


def test_colorize_upload(server, photo):
    buf = BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG")
    status, ctype, body = post(server + "/colorize?model=mlp", buf.getvalue())
    assert status == 200 and ctype == "image/png"
    out = decode_image(body)
    assert out.rgb.shape == photo.shape


def test_bad_upload_is_one_line_400(server):
    with pytest.raises(urllib.error.HTTPError) as exc:
        post(server + "/colorize", b"definitely not an image")
    assert exc.value.code == 400
    text = exc.value.read().decode()
    assert "not an image" in text and text.count("\n") == 1
    with pytest.raises(urllib.error.HTTPError) as exc:
        post(server + "/colorize?model=nope", b"x")
    assert exc.value.code == 400 and "nope" in exc.value.read().decode()
