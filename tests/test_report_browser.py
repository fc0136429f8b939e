"""The report page in a real browser: headless Chromium renders its charts and requests nothing.

The page is opened through the DevTools protocol, which reports every request
the page makes (a control page with one remote image shows it does) and lets
the test ask the page whether each image decoded; the browser is kept off the
network anyway (a proxy where nothing listens, no DNS). A screenshot taken with
``chromium --headless --screenshot`` must show the charts' colours.
"""

from __future__ import annotations

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
WINDOW = (1200, 3000)


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


def screenshot(chromium: str, page, shot, tmp_path) -> None:
    """``chromium --headless --screenshot``, as a person would take one."""
    command = [chromium, *QUIET, *ISOLATED, f"--user-data-dir={tmp_path / 'profile-shot'}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]


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
            if not select.select([self._reader], [], [], max(deadline - time.monotonic(), 0))[0]:
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


def test_chromium_renders_the_charts_without_network(chromium, devtools, report_page, tmp_path):
    from matplotlib.image import imread

    from dumpproc.report.charts import PALETTE

    session = devtools.open(report_page.as_uri())
    assert report_page.as_uri() in devtools.requested(session)  # the recording works for this tab
    assert network_requests(devtools, session, report_page.as_uri()) == []
    images = devtools.evaluate(IMAGES, session)
    assert len(images) == 4 and all(done and width == 1000 and height >= 300 for done, width, height in images)
    shot = tmp_path / "shot.png"
    screenshot(chromium, report_page, shot, tmp_path)
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    colours = {tuple(p) for p in (pixels[::4, ::4] * 255).round().astype(int).reshape(-1, 3)}
    assert len(colours) > 50, "the screenshot is blank or nearly"
    for series in ("registered", "anonymous", "grow", "shrink"):  # bars of two different charts
        rgb = [int(PALETTE[series][i:i + 2], 16) / 255 for i in (1, 3, 5)]
        near = (abs(pixels - rgb).max(axis=-1) < 6 / 255).sum()
        assert near > 300, f"{series} bars are not in the screenshot ({near} pixels)"
