"""The report page in a real browser: headless Chromium renders its charts and requests nothing.

The page is opened through the DevTools protocol, which reports every request
the page makes (a control page with one remote image shows it does) and lets
the test ask the page whether each image decoded; the browser is kept off the
network anyway (a proxy where nothing listens, no DNS). A screenshot of the
whole page, its full content height captured beyond a short viewport, must show
every chart's colours and reach the page's last section.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
from html.parser import HTMLParser

import pytest

from conftest import SAMPLE
from dumpproc.cli import main

pytest.importorskip("matplotlib", reason="matplotlib is in the report extra: pip install -e '.[report]'")
pytest.importorskip("duckdb", reason="DuckDB is in the report extra: pip install -e '.[report]'")

BROWSERS = ("chromium", "chromium-browser")
#: Far shorter than the page, so that a capture of the whole page must reach beyond the viewport.
WINDOW = (1200, 800)


def _find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: found on PATH, else installed with apt-get when running as root, else a skip."""
    found = _find_browser()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("no chromium on PATH, and not root with apt-get to install Debian's chromium package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
        if done.returncode != 0:
            pytest.skip(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    found = _find_browser()
    if not found:
        pytest.skip("apt-get installed chromium, but no chromium is on PATH")
    return found


#: Keep the browser off the network whatever a page asks: a proxy where nothing listens, no DNS.
ISOLATED = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND")
QUIET = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-extensions", "--mute-audio")


class DevTools:
    """Chromium driven through the DevTools protocol on ``--remote-debugging-pipe``.

    Messages are JSON ended by NUL, written to the browser's fd 3 and read from
    its fd 4. Unlike a proxy, the protocol attributes each request to the page
    that made it: the browser's own background requests are not counted.
    """

    def __init__(self, chromium: str, tmp_path):
        to_browser, self._writer = os.pipe()
        self._reader, from_browser = os.pipe()

        def fds():  # runs in the child before it closes the other descriptors
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [chromium, *QUIET, *ISOLATED, "--remote-debugging-pipe", f"--user-data-dir={tmp_path / 'profile'}",
             "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            # poll, not select: select() refuses descriptors past 1023, which a long test session reaches
            waiting = select.poll()
            waiting.register(self._reader, select.POLLIN)
            if not waiting.poll(max(deadline - time.monotonic(), 0) * 1000):
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self._reader, 1 << 20)
            if not chunk:
                raise EOFError("the browser closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._writer, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, session: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            self.events.append(message)
            if message.get("method") == event and message.get("sessionId") == session:
                return message

    def open(self, url: str) -> str:
        """Load ``url`` in a new tab, with its network events recorded; returns the tab's session."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": WINDOW[0], "height": WINDOW[1],
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        return session

    def requested(self, session: str) -> list[str]:
        """Every URL the tab asked for, its own page and data: URIs included."""
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session]

    def screenshot(self, session: str) -> tuple[bytes, dict]:
        """A PNG of the whole page, its full content height, and the layout size it was taken at (CSS pixels)."""
        metrics = self.call("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]  # the former in newer Chromium
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip},
                         session, timeout=60)
        return base64.b64decode(shot["data"]), size

    def evaluate(self, expression: str, session: str):
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)[
            "result"]["value"]

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, EOFError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._reader)
        os.close(self._writer)


@pytest.fixture
def devtools(chromium, tmp_path):
    browser = DevTools(chromium, tmp_path)
    yield browser
    browser.close()


def network_requests(browser: DevTools, session: str, page_url: str) -> list[str]:
    return [url for url in browser.requested(session) if url != page_url and not url.startswith("data:")]


IMAGES = "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"


class _References(HTMLParser):
    """Every src, href and CSS url() of a page."""

    def __init__(self):
        super().__init__()
        self.references: list[str] = []
        self.csp = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.references += [attrs[name] for name in ("src", "href", "srcset", "action", "poster") if name in attrs]
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = attrs["content"]

    def handle_data(self, data):
        self.references += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    assert main(["process", str(SAMPLE), "-o", str(root / "out"), "-j", "1"]) == 0
    assert main(["report", str(root / "out"), "-o", str(root / "report.html")]) == 0
    return root / "report.html"


def test_page_references_nothing_outside_itself(report_page):
    parser = _References()
    parser.feed(report_page.read_text())
    assert parser.references, "the page has its charts"
    assert all(ref.startswith(("data:", "#")) for ref in parser.references), parser.references
    assert parser.csp and "default-src 'none'" in parser.csp


def test_control_page_request_is_seen(devtools, tmp_path):
    control = tmp_path / "control.html"
    control.write_text('<!doctype html><img src="http://report-test.invalid/chart.png">')
    session = devtools.open(control.as_uri())
    assert network_requests(devtools, session, control.as_uri()) == ["http://report-test.invalid/chart.png"]
    assert devtools.evaluate(IMAGES, session) == [[True, 0, 0]]  # a broken image: the check below can fail


#: Where the page's last section lies, in CSS pixels from the top of the document.
LAST_SECTION = """(() => {
  const sections = document.querySelectorAll('body > section');
  const last = sections[sections.length - 1], box = last.getBoundingClientRect();
  return [last.id, box.top + window.scrollY, box.bottom + window.scrollY, document.documentElement.scrollHeight];
})()"""


#: Each chart's box in the document, in CSS pixels: id -> [left, top, right, bottom].
CHART_BOXES = """Object.fromEntries(Array.from(document.querySelectorAll('figure img')).map(i => {
  const box = i.getBoundingClientRect();
  return [i.parentElement.id, [box.left + window.scrollX, box.top + window.scrollY,
                               box.right + window.scrollX, box.bottom + window.scrollY]];
}))"""

#: The colours each chart must show, and how many pixels at least: bars fill areas, lines are thin.
CHART_COLOURS = {
    "chart-activity": (("registered", "anonymous"), 300),
    "chart-anonymous": (("anonymous",), 20),
    "chart-reverts": (("revert", "reverted", "revert_reference", "reverted_reference"), 20),
    "chart-bytes": (("grow", "shrink"), 300),
}


def pixels_near(pixels, colour: str):
    """How many pixels are within 6/255 of ``#rrggbb`` on every channel."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(pixels - rgb).max(axis=-1) < 6 / 255).sum())


def test_chromium_renders_the_charts_without_network(devtools, report_page):
    from matplotlib.image import imread

    from dumpproc.report.charts import PALETTE

    session = devtools.open(report_page.as_uri())
    assert report_page.as_uri() in devtools.requested(session)  # the recording works for this tab
    assert network_requests(devtools, session, report_page.as_uri()) == []
    images = devtools.evaluate(IMAGES, session)
    assert len(images) == 4 and all(done and width == 1000 and height >= 300 for done, width, height in images)
    png, size = devtools.screenshot(session)
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    last, top, bottom, page_height = devtools.evaluate(LAST_SECTION, session)
    # the whole page, not the viewport: as tall as the document, which is far taller than the window
    assert pixels.shape[:2] == (round(size["height"]), round(size["width"]))
    assert pixels.shape[0] >= page_height > 2 * WINDOW[1]
    assert last == "definitions" and bottom <= pixels.shape[0]
    ink = (pixels[int(top):int(bottom)].max(axis=-1) < 0.4).sum()  # the last section's text is in the capture
    assert ink > 1000, f"the last section ({top:.0f}-{bottom:.0f} px) looks blank in the capture ({ink} dark pixels)"
    colours = {tuple(p) for p in (pixels[::4, ::4] * 255).round().astype(int).reshape(-1, 3)}
    assert len(colours) > 50, "the screenshot is blank or nearly"
    boxes = devtools.evaluate(CHART_BOXES, session)
    assert set(boxes) == set(CHART_COLOURS)
    for chart, (series, least) in CHART_COLOURS.items():  # each chart's colours inside its own box
        left, top, right, bottom = (round(v) for v in boxes[chart])
        assert bottom <= pixels.shape[0], f"{chart} lies below the capture"
        for name in series:
            near = pixels_near(pixels[top:bottom, left:right], PALETTE[name])
            assert near > least, f"{chart} does not show {name} ({near} pixels of {PALETTE[name]})"
