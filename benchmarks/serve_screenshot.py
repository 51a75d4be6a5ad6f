"""The screenshot of the `lowlight serve` page in the README (docs/images/serve.png).

    python -m benchmarks serve_screenshot [--out docs/images/serve.png]

Starts `python -m lowlight_cli serve` (official weights, onnx backend), opens the page in headless Chromium
(Debian's chromium + chromium-driver, paths given: nothing is downloaded), drops the sample photo and a
broken file, sets strength 0.85, exposure auto and keep-colour, shows the `lowlight enhance` command, and
saves the window as a 256-colour PNG.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from benchmarks.paths import ROOT
from benchmarks.serve_bench import free_port, serve_command

SAMPLE = ROOT / "tests/data/official/sample_5047.jpg"


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/serve.png")
    parser.add_argument("--size", default="1280x900")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        serve_command(port),
        cwd=ROOT,
    )
    work = Path(tempfile.mkdtemp())
    broken = work / "IMG_0412.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 cut short")
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("LOWLIGHT_CHROMIUM") or shutil.which("chromium")
    w, h = (int(v) for v in args.size.split("x"))
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={w},{h}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(
        service=Service(os.environ.get("LOWLIGHT_CHROMEDRIVER") or shutil.which("chromedriver")),
        options=options,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("the server did not start")
            time.sleep(0.2)
        driver.get(f"http://127.0.0.1:{port}/")
        for path in (SAMPLE, broken):
            driver.execute_script(
                "const i = document.createElement('input'); i.type = 'file'; i.className = 'shot';"
                "i.style.display = 'none'; document.body.appendChild(i);"
            )
            driver.find_elements(By.CSS_SELECTOR, "input.shot")[-1].send_keys(str(path))
        driver.execute_script(
            "const dt = new DataTransfer(); for (const i of document.querySelectorAll('input.shot')) "
            "dt.items.add(i.files[0]); document.getElementById('drop').dispatchEvent("
            "new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));"
        )
        after = driver.find_element(By.ID, "after")
        while not after.get_attribute("data-rendered"):
            if time.monotonic() > deadline + 300:
                sys.exit("no result shown")
            time.sleep(0.2)
        driver.execute_script(
            "const s = document.getElementById('strength'); s.value = 0.85;"
            "s.dispatchEvent(new Event('input'));"
        )
        Select(driver.find_element(By.ID, "exposure-mode")).select_by_value("auto")
        driver.find_element(By.ID, "keep-colour").click()  # the server sends the keep-colour base once
        time.sleep(0.5)
        while '"keepColour":true' not in (after.get_attribute("data-rendered") or ""):
            time.sleep(0.2)
        driver.find_element(By.ID, "copy-cli").click()
        time.sleep(1.0)
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    if os.environ.get("LOWLIGHT_SHOT_RAW"):  # the unreduced screenshot, to check the palette hides nothing
        Path(os.environ["LOWLIGHT_SHOT_RAW"]).write_bytes(png)
    image = (
        Image.open(io.BytesIO(png))
        .convert("RGB")
        .quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, optimize=True)
    print(f"{args.out}: {image.size[0]}x{image.size[1]}, {args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
