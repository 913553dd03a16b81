"""The ``cutover`` console script: ``cutover verify-report DIR`` re-hashes an archived run; ``cutover criteria``
prints the catalogue of criteria (the text of docs/CHECKS.md, generated from the registry).

Exit codes as for a gate run: 0 intact, 1 not intact, 4 bad usage (unknown command, DIR not a directory).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cutover.run.record import verify_manifest

USAGE_ERROR = 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")  # argparse's own default would be 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="cutover", description="cutover report tools")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify-report", help="check an archived run against its manifest")
    verify.add_argument("run_dir", type=Path)
    sub.add_parser("criteria", help="print the catalogue of criteria (Markdown, as in docs/CHECKS.md)")
    args = parser.parse_args(argv)
    if args.command == "criteria":
        from cutover.run.catalogue import render

        sys.stdout.write(render())
        return 0
    return verify_report(args.run_dir)


def verify_report(run_dir: Path) -> int:
    """0 and 'intact' when every file matches manifest.json; 1 and the problems otherwise."""
    if not run_dir.is_dir():
        print(f"{run_dir}: not a directory (expected an archived run: reports/<target>/<run id>)", file=sys.stderr)
        return USAGE_ERROR
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
