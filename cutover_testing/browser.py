"""The HTML report in a real headless Chromium (Debian's package), measured over the DevTools protocol.

``measure(page)`` opens a report as a release manager would and says how long it took to load and to paint, where
the verdict banner and the failing checks are (on the first screen or not), whether the page raised a console
error, and how long the page takes to answer after a click that opens a group of checks (a page whose script
redraws thousands of rows on each click freezes there). Uses aiohttp (a dependency of the suite) for the
DevTools websocket; not shipped: the project's own tests and benches use it.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from cutover.sandbox.process import free_port

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
VIEWPORT = (1366, 768)   # a laptop's first screen

# What the page says about itself once loaded (the DevTools' Runtime.evaluate, returned by value).
_FACTS = """(() => {
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
  const nav = performance.getEntriesByType('navigation')[0];
  const top = sel => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().top : null; };
  const shown = sel => { const e = document.querySelector(sel); return !!e && e.offsetParent !== null; };
  return {first_paint_ms: paint['first-paint'] ?? null,
          first_contentful_paint_ms: paint['first-contentful-paint'] ?? null,
          dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
          verdict_top: top('#cutover-verdict'), failing_top: top('#cutover-failing'),
          environment_top: top('#environment'), viewport: innerHeight,
          groups: document.querySelectorAll('details.cutover-group').length,
          groups_open: document.querySelectorAll('details.cutover-group[open]').length,
          failing_rows: document.querySelectorAll('#cutover-failing tr').length - 1,
          results_rows: document.querySelectorAll('#results-table tbody.results-table-row').length,
          verdict_shown: shown('#cutover-verdict')};
})()"""
# the paint timings are entered once a frame was painted: wait for them (at most 3 s)
_PAINTED = """new Promise(done => { const t0 = performance.now(); const poll = () =>
  performance.getEntriesByType('paint').length || performance.now() - t0 > 3000 ? done(true)
  : requestAnimationFrame(poll); requestAnimationFrame(poll); })"""
_CLICK = """(() => { const t0 = performance.now(); const g = document.querySelector('details.cutover-group');
  if (!g) return null; g.open = true; g.getBoundingClientRect(); document.body.offsetHeight;
  return performance.now() - t0; })()"""


@dataclass(frozen=True)
class Measured:
    facts: dict[str, Any]
    console_errors: list[str]
    open_group_ms: float | None    # opening the first group of checks and laying the page out again
    wall_s: float                  # from navigation to the load event, as the test's clock saw it


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("Debian chromium is required: apt-get install chromium")
    return found


def measure(page: Path, timeout_s: float = 120.0) -> Measured:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="cutover-chromium-") as profile:
        proc = subprocess.Popen([chromium(), *FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
                                 f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            socket_url = _page_socket(port, timeout_s)
            return asyncio.run(asyncio.wait_for(_measure(socket_url, page), timeout_s))
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop chromium and its helpers. The browser process can exit while its helpers (renderer, zygote, crash
    handler) still write into the profile: it is removed only once the whole process group is gone, or the profile's
    removal fails ("Directory not empty")."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not _signal_group(proc.pid, 0):
                return
            time.sleep(0.05)
        _signal_group(proc.pid, sig)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the process group; False when no process is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _page_socket(port: int, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
                pages = [p for p in json.load(answer) if p.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"chromium's DevTools did not answer on port {port}")
        time.sleep(0.1)


async def _measure(socket_url: str, page: Path) -> Measured:
    async with aiohttp.ClientSession() as http, http.ws_connect(socket_url, max_msg_size=0) as ws:
        devtools = _DevTools(ws)
        await devtools.call("Page.enable")
        await devtools.call("Runtime.enable")
        started = time.perf_counter()
        await devtools.call("Page.navigate", url=page.resolve().as_uri())
        await devtools.wait_for("Page.loadEventFired")
        wall = time.perf_counter() - started
        await devtools.evaluate(_PAINTED)
        facts = await devtools.evaluate(_FACTS)
        opened = await devtools.evaluate(_CLICK)
        return Measured(facts, devtools.errors, opened, wall)


class _DevTools:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.ids = ws, itertools.count(1)
        self.errors: list[str] = []
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self._next()
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, event: str) -> dict[str, Any]:
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        while True:
            message = await self._next()
            if message.get("method") == event:
                return message

    async def _next(self) -> dict[str, Any]:
        message = json.loads((await self.ws.receive()).data)
        if message.get("method") == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(message["params"]["exceptionDetails"])[:500])
        elif message.get("method") == "Runtime.consoleAPICalled" and message["params"].get("type") == "error":
            self.errors.append(json.dumps(message["params"]["args"])[:500])
        elif "method" in message:
            self.events.append(message)
        return dict(message)
