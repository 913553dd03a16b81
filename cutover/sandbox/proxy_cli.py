"""What the TCP proxies (the sandbox's ``tls_proxy``, the tests' ``cutover_testing.faults``) share as child
processes.

Both run as ``python -m <module>`` with the same listen/upstream options, stop on SIGTERM or SIGINT, and need
the directory holding ``cutover`` on PYTHONPATH to start from any cwd (in a checkout it holds
``cutover_testing`` too).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path


def add_endpoint_args(parser: argparse.ArgumentParser) -> None:
    """--listen-host/--listen-port (where the proxy listens) and --upstream-host/--upstream-port."""
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, required=True)


def stop_on_signals() -> asyncio.Event:
    """An event set on SIGTERM or SIGINT (call from inside the running loop)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def importable_env() -> dict[str, str]:
    """PYTHONPATH with the directory holding ``cutover``, so ``-m`` works from any cwd, installed or not."""
    root = str(Path(__file__).resolve().parents[2])
    current = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": f"{root}{os.pathsep}{current}" if current else root}
