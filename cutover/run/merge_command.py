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

    try:
        signer = load_signer(sign_key, "--sign-key") if sign_key is not None else None
        key = load_public_key(key_path) if key_path is not None else None
        own = signer.key.public_key() if signer is not None else None
        merged = merge([load_shard(path, key, own) for path in run_dirs], partial=partial)
    except (ConfigError, KeyFileError, OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    run_dir = write_merged(merged, reports_dir, signer)
    for problem in merged.coverage:
        print(f"coverage: {problem}")
    used = key or own
    checked = f"; shard signatures checked with key sha256:{fingerprint(used)}" if used is not None else ""
    print(f"merged {len(merged.shards)} shard run(s){checked}")
    print(merged.gate.line)
    print(run_dir)
    return merged.gate.exit_code
