"""Helpers for the `lowlight serve` tests: small real photos with metadata, a live server in a thread."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

import numpy as np
from conftest import SAMPLE
from PIL import Image, ImageCms

TILE = 0
"""Untiled: on a shared 2-core machine a tiled small photo costs several times an untiled one. The tests of
per-tile progress and cancel switch tiling on (`tiled`)."""
SETTINGS = dict(weights="official", backend="onnx", device="cpu", tile=TILE)
"""The same on both sides of every server-vs-CLI comparison."""
CLI_ARGS = ["--weights", "official", "--backend", "onnx", "--device", "cpu", "--tile", str(TILE)]


def photo(path: Path, width: int = 240, orientation: int = 6) -> Path:
    """A JPEG cut from the sample night photo, `width` px wide, with EXIF (camera make, an orientation) and
    an sRGB ICC profile, so a result can be checked for kept metadata and applied orientation."""
    im = Image.open(SAMPLE).convert("RGB")
    im = im.resize((width, round(width * im.height / im.width)), Image.Resampling.BOX)
    exif = Image.Exif()
    exif[0x010F] = "lowlight-test-camera"  # Make
    exif[0x0112] = orientation
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(path, "JPEG", quality=92, exif=exif.tobytes(), icc_profile=icc)
    return path


def jpeg_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A dark, smooth random picture as JPEG bytes (small files even for many pixels)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(
        rng.integers(0, 60, (max(1, height // 16), max(1, width // 16), 3), dtype=np.uint8)
    )
    buf = io.BytesIO()
    coarse.resize((width, height), Image.Resampling.BILINEAR).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving `app` on a free loopback port in a background thread (stop with `.stop()`)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
