"""The `lowlight serve` page in headless Chromium (Debian's chromium + chromium-driver, paths given, nothing
downloaded): drop a photo, see the result, move the strength slider, download, compare with the CLI."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shlex
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from _serve import CLI_ARGS, SETTINGS, LiveServer
from conftest import SAMPLE
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app as cli
from lowlight_cli.serve.app import create_app
from lowlight_cli.serve.settings import ServeSettings

pytestmark = pytest.mark.integration  # a live server driven by Chromium through Selenium

APT = "apt-get install -y chromium chromium-driver"


def browser_paths() -> tuple[str, str]:
    """Chromium and its driver: $LOWLIGHT_CHROMIUM / $LOWLIGHT_CHROMEDRIVER, else on PATH
    (Debian packages)."""
    binary = (
        os.environ.get("LOWLIGHT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    driver = os.environ.get("LOWLIGHT_CHROMEDRIVER") or shutil.which("chromedriver")
    if not (binary and driver):
        pytest.fail(f"the browser test needs Chromium and its driver: {APT} (CI does; see .ci/run)")
    return binary, driver


def start_browser(downloads: Path, size: tuple[int, int] = (1400, 860)):
    """Headless Chromium driven through the given driver binary: Selenium Manager never runs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={size[0]},{size[1]}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def drop_file(driver, path: Path) -> None:
    """Drop `path` on the page's drop zone: a real File in a DataTransfer, dispatched as a `drop` event."""
    from selenium.webdriver.common.by import By

    driver.execute_script(
        "const i = document.createElement('input'); i.type = 'file'; i.id = 'test-file';"
        "i.style.display = 'none'; document.body.appendChild(i);"
    )
    driver.find_element(By.ID, "test-file").send_keys(str(path))
    driver.execute_script(
        "const dt = new DataTransfer(); dt.items.add(document.getElementById('test-file').files[0]);"
        "document.getElementById('drop').dispatchEvent("
        "new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));"
    )


def shown_pixels(driver) -> np.ndarray:
    """The 'after' canvas at full resolution, as the page computed it."""
    url = driver.execute_script("return document.getElementById('after').toDataURL('image/png');")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"), np.int16)


def page_state(driver) -> str:
    """What the page shows and logged, for a failure message: the server line, the queue, the console."""
    from selenium.webdriver.common.by import By

    shown = {i: driver.find_element(By.ID, i).text for i in ("server", "queue", "hint", "stats")}
    return f"page {shown}; console {[e.get('message') for e in driver.get_log('browser')]}"


def wait(predicate, seconds: float = 120, what: str = "the page", driver=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f": {page_state(driver)}" if driver else ""))


@contextlib.contextmanager
def served_page(downloads: Path):
    """A live `lowlight serve` app and headless Chromium on its page, once the page shows the server line."""
    from selenium.webdriver.common.by import By

    server = LiveServer(create_app(ServeSettings(**SETTINGS).checked()))
    driver = start_browser(downloads)
    try:
        driver.get(server.url + "/")
        server_line = driver.find_element(By.ID, "server")
        wait(lambda: "official" in server_line.text, what="the server line", driver=driver)
        yield driver
    finally:
        driver.quit()
        server.stop()


