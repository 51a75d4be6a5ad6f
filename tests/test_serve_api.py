"""`lowlight serve` through an HTTP client: results equal `lowlight enhance`, metadata kept, limits, token,
Host check, corrupt uploads, jobs with progress, cancel and ZIP, concurrent requests with bounded memory."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _serve import CLI_ARGS, SETTINGS, jpeg_bytes, photo
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app as cli
from lowlight_cli.serve.app import create_app
from lowlight_cli.serve.engine import Engine
from lowlight_cli.serve.settings import ServeSettings

LOCAL = "http://127.0.0.1:8000"
TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def engine():
    engine = Engine(ServeSettings(**SETTINGS).checked())
    engine.load()
    yield engine
    engine.close()


def client(engine, **settings) -> TestClient:
    """A client of an app with these settings over the module's loaded engine (entered: lifespan run)."""
    return TestClient(create_app(ServeSettings(**SETTINGS, **settings).checked(), engine), base_url=LOCAL)


@pytest.fixture
def tiled(engine):
    """Tiles of 128 px for one test, so a small photo has several tiles to report and to cancel between."""
    engine.enhancer.tile = 128
    yield
    engine.enhancer.tile = SETTINGS["tile"]


@pytest.fixture(scope="module")
def api(engine):
    with client(engine) as c:
        yield c


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)


