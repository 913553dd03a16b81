"""The ``cutover`` console script: ``cutover verify-report DIR`` re-hashes an archived run."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cutover.record import verify_manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cutover", description="cutover report tools")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify-report", help="check an archived run against its manifest")
    verify.add_argument("run_dir", type=Path)
    args = parser.parse_args(argv)
    return verify_report(args.run_dir)


def verify_report(run_dir: Path) -> int:
    """0 and 'intact' when every file matches manifest.json; 1 and the problems otherwise."""
    problems = verify_manifest(run_dir)
    if problems:
        print(f"{run_dir}: NOT intact", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{run_dir}: intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
