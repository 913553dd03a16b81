"""Launcher of the mongoeco wire server, run by the mongoeco venv's Python (>= 3.13), not by the suite.

    python mongoeco_main.py --host 127.0.0.1 --port 27017 [--sqlite FILE]

The launcher imports the `cutover` package it belongs to by path (for :mod:`cutover.sandbox.mongo_shims`), never
the directory holding it: installed, that is another Python's site-packages. The engine is
in memory (the SQLite engine breaks filtered queries on collections holding NaN/Inf and builds indexes
slowly) with no aggregation materialization limit (the default 50k fails counts over big classes).
``--sqlite FILE`` serves a SQLite engine's file instead (bench/bench_scale.py: a class of a million documents,
written without the wire by bench/seed_sqlite.py; its documents hold no NaN).
Serves until SIGTERM or SIGINT; prints one ``ready`` line once it accepts connections.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import signal
import sys
from pathlib import Path
from types import ModuleType


def _package(name: str, directory: Path) -> ModuleType:
    """Import the package in ``directory`` as ``name``, without adding its parent to sys.path."""
    spec = importlib.util.spec_from_file_location(name, directory / "__init__.py",
                                                  submodule_search_locations=[str(directory)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if "cutover" not in sys.modules:
    _package("cutover", Path(__file__).resolve().parents[1])
mongo_shims = importlib.import_module("cutover.sandbox.mongo_shims")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="mongoeco wire server for the cutover sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sqlite", default="", help="serve this SQLite engine file instead of memory")
    return parser.parse_args(argv)


def _engine(sqlite_file: str) -> object:
    if sqlite_file:
        return importlib.import_module("mongoeco.engines.sqlite").SQLiteEngine(
            path=sqlite_file, aggregation_materialization_limit=None)
    return importlib.import_module("mongoeco.engines.memory").MemoryEngine(aggregation_materialization_limit=None)


async def serve(host: str, port: int, sqlite_file: str = "") -> None:
    shims = mongo_shims.apply_all()
    engine = _engine(sqlite_file)
    proxy = importlib.import_module("mongoeco.wire.proxy")
    server = proxy.AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    address = await server.start()
    print(f"mongoeco {mongo_shims.PINNED_VERSION} ready on {address.host}:{address.port} "
          f"(shims: {', '.join(shims)})", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()
    print("mongoeco stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    asyncio.run(serve(args.host, args.port, args.sqlite))
    return 0


if __name__ == "__main__":
    sys.exit(main())
