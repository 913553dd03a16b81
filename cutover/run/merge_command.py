"""``cutover merge RUN_DIR... [--reports-dir DIR] [--key PUB] [--sign-key KEY] [--partial]``.

Exit codes as for a gate run: the merged gate's (0 PASS, 1 FAIL, 6 INCOMPLETE), 4 for bad usage (a run that is
not an intact shard, shards of different gates, an unusable key). The last line printed is the merged run's
directory, so CI can hand it on (``run=$(cutover merge ... | tail -1)``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from cutover.errors import ConfigError, KeyFileError

USAGE_ERROR = 4


def merge_command(run_dirs: list[Path], reports_dir: Path, key_path: Path | None, sign_key: Path | None,
                  partial: bool) -> int:
    from cutover.run.merge import load_shard, merge
    from cutover.run.merge_archive import write_merged
    from cutover.run.signing import fingerprint, load_public_key, load_signer
    from cutover.run.usage import reports_dir_problem

    try:
        signer = load_signer(sign_key, "--sign-key") if sign_key is not None else None
        key = load_public_key(key_path) if key_path is not None else None
        own = signer.key.public_key() if signer is not None else None
        merged = merge([load_shard(path, key, own) for path in run_dirs], partial=partial)
        problem = reports_dir_problem(reports_dir)
        if problem:
            raise ConfigError(problem)
        run_dir = write_merged(merged, reports_dir, signer)
    except (ConfigError, KeyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:   # the reports directory cannot be written
        print(f"error: {exc.filename or reports_dir}: cannot write the merged run ({exc.strerror or exc})",
              file=sys.stderr)
        return USAGE_ERROR
    except (ValueError, KeyError, TypeError) as exc:   # the last net: still one line, naming the runs
        runs = ", ".join(str(path) for path in run_dirs)
        print(f"error: {runs}: cannot be merged ({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr)
        return USAGE_ERROR
    for problem in merged.coverage:
        print(f"coverage: {problem}")
    used = key or own
    checked = f"; shard signatures checked with key sha256:{fingerprint(used)}" if used is not None else ""
    print(f"merged {len(merged.shards)} shard run(s){checked}")
    print(merged.gate.line)
    print(run_dir)
    return merged.gate.exit_code
