"""The ``cutover`` console script: ``cutover verify-report DIR [--key PUB]`` re-hashes an archived run and checks
its signature; ``cutover merge RUN_DIR...`` joins shard runs into one (:mod:`cutover.run.merge_command`);
``cutover plan --target NAME`` writes the plan file the shards of a CI matrix read (:mod:`cutover.run.plan_command`);
``cutover keygen DIR`` makes the key pair that signs runs; ``cutover criteria`` prints the catalogue
of criteria (the text of docs/CHECKS.md, generated from the registry); ``cutover init [NAME]`` writes a
commented targets.toml for a new target (:mod:`cutover.run.init_file`); ``cutover roles`` prints the commands
that create the suite's own least-privilege database users (:mod:`cutover.security.suite_role`).

Exit codes as for a gate run: 0 intact (and, with --key, signed by that key), 1 not intact, 4 bad usage
(unknown command, DIR not a directory, an unusable key file, a key pair or targets file that exists already).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cutover.errors import KeyFileError
from cutover.run.run_directory import verify_manifest

USAGE_ERROR = 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, exit 4 (argparse's own: the usage screen, then the error, exit 2)."""
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (`{self.prog} --help` for the usage)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="cutover", description="cutover report tools")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify-report", help="check an archived run against its manifest and signature")
    verify.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    verify.add_argument("--key", type=Path, metavar="PUB",
                        help="the public key (<name>.pub) the run must be signed with")
    keygen = sub.add_parser("keygen", help="write an Ed25519 key pair for signing runs: DIR/NAME.key, DIR/NAME.pub")
    keygen.add_argument("directory", type=Path, metavar="DIR")
    keygen.add_argument("--name", default="cutover", help="file name of the pair (default: cutover)")
    sub.add_parser("criteria", help="print the catalogue of criteria (Markdown, as in docs/CHECKS.md)")
    merge = sub.add_parser("merge", help="join the shard runs (--shard K/N) of one gate into one run and verdict")
    merge.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    merge.add_argument("--reports-dir", type=Path, default=Path("reports"), help="default: ./reports")
    merge.add_argument("--key", type=Path, metavar="PUB", help="the public key every shard must be signed with")
    merge.add_argument("--sign-key", type=Path, metavar="PATH", help="sign the merged run with this private key")
    merge.add_argument("--partial", action="store_true", help="as a gate run's --partial")
    init = sub.add_parser("init", help="write a commented targets.toml for a new target (asks nothing)")
    init.add_argument("name", nargs="?", default="staging", help="the target's name (default: staging)")
    init.add_argument("-o", "--output", default="targets.toml", metavar="PATH",
                      help="where to write it (default: ./targets.toml; -: standard output)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    roles = sub.add_parser("roles", help="print the commands that create the suite's own database users")
    roles.add_argument("--database", default="app", help="the target's database (the path of database.uri)")
    roles.add_argument("--source-database", default="legacy", help="the source's database (the path of source.uri)")
    plan = sub.add_parser("plan", help="count and partition the target's classes once, for shards (--plan FILE)")
    plan.add_argument("--target", required=True, help="named target from the targets file")
    plan.add_argument("--targets-file", type=Path, default=Path("targets.toml"), help="default: ./targets.toml")
    plan.add_argument("--output", type=Path, default=Path("plan.json"), help="default: ./plan.json")
    plan.add_argument("--sample", type=int, default=0, metavar="N", help="as the shards' --sample N")
    args = parser.parse_args(argv)
    if args.command in ("init", "roles"):
        return init_command(args.name, args.output, args.force) if args.command == "init" else roles_command(
            args.database, args.source_database)
    if args.command == "plan":
        from cutover.run.plan_command import plan_command

        return plan_command(args.target, args.targets_file, args.output, args.sample)
    if args.command == "merge":
        from cutover.run.merge_command import merge_command

        return merge_command(args.run_dirs, args.reports_dir, args.key, args.sign_key, args.partial)
    if args.command == "criteria":
        from cutover.run.catalogue import render

        sys.stdout.write(render())
        return 0
    if args.command == "keygen":
        return keygen_command(args.directory, args.name)
    return verify_report(args.run_dir, args.key)


def init_command(name: str, output: str, force: bool) -> int:
    """Write (or print, with ``-o -``) a new target's file, then the next steps and the suite's own roles."""
    from cutover.errors import ConfigError
    from cutover.run.init_file import next_steps, render, write
    from cutover.security import suite_role_markdown as markdown

    try:
        if output == "-":
            sys.stdout.write(render(name))
        else:
            write(name, Path(output), force)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    out = sys.stderr if output == "-" else sys.stdout
    if output != "-":
        print(f"wrote {output}: target '{name}', every key at its default (docs/targets.md documents each)", file=out)
    print(next_steps(name, "standard output" if output == "-" else output), file=out)
    print("\nThe suite's own database users (docs/targets.md, \"The suite's own database user\"):\n", file=out)
    print(markdown(), file=out)
    return 0


def roles_command(database: str, source_database: str) -> int:
    from cutover.security import suite_role_markdown as markdown

    sys.stdout.write(markdown(database, source_database) + "\n")
    return 0


def keygen_command(directory: Path, name: str) -> int:
    from cutover.run.signing import generate

    try:
        pair = generate(directory, name)
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    print(f"wrote {pair.private} (private, mode 0600: sign runs with --sign-key or CUTOVER_SIGN_KEY; keep it "
          "in your secret store, never with the reports)")
    print(f"wrote {pair.public} (public: give it to auditors for `cutover verify-report RUN_DIR --key`)")
    print(f"key sha256:{pair.fingerprint}")
    return 0


def verify_report(run_dir: Path, key_path: Path | None = None) -> int:
    """0 when every file matches manifest.json (and, with a key, the signature is valid for it); 1 and every
    problem otherwise; 4 for bad usage."""
    from cutover.run.signing import check_signature, load_public_key

    if not run_dir.is_dir():
        print(f"{run_dir}: not a directory (expected an archived run: reports/<target>/<run id>)", file=sys.stderr)
        return USAGE_ERROR
    try:
        key = load_public_key(key_path) if key_path is not None else None
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    signature = check_signature(run_dir, key)
    problems = [*signature.problems, *verify_manifest(run_dir)]
    if problems:
        print(f"{run_dir}: NOT intact", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{run_dir}: intact; {_signature_status(signature.signed_by, signature.checked)}")
    return 0


def _signature_status(signed_by: str | None, checked: bool) -> str:
    if checked:
        return f"signature valid (key sha256:{signed_by})"
    if signed_by:
        return f"signed by key sha256:{signed_by}, signature not checked (pass --key PUB to check it)"
    return "not signed (the hashes prove the files match manifest.json, not who wrote manifest.json)"


if __name__ == "__main__":
    sys.exit(main())
