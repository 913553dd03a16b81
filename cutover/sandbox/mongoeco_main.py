"""Launcher of the mongoeco wire server, run by the mongoeco venv's Python (>= 3.13), not by the suite.

    python mongoeco_main.py --host 127.0.0.1 --port 27017

The caller puts the repository root on PYTHONPATH (for :mod:`cutover.sandbox.mongo_shims`). The engine is
in memory (the SQLite engine breaks filtered queries on collections holding NaN/Inf and builds indexes
slowly) with no aggregation materialization limit (the default 50k fails counts over big classes).
Serves until SIGTERM or SIGINT; prints one ``ready`` line once it accepts connections.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys

from cutover.sandbox import mongo_shims


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="mongoeco wire server for the cutover sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args(argv)


async def serve(host: str, port: int) -> None:
    shims = mongo_shims.apply_all()
    engine = importlib.import_module("mongoeco.engines.memory").MemoryEngine(
        aggregation_materialization_limit=None
    )
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
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
