"""A real headless Chromium for the control page's tests: Debian's `chromium` and
`chromium-driver` driven by selenium (nothing downloaded), and a show run beside it.

The show runs on the test's main thread (showdriver.drive); the browser's steps run on a
worker thread and read the frames the show shows through `Frames`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from showdriver import drive, until

from livegan.perform import Performance
from livegan.show.frames import Frame

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# the flags every run uses: no sandbox (containers), no GPU, nothing fetched from the network
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")
WAIT = 20.0  # seconds a page condition may take (a generous bound: each wait ends early)


def require_chromium() -> None:
    """Skip the calling test module where Chromium, its driver or selenium is missing; in CI
    (CI=true) fail instead, so that a broken install never passes as a skip."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = f"browser tests need {', '.join(missing)} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


class Page:
    """One Chromium window on a page; every method waits at most WAIT seconds.

    Args:
        size: the window's CSS pixels (width, height).
        mobile: a phone's viewport (touch, device pixel ratio 2).
    """

    def __init__(self, size: tuple[int, int] = (1440, 1000), mobile: bool = False) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="livegan-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}",
                     f"--window-size={size[0]},{size[1]}"):
            options.add_argument(flag)
        if mobile:
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
                "width": size[0], "height": size[1], "pixelRatio": 2, "touch": True}})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(WAIT)

    def open(self, url: str) -> Page:
        self.driver.get(url)
        return self

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, script: str, *args: Any, timeout: float = WAIT, what: str = "") -> Any:
        """Wait until the JavaScript expression `return ...` in `script` is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed {what or script!r}")
            time.sleep(0.05)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        self.wait("return document.querySelector(arguments[0]) !== null", css, what=css)
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click(self, css: str) -> None:
        """A real click (the pointer moves there and presses) on the first match of `css`."""
        element = self.find(css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def type(self, css: str, text: str, clear: bool = True) -> None:
        """Type `text` into a field ("\n" presses Enter)."""
        from selenium.webdriver.common.keys import Keys

        element = self.find(css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        if clear:  # as a performer selects what is there and types over it
            element.send_keys(Keys.CONTROL, "a")
            element.send_keys(Keys.DELETE)
        element.send_keys(text)

    def drag_slider(self, css: str, fraction: float) -> None:
        """Press a range input at `fraction` (0 left .. 1 right) of its width and let go:
        the pointer events a performer's finger or mouse makes."""
        from selenium.webdriver.common.action_chains import ActionChains

        element = self.find(css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        width = element.size["width"]
        offset = round((fraction - 0.5) * (width - 28))  # the thumb's centre stays inside
        ActionChains(self.driver).move_to_element_with_offset(element, offset, 0) \
            .click_and_hold().move_by_offset(1, 0).move_by_offset(-1, 0).release().perform()

    def value(self, address: str, index: int = 0) -> float:
        """The number a slider of `address` shows now."""
        return float(self.js(
            "const i = document.querySelector(`.row.slider[data-address='${arguments[0]}']"
            "[data-index='${arguments[1]}'] input[type=range]`); return i ? i.value : NaN;",
            address, index))

    def screenshot(self, path: Path) -> Path:
        """The window as a PNG at `path` (the pointer moved off the controls first)."""
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).move_to_element(self.find("#link")).perform()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path

    def errors(self) -> list[str]:
        """The page's JavaScript errors since the last call (network 404s of retried
        thumbnails are not errors)."""
        return [e["message"] for e in self.driver.get_log("browser")
                if e["level"] == "SEVERE" and e.get("source") != "network"]

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


class Frames:
    """The frames a show shows, kept for a worker thread (newest last)."""

    def __init__(self, keep: int = 64) -> None:
        self._frames: deque[tuple[int, int, np.ndarray]] = deque(maxlen=keep)  # n, version
        self._shown = 0
        self._arrived = threading.Condition()

    def add(self, frame: Frame) -> None:
        with self._arrived:
            self._shown += 1
            self._frames.append((self._shown, frame.version, frame.pixels.copy()))
            self._arrived.notify_all()

    def after(self, version: int, count: int = 1, timeout: float = WAIT) -> list[np.ndarray]:
        """The pixels of the first `count` frames rendered from control state `version` or
        newer (frames already in flight are skipped)."""
        return self._take(lambda n, v: v >= version, count, timeout)

    def next(self, count: int = 1, timeout: float = WAIT) -> list[np.ndarray]:
        """The pixels of the next `count` frames shown from now on."""
        with self._arrived:
            shown = self._shown
        return self._take(lambda n, v: n > shown, count, timeout)

    def _take(self, wanted: Callable[[int, int], bool], count: int,
              timeout: float) -> list[np.ndarray]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                taken = [p for n, v, p in self._frames if wanted(n, v)]
                if len(taken) >= count:
                    return taken[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fewer than {count} frames within {timeout} s")
                self._arrived.wait(left)


Steps = Callable[[Performance, Frames], None]


def run_beside(show: Performance, steps: Steps, limit: float = 60.0) -> None:
    """Run `show` on this thread and `steps(show, frames)` on a worker thread; the show
    quits when the steps return. An assertion in the steps fails the test."""
    frames = Frames()
    done = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            steps(show, frames)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test thread below
            failure.append(exc)
        finally:
            done.set()

    def script(show: Performance):
        yield
        threading.Thread(target=work, name="browser-steps", daemon=True).start()
        yield from until(done.is_set)

    drive(show, script, limit, check=frames.add)
    if failure:
        raise failure[0]


def differ(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 frames, in levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