def _events(c: TestClient, job_id: str, on_event=None) -> list[dict]:
    events = []
    with c.stream("GET", f"/api/v1/jobs/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if on_event:
                    on_event(events[-1])
    return events


def test_enhance_equals_the_cli_and_keeps_metadata(api, tmp_path):
    """The downloaded photo equals `lowlight enhance` at the same settings within 1 level; EXIF (make) and ICC
    kept, orientation applied and reset to 1, size of the rotated photo."""
    src = photo(tmp_path / "night.jpg", width=240, orientation=6)
    with Image.open(src) as im:
        w, h, icc = im.width, im.height, im.info["icc_profile"]
    form = {"strength": "0.6", "exposure": "+0.5ev", "keep_colour": "true"}
    r = api.post("/api/v1/enhance", files={"file": ("night.jpg", src.read_bytes(), "image/jpeg")}, data=form)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert 'filename="night_enhanced.jpg"' in r.headers["content-disposition"]
    with Image.open(io.BytesIO(r.content)) as out:
        assert out.size == (h, w)  # EXIF orientation 6: turned upright
        exif = out.getexif()
        assert exif[0x010F] == "lowlight-test-camera" and exif.get(0x0112, 1) == 1
        assert out.info["icc_profile"] == icc
    result = CliRunner().invoke(
        cli,
        [
            "enhance",
            str(src),
            "-o",
            str(tmp_path / "cli"),
            "--strength",
            "0.6",
            "--exposure",
            "+0.5ev",
            "--keep-colour",
            *CLI_ARGS,
        ],
    )
    assert result.exit_code == 0, result.output
    expected = _pixels((tmp_path / "cli" / "night.jpg").read_bytes())
    got = _pixels(r.content)
    assert np.abs(got - expected).max() <= 1
    source = _pixels(src.read_bytes())
    assert got.mean() > source.mean() + 10  # really enhanced, not passed through


def test_page_docs_and_security_headers(api):
    page = api.get("/")
    assert page.status_code == 200 and 'id="drop"' in page.text
    assert (
        "default-src 'self'" in page.headers["content-security-policy"]
        and page.headers["x-frame-options"] == "DENY"
    )
    assert api.get("/static/controls.js").status_code == 200
    assert api.get("/static/..%2Fapp.py").status_code == 404  # only the page's own files, by name
    docs = api.get("/docs")
    assert (
        docs.status_code == 200 and "content-security-policy" not in docs.headers
    )  # Swagger UI loads from a CDN
    assert "/api/v1/jobs/{job_id}/events" in api.get("/openapi.json").json()["paths"]


def test_models_and_healthz(api):
    health = api.get("/healthz").json()
    assert health["ready"] is True and health["weights"] == "official" and "onnxruntime" in health["backend"]
    from lowlight_cli.weights.registry import BUNDLED, DEFAULT_WEIGHTS

    models = api.get("/api/v1/models").json()
    assert {m["name"] for m in models["bundled"]} == set(BUNDLED) >= {"official", DEFAULT_WEIGHTS}
    assert models["loaded"]["weights"] == "official"
    assert models["defaults"] == {"weights": DEFAULT_WEIGHTS}  # the page's copied command compares with it


def test_oversized_body_and_too_many_pixels_get_413(engine):
    with client(engine, max_body=50_000, max_pixels=100_000) as c:
        r = c.post("/api/v1/enhance", files={"file": ("big.jpg", b"\xff" * 60_000)})
        assert r.status_code == 413
        assert "over this server's limit of 0.05 MB (--max-body)" in r.json()["detail"]
        r = c.post(
            "/api/v1/enhance", files={"file": ("wide.jpg", jpeg_bytes(400, 300))}
        )  # 0.12 MP, small file
        assert r.status_code == 413
        assert r.json()["detail"] == (
            "wide.jpg: 400x300 = 0.12 MP is over this server's limit of 0.1 MP (--max-pixels)"
        )
        r = c.post(
            "/api/v1/jobs",
            files=[("files", ("ok.jpg", jpeg_bytes(64, 64))), ("files", ("wide.jpg", jpeg_bytes(400, 300)))],
        )
        assert r.status_code == 413 and r.json()["detail"].startswith("wide.jpg: 400x300")


def _multipart(name: str, data: bytes, boundary: str = "lowlight-test-boundary") -> tuple[bytes, dict]:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_oversized_chunked_body_gets_413_not_400(engine):
    """No Content-Length: the body is counted as it arrives and cut off with the documented 413 (it was the
    generic 400 "There was an error parsing the body"), in the test client and through a real uvicorn."""
    import http.client

    from _serve import LiveServer

    body, headers = _multipart("big.jpg", jpeg_bytes(64, 64) + bytes(100_000))
    expected = {"detail": "request body is over this server's limit of 0.05 MB (--max-body)"}
    with client(engine, max_body=50_000) as c:
        r = c.post(
            "/api/v1/enhance",
            content=(body[i : i + 8192] for i in range(0, len(body), 8192)),
            headers=headers,
        )
        assert (
            r.request.headers.get("transfer-encoding") == "chunked"
            and "content-length" not in r.request.headers
        )
        assert r.status_code == 413 and r.json() == expected
        assert r.headers["x-content-type-options"] == "nosniff"
        small, headers = _multipart("ok.jpg", jpeg_bytes(64, 64))  # under the limit, chunked too: enhanced
        assert c.post("/api/v1/enhance", content=iter([small]), headers=headers).status_code == 200

    server = LiveServer(create_app(ServeSettings(**SETTINGS, max_body=50_000).checked(), engine))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        conn.request(
            "POST",
            "/api/v1/enhance",
            body=(body[i : i + 8192] for i in range(0, len(body), 8192)),
            headers=_multipart("big.jpg", b"")[1],
            encode_chunked=True,
        )
        answer = conn.getresponse()
        assert answer.status == 413 and json.loads(answer.read()) == expected
        conn.close()
    finally:
        server.stop()


def test_invalid_form_and_query_values_are_one_line_naming_the_field_and_its_range(api):
    """Not pydantic's JSON list of errors: `detail` is one line, like every other error of the API."""
    photo_file = {"file": ("a.jpg", jpeg_bytes(64, 64))}
    cases = [
        ({"strength": "5"}, "strength 5 is out of range: must be between 0 and 1 (form field)"),
        ({"strength": "-0.5"}, "strength -0.5 is out of range: must be between 0 and 1 (form field)"),
        ({"quality": "0"}, "quality 0 is out of range: must be between 1 and 100 (form field)"),
    ]
    for form, detail in cases:
        r = api.post("/api/v1/enhance", files=photo_file, data=form)
        assert r.status_code == 422 and r.json() == {"detail": detail}, r.text
    r = api.post("/api/v1/enhance", files=photo_file, data={"strength": "lots"})
    assert r.status_code == 422 and r.json()["detail"].startswith(
        "strength 'lots': input should be a valid number"
    )
    r = api.post("/api/v1/enhance", data={"strength": "0.5"})
    assert r.status_code == 422 and r.json() == {"detail": "file: missing (a required form field)"}
    r = api.post(
        "/api/v1/jobs",
        files=[("files", ("a.jpg", jpeg_bytes(64, 64)))],
        data={"strength": "2", "quality": "101"},
    )
    assert r.status_code == 422 and r.json()["detail"] == (
        "strength 2 is out of range: must be between 0 and 1 (form field); "
        "quality 101 is out of range: must be between 1 and 100 (form field)"
    )
    r = api.get("/api/v1/jobs/nothing/zip", params={"strength": "7"})
    assert r.status_code == 422 and r.json() == {
        "detail": "strength 7 is out of range: must be between 0 and 1 (query parameter)"
    }


def test_token_missing_wrong_and_right(engine):
    with client(engine, token=TOKEN) as c:
        assert c.get("/healthz").status_code == 200  # readiness needs no token
        assert c.get("/").status_code == 200  # nor the page
        r = c.get("/api/v1/models")
        assert r.status_code == 401 and "Authorization: Bearer" in r.json()["detail"]
        assert (
            c.get("/api/v1/models", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code
            == 403
        )
        assert c.get("/api/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_off_loopback_a_token_is_generated():
    settings = ServeSettings(host="0.0.0.0").checked()
    assert settings.token and settings.token_generated and len(settings.token) >= 24
    assert ServeSettings(host="127.0.0.1").checked().token is None


def test_wildcard_cors_is_refused_and_named_origins_work(engine):
    from lowlight_cli.errors import LowlightError

    with pytest.raises(LowlightError, match="wildcards are refused"):
        ServeSettings(cors_origins=("*",)).checked()
    with client(engine, cors_origins=("http://localhost:3000",)) as c:
        ok = c.get("/api/v1/models", headers={"Origin": "http://localhost:3000"})
        assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = c.get("/api/v1/models", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_bad_host_header_is_refused(api):
    r = api.get("/api/v1/models", headers={"Host": "attacker.example:8000"})
    assert r.status_code == 400 and "DNS-rebinding" in r.json()["detail"]
    assert api.get("/healthz", headers={"Host": "localhost:8000"}).status_code == 200
    assert (
        api.get("/healthz", headers={"Host": "192.168.1.20:8000"}).status_code == 200
    )  # an IP cannot be rebound


def test_corrupt_upload_is_one_line_naming_the_file(api):
    r = api.post("/api/v1/enhance", files={"file": ("broken.jpg", b"not a photo at all")})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail == "broken.jpg: not an image (or a format Pillow cannot identify)"
    truncated = jpeg_bytes(200, 150)[:700]
    r = api.post("/api/v1/enhance", files={"file": ("cut.jpg", truncated)})
    assert (
        r.status_code == 400 and r.json()["detail"].startswith("cut.jpg: ") and "\n" not in r.json()["detail"]
    )


def test_job_progress_per_tile_zip_and_a_bad_file_in_the_batch(api, tiled, tmp_path):
    good = photo(tmp_path / "a.jpg", width=200, orientation=1).read_bytes()
    r = api.post(
        "/api/v1/jobs",
        files=[
            ("files", ("a.jpg", good)),
            ("files", ("../../etc/b.jpg", b"garbage")),
            ("files", ("c.jpg", good)),
        ],
        data={"strength": "0.8"},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    events = _events(api, job["id"])
    tiles = [e for e in events if e["type"] == "progress" and e["item"] == 1]
    assert len(tiles) > 1 and tiles[-1]["done"] == tiles[-1]["total"] > 1  # several tiles, each reported
    final = events[-1]["job"]
    assert events[-1]["type"] == "end" and final["status"] == "done"
    assert [i["status"] for i in final["items"]] == ["done", "failed", "done"]
    assert final["items"][1]["error"] == "b.jpg: not an image (or a format Pillow cannot identify)"
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/v1/jobs/{job['id']}/zip").content))
    assert archive.namelist() == ["001_a_enhanced.jpg", "003_c_enhanced.jpg"]
    one = api.get(f"/api/v1/jobs/{job['id']}/items/1/result")
    assert archive.read("001_a_enhanced.jpg") == one.content  # the job's own settings (strength 0.8)
    lighter = api.get(f"/api/v1/jobs/{job['id']}/items/1/result", params={"strength": 0.3})
    assert _pixels(lighter.content).mean() < _pixels(one.content).mean() - 3  # re-rendered, no new inference
    assert api.get(f"/api/v1/jobs/{job['id']}/items/2/result").status_code == 409
    assert api.delete(f"/api/v1/jobs/{job['id']}").json()["status"] == "deleted"
    assert api.get(f"/api/v1/jobs/{job['id']}").status_code == 404


def test_cancel_stops_a_job_between_tiles(api, engine, tiled, tmp_path):
    big = photo(tmp_path / "big.jpg", width=480, orientation=1).read_bytes()  # 480x320: 12 tiles of 128
    r = api.post("/api/v1/jobs", files=[("files", (f"{n}.jpg", big)) for n in range(4)])
    job_id = r.json()["id"]
    cancelled = threading.Event()

    def on_event(event):
        if event["type"] == "progress" and not cancelled.is_set():
            cancelled.set()
            assert api.delete(f"/api/v1/jobs/{job_id}").json()["status"] == "cancelling"

    events = _events(api, job_id, on_event)
    final = api.get(f"/api/v1/jobs/{job_id}").json()
    assert final["status"] == "cancelled"
    statuses = [i["status"] for i in final["items"]]
    assert statuses.count("cancelled") >= 3, (
        statuses
    )  # the running ones stopped, the waiting ones never started
    stopped = [i for i in final["items"] if i["status"] == "cancelled" and i["progress"][1]]
    assert stopped and all(i["progress"][0] < i["progress"][1] for i in stopped)  # mid-photo, between tiles
    assert events[-1]["type"] == "end"
    # promptly, counted in work and not in seconds (which a busy machine stretches): after the cancel, each
    # worker finishes at most the tile it was on, of the 48 there are
    after = events[[e["type"] for e in events].index("cancelling") + 1 :]
    assert sum(e["type"] == "progress" for e in after) <= engine.workers, after


def test_concurrent_requests_are_all_answered_alike(api):
    """6 requests at once: every one answered, with the same bytes, while two workers share the model."""
    body = jpeg_bytes(160, 120, seed=3)

    def send(_):
        r = api.post("/api/v1/enhance", files={"file": ("n.jpg", body)}, data={"strength": "0.9"})
        return r.status_code, r.content

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(send, range(6)))
    assert [code for code, _ in results] == [200] * 6
    assert len({content for _, content in results}) == 1


@pytest.mark.slow
def test_memory_is_bounded_under_concurrent_requests(api):
    """8 requests at once for a 0.75 MP photo raise peak RSS no more than 2 do: photos are decoded only when
    one of the two workers takes them, so memory follows the workers, not the requests."""
    import psutil

    body = jpeg_bytes(1000, 750, seed=4)
    proc = psutil.Process()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.01)

    def send(_):
        return api.post("/api/v1/enhance", files={"file": ("n.jpg", body)}).status_code

    def burst(n: int) -> int:
        peak[0] = proc.memory_info().rss
        with ThreadPoolExecutor(n) as pool:
            assert list(pool.map(send, range(n))) == [200] * n
        return peak[0]

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        base = proc.memory_info().rss
        two = burst(2) - base
        eight = burst(8) - base
    finally:
        stop.set()
        sampler.join()
    assert eight < 1.5 * two + 64e6, (two / 1e6, eight / 1e6)


def test_video_job_progress_per_frame_and_result(api, tmp_path):
    """One short video as a job: progress events per batch of frames, the enhanced video downloadable."""
    import av
    from test_video import make_clip

    clip = make_clip(tmp_path / "clip.mp4", size=(64, 48), frames=6, audio=False)
    r = api.post("/api/v1/jobs", files=[("files", ("clip.mp4", clip.read_bytes()))], data={"strength": "0.8"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "video"
    events = _events(api, job["id"])
    frames = [e for e in events if e["type"] == "progress"]
    assert frames and all(e["unit"] == "frame" for e in frames) and frames[-1]["done"] == 6
    assert events[-1]["job"]["status"] == "done"
    out = tmp_path / "out.mp4"
    result = api.get(f"/api/v1/jobs/{job['id']}/items/1/result")
    assert 'filename="clip_enhanced.mp4"' in result.headers["content-disposition"]
    out.write_bytes(result.content)
    with av.open(str(out)) as container, av.open(str(clip)) as source:
        got = [f.to_ndarray(format="rgb24").mean() for f in container.decode(video=0)]
        src = [f.to_ndarray(format="rgb24").mean() for f in source.decode(video=0)]
    assert len(got) == 6 and min(g - s for g, s in zip(got, src, strict=True)) > 5  # every frame brighter
    both = api.post("/api/v1/jobs", files=[("files", ("clip.mp4", b"x")), ("files", ("a.jpg", b"y"))])
    assert both.status_code == 400 and both.json()["detail"] == "a job holds photos, or exactly one video"


def test_full_queue_is_503(engine):
    with client(engine, max_queue=1) as c:
        engine_settings = engine.settings
        engine.settings = ServeSettings(**SETTINGS, max_queue=1)
        try:
            body = jpeg_bytes(160, 120)
            with ThreadPoolExecutor(6) as pool:
                codes = list(
                    pool.map(
                        lambda _: c.post("/api/v1/enhance", files={"file": ("q.jpg", body)}).status_code,
                        range(6),
                    )
                )
        finally:
            engine.settings = engine_settings
    assert 503 in codes and 200 in codes


def test_cli_refuses_bad_options_in_one_line():
    for args, message in (
        (["--cors-origin", "*"], "wildcards are refused"),
        (["--max-pixels", "lots"], "--max-pixels 'lots'"),
        (["--token", "short"], "at least 16 characters"),
    ):
        result = CliRunner().invoke(cli, ["serve", *args])
        assert (
            result.exit_code == 1
            and message in result.output
            and len(result.output.strip().splitlines()) == 1
        )


def test_denoise_field_matches_the_cli_and_is_range_checked(api, tmp_path):
    """`denoise` (as --denoise): the served photo equals `lowlight enhance --denoise 0` within 1 level; an
    out-of-range value is a one-line detail naming the field."""
    src = photo(tmp_path / "grain.jpg", width=200)
    r = api.post(
        "/api/v1/enhance",
        files={"file": ("grain.jpg", src.read_bytes(), "image/jpeg")},
        data={"denoise": "0"},
    )
    assert r.status_code == 200, r.text
    result = CliRunner().invoke(
        cli, ["enhance", str(src), "-o", str(tmp_path / "cli"), "--denoise", "0", *CLI_ARGS]
    )
    assert result.exit_code == 0, result.output
    assert np.abs(_pixels(r.content) - _pixels((tmp_path / "cli" / "grain.jpg").read_bytes())).max() <= 1
    full = api.post("/api/v1/enhance", files={"file": ("grain.jpg", src.read_bytes(), "image/jpeg")})
    assert not np.array_equal(_pixels(full.content), _pixels(r.content))
    bad = api.post(
        "/api/v1/enhance",
        files={"file": ("grain.jpg", src.read_bytes(), "image/jpeg")},
        data={"denoise": "2"},
    )
    assert bad.status_code == 422 and "denoise" in bad.json()["detail"] and "\n" not in bad.json()["detail"]
