"""Headless Chromium driven over the DevTools protocol on a pipe (standard library only).

Chromium started with ``--remote-debugging-pipe`` reads protocol commands from file
descriptor 3 and writes responses and events to descriptor 4, each message JSON ended by
a NUL byte. That is all a page test needs: load a file, wait for its load event, ask the
page about its images, collect console errors, exceptions and failed requests, and take a
screenshot; no chromedriver, no WebDriver client, no browser download.

Usage as a script (the screenshot kept in ``docs/``)::

    python tests/chromium.py REPORT.html docs/report_screenshot.png [WIDTH HEIGHT]
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Flags that work on these machines (no sandbox as root, no network chatter).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)
#: JavaScript run in the page (by the test, not by the report) to describe its images.
_IMAGES = """JSON.stringify(Array.from(document.images).map(i => ({
  figure: i.dataset.figure || "", complete: i.complete,
  width: i.naturalWidth, height: i.naturalHeight, scheme: i.src.split(":")[0]})))"""


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _above(fd: int, low: int = 10) -> int:
    """A duplicate of ``fd`` numbered ``low`` or more (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, low)
    os.close(fd)
    return moved


@dataclass
class PageReport:
    """What a page load showed.

    Attributes
    ----------
    images : list of dict
        Per ``<img>``: ``figure``, ``complete``, ``width``, ``height``, ``scheme``.
    errors : list of str
        Console errors, uncaught exceptions and browser log entries of level error.
    requests : list of str
        URLs the page requested (the page itself included).
    title : str
    screenshot : bytes
        PNG of the viewport (empty unless asked for).
    sections : list of str
        Ids of the ``<h2>`` headings that have one, in order.
    headings : list of str
        Their text as rendered.
    text : str
        The page's rendered text (``document.body.innerText``).
    """

    images: list[dict[str, Any]]
    errors: list[str]
    requests: list[str]
    title: str
    screenshot: bytes = b""
    sections: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    text: str = ""


class DevToolsError(RuntimeError):
    """The browser did not answer as expected (timeout, protocol error, exit)."""


class Browser:
    """A headless Chromium with a DevTools pipe; use as a context manager."""

    def __init__(self, binary: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="lagnest-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's ends move above 4 first, so that placing them at 3 and 4 never
        # overwrites one with the other
        to_browser_r, from_browser_w = (_above(to_browser_r), _above(from_browser_w))
        args = [binary, *FLAGS, f"--user-data-dir={self._profile.name}",
                "--remote-debugging-pipe", "about:blank"]
        # bash moves the pipe ends to descriptors 3 and 4, then becomes chromium
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self._proc = subprocess.Popen(
            ["/bin/bash", "-c", script, "bash", *args], pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._stderr: list[bytes] = []
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._drain_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------ plumbing
    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_browser, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    self._messages.put(json.loads(raw))
        self._messages.put(None)

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its result (events are kept meanwhile)."""
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise DevToolsError(f"chromium closed its pipe before {method}; "
                                f"{self._stderr_tail()}") from None
        while True:
            reply = self._next(f"the reply to {method}")
            if reply.get("id") == ident:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _next(self, what: str, deadline: float | None = None) -> dict[str, Any]:
        deadline = deadline or time.monotonic() + self.timeout
        try:
            message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise DevToolsError(f"timed out waiting for {what}; {self._stderr_tail()}") from None
        if message is None:
            raise DevToolsError(f"chromium closed the pipe waiting for {what}; "
                                f"{self._stderr_tail()}")
        return message

    def wait_for(self, method: str, session: str | None = None) -> dict[str, Any]:
        """Wait for an event (kept events first)."""
        for event in self._events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        deadline = time.monotonic() + self.timeout
        while True:
            event = self._next(method, deadline)
            self._events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def _stderr_tail(self) -> str:
        text = b"".join(self._stderr[-5:]).decode(errors="replace").strip()
        return f"chromium stderr: {text}" if text else "chromium printed nothing"

    # ------------------------------------------------------------------ pages
    def load(self, path: str | os.PathLike[str], width: int = 1400, height: int = 1000,
             screenshot: bool = False) -> PageReport:
        """Open a local file in a new tab, wait for its load event and describe the page."""
        url = Path(path).resolve().as_uri()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        self._events = [e for e in self._events if e.get("sessionId") != session]
        navigated = self.send("Page.navigate", {"url": url}, session=session)
        if navigated.get("errorText"):
            raise DevToolsError(f"cannot open {url}: {navigated['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        images = json.loads(self._evaluate(_IMAGES, session))
        title = self._evaluate("document.title", session)
        sections = json.loads(self._evaluate(
            "JSON.stringify(Array.from(document.querySelectorAll('h2[id]')).map(h => h.id))",
            session))
        headings = json.loads(self._evaluate(
            "JSON.stringify(Array.from(document.querySelectorAll('h2[id]'))"
            ".map(h => h.innerText))", session))
        text = self._evaluate("document.body.innerText", session)
        shot = b""
        if screenshot:
            data = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
            shot = base64.b64decode(data["data"])
        self.send("Target.closeTarget", {"targetId": target})
        return PageReport(images, self._errors(session), self._requests(session), title, shot,
                          sections, headings, text)

    def _evaluate(self, expression: str, session: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise DevToolsError(f"evaluating in the page failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _errors(self, session: str) -> list[str]:
        out = []
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                 "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                  for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                out.append(f"network: {params.get('errorText')}")
        return out

    def _requests(self, session: str) -> list[str]:
        return [e["params"]["request"]["url"] for e in self._events
                if e.get("sessionId") == session and e.get("method") ==
                "Network.requestWillBeSent"]

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close the browser (politely, then by force) and remove its profile."""
        try:
            if self._proc.poll() is None:
                self.send("Browser.close")
        except (DevToolsError, OSError):
            pass
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=15)
        try:
            os.close(self._to_browser)
        except OSError:
            pass
        for thread in self._threads:
            thread.join(timeout=15)
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def main(argv: list[str]) -> int:
    """Screenshot a page: ``chromium.py PAGE.html OUT.png [WIDTH HEIGHT]``."""
    binary = find_chromium()
    if binary is None:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    width, height = (int(argv[2]), int(argv[3])) if len(argv) > 3 else (1400, 1000)
    with Browser(binary) as browser:
        page = browser.load(argv[0], width, height, screenshot=True)
    Path(argv[1]).write_bytes(page.screenshot)
    print(f"{argv[1]}: {len(page.images)} images, {len(page.errors)} errors")
    return 1 if page.errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