def test_page_drop_slider_download_matches_cli(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    src = tmp_path / "street.png"
    im = Image.open(SAMPLE).convert("RGB")
    im.resize((320, round(320 * im.height / im.width)), Image.Resampling.BOX).save(src)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with served_page(downloads) as driver:
        drop_file(driver, src)
        after = driver.find_element(By.ID, "after")
        wait(lambda: after.get_attribute("data-rendered"), what="the first result", driver=driver)
        row = driver.find_element(By.CSS_SELECTOR, "#queue li")
        assert "street.png" in row.text and "done" in row.text
        full = shown_pixels(driver)
        assert full.shape[:2] == (im.height * 320 // im.width, 320) or full.shape[1] == 320

        slider = driver.find_element(By.ID, "strength")
        slider.click()
        slider.send_keys(Keys.END)  # keyboard on the real slider: 1.00, then down in 0.01 steps
        for _ in range(40):
            slider.send_keys(Keys.ARROW_LEFT)
        Select(driver.find_element(By.ID, "exposure-mode")).select_by_value("ev")  # +0.5 EV by default
        wait(
            lambda: (
                '"strength":0.6' in after.get_attribute("data-rendered")
                and '"ev":0.5' in after.get_attribute("data-rendered")
            ),
            what="the re-rendered preview",
            driver=driver,
        )
        moved = shown_pixels(driver)
        assert np.abs(moved - full).mean() > 2  # the shown pixels changed with the sliders

        driver.find_element(By.ID, "download").click()
        files = wait(lambda: [p for p in downloads.iterdir() if p.suffix == ".png"], what="the download")
        downloaded = np.asarray(Image.open(files[0]).convert("RGB"), np.int16)
        assert files[0].name == "street_enhanced.png"
        # what was shown is what was downloaded: the page's controls.js against the server's Controls.apply
        diff = np.abs(downloaded - moved)
        assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 2, (diff.mean(), diff.max())
        # and the download is what the page's "Copy as lowlight enhance" command gives: the settings and the
        # weights the page showed (the server runs `official`, not the CLI's default: --weights must be there)
        driver.find_element(By.ID, "copy-cli").click()
        copied = wait(
            lambda: driver.find_element(By.ID, "command").get_attribute("textContent"), what="the command"
        )
        words = shlex.split(copied.split("\n")[0])
        assert words[:3] == ["lowlight", "enhance", "street.png"], copied
        assert set(words[3:]) >= {"--strength", "0.6", "--exposure", "+0.5ev", "--weights", "official"}, (
            copied
        )
        out = tmp_path / "cli"
        runtime = list(
            CLI_ARGS
        )  # backend, device and tiling as the server's; the weights from the copied command
        at = runtime.index("--weights")
        del runtime[at : at + 2]
        result = CliRunner().invoke(cli, ["enhance", str(src), *words[3:], "-o", str(out), *runtime])
        assert result.exit_code == 0, result.output
        expected = np.asarray(Image.open(out / "street.png").convert("RGB"), np.int16)
        assert np.abs(downloaded - expected).max() <= 1
        if os.environ.get("LOWLIGHT_SERVE_SCREENSHOT"):
            driver.save_screenshot(os.environ["LOWLIGHT_SERVE_SCREENSHOT"])


def test_page_shows_a_photo_that_finished_before_it_followed_the_job(tmp_path):
    """The page opens a job's event stream only after the upload answers; a small photo can be done by then.
    The stream's snapshot then says 'done', and the page shows the result as if it had seen it finish."""
    from selenium.webdriver.common.by import By

    src = tmp_path / "small.png"
    Image.open(SAMPLE).convert("RGB").resize((96, 64), Image.Resampling.BOX).save(src)
    with served_page(tmp_path) as driver:
        # hold the event stream's request until the job's own state (asked for directly) says done
        driver.execute_script(
            "const f = window.fetch; window.fetch = async (url, options) => {"
            "  const m = String(url).match(/^(.*\\/jobs\\/[0-9a-f]+)\\/events$/);"
            "  if (m) { for (;;) { const s = await (await f(m[1], options)).json();"
            "    if (s.status !== 'queued' && s.status !== 'running') break;"
            "    await new Promise((r) => setTimeout(r, 100)); } window.heldEvents = true; }"
            "  return f(url, options); };"
        )
        drop_file(driver, src)
        after = driver.find_element(By.ID, "after")
        wait(lambda: after.get_attribute("data-rendered"), what="the result", driver=driver)
        assert driver.execute_script("return window.heldEvents === true")  # the stream did open late
        row = driver.find_element(By.CSS_SELECTOR, "#queue li")
        assert "small.png" in row.text and "done" in row.text
        assert driver.find_element(By.ID, "download").is_enabled()
        assert driver.find_element(By.ID, "download-zip").is_enabled()
