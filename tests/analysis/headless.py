"""Opening a page in headless Chromium and reporting what happened, using the DevTools
protocol over a pipe (--remote-debugging-pipe: JSON messages separated by NUL bytes on file
descriptors 3 and 4), so nothing beyond the standard library and Debian's `chromium` is needed.
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Waits for every image to decode; returns one record per <img>.
IMAGES_JS = """(async () => {
  const out = [];
  for (const img of document.images) {
    let decoded = true;
    try { await img.decode(); } catch (e) { decoded = false; }
    out.push({decoded, complete: img.complete, width: img.naturalWidth,
              height: img.naturalHeight, alt: img.alt});
  }
  return out;
})()"""


class PageCheck:
    """What loading a page did: console errors, requested URLs, the images, a screenshot."""

    def __init__(self, errors, requests, images, title):
        self.errors = errors
        self.requests = requests
        self.images = images
        self.title = title


def check_page(page: Path, screenshot: Path, width: int = 1200, timeout: float = 90.0) -> PageCheck:
    """Load page (a local file) in headless Chromium, wait for the load event and for every
    image to decode, save a full-page PNG screenshot, and return what happened."""
    with tempfile.TemporaryDirectory(prefix="csei-chromium-") as profile:
        log = Path(profile) / "stderr.log"
        with _Browser(profile, log, timeout) as browser:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Runtime", "Log", "Page", "Network"):
                browser.call(f"{domain}.enable", {}, session)
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                         session)
            browser.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
            browser.wait_for("Page.loadEventFired")
            images = browser.evaluate(IMAGES_JS, session)
            title = browser.evaluate("document.title", session)
            size = browser.call("Page.getLayoutMetrics", {}, session)["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            shot = browser.call(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True, "clip": clip},
                session,
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            events = browser.events
    return PageCheck(_errors(events), _requests(events), images, title)


def _errors(events) -> list[str]:
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a)) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            out.append(f"log: {params['entry']['text']} ({params['entry'].get('url', '')})")
        elif method == "Network.loadingFailed":
            out.append(f"network: {params.get('errorText')} ({params.get('requestId')})")
    return out


def _requests(events) -> list[str]:
    return [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]


class _Browser:
    def __init__(self, profile, log, timeout):
        self.deadline = time.monotonic() + timeout
        self.events = []
        self._buffer = b""
        self._id = 0
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()

        def pipes_on_3_and_4():
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._log = open(log, "wb")
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            pass_fds=(3, 4),
            preexec_fn=pipes_on_3_and_4,
        )
        os.close(to_child)
        os.close(from_child)
        self.log = log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self._send("Browser.close", {})
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._write)
            os.close(self._read)
            self._log.close()

    def call(self, method, params, session=None):
        sent = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression, session):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"]["value"]

    def wait_for(self, method):
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._receive())

    def _send(self, method, params, session=None):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._id

    def _receive(self):
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer in time; its log: {self._tail()}")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited; its log: {self._tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _tail(self):
        self._log.flush()
        return self.log.read_text(errors="replace")[-2000:]
