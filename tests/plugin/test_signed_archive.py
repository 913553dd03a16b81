"""Signed archives end to end: ``cutover keygen``, a real ``pytest --target t --sign-key`` run (two xdist workers),
``cutover verify-report --key`` on it and on tampered copies, and every unusable signing key refused at the
start of a run with one line, exit 4, before anything is written. The key's path and contents appear in no
output and no file of the run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cutover.run.criteria import CRITERIA
from cutover.run.run_directory import MANIFEST, SIGNATURE, sha256_of, write_json
from cutover.run.signing import FIELD, load_signer
from tests.inner_runs import UNUSED_PLUGINS
from tests.plugin.test_plugin import one_error_line, run
from tests.plugin.test_verify_report import TARGETS, cutover_script, flip_one_byte, verify

SECRET_DIR = "kd-Xq7canary"   # the key directory's name: it must never be printed or archived

CHECKS = """
import pytest

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", ["GameScore", "_User"])
def test_counts(cls):
    pass

@pytest.mark.criterion("FILE-04")
def test_orphans():
    pass
"""

PASS = f"GATE: PARTIAL PASS (2/{len(CRITERIA)} criteria)"


@dataclass(frozen=True)
class Pair:
    private: Path
    public: Path
    fingerprint: str
    keygen_output: str


def keygen(directory: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cutover_script()), "keygen", str(directory), "--name", name], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    directory = tmp_path_factory.mktemp("keys") / SECRET_DIR
    pairs = {}
    for name in ("prod", "other"):
        done = keygen(directory, name)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        fingerprint = done.stdout.splitlines()[-1].removeprefix("key sha256:")
        pairs[name] = Pair(directory / f"{name}.key", directory / f"{name}.pub", fingerprint, done.stdout)
    return pairs


def secret_forms(pair: Pair) -> list[str]:
    """What must never appear: the key's directory (so its path) and each base64 line of the private key."""
    body = [line for line in pair.private.read_text().splitlines() if not line.startswith("-----")]
    return [SECRET_DIR, *body]


@dataclass(frozen=True)
class Archived:
    run_dir: Path
    output: str


def gate_run(work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    return subprocess.run([sys.executable, "-m", "pytest", "test_checks.py", "--target", "t", "--reports-dir",
                           "reports", "--partial", "-p", "no:cacheprovider", *UNUSED_PLUGINS, *args], cwd=work,
                          env={**base, **(env or {})}, capture_output=True, text=True, timeout=180, check=False)


def the_run(work: Path) -> Path:
    (only,) = (p for p in (work / "reports" / "t").iterdir() if p.is_dir())
    return only


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Pair]) -> Archived:
    """One real signed run, two xdist workers, a passing (partial) gate."""
    work = tmp_path_factory.mktemp("signed")
    (work / "targets.toml").write_text(TARGETS, encoding="utf-8")
    (work / "test_checks.py").write_text(CHECKS, encoding="utf-8")
    done = gate_run(work, "-n", "2", "--sign-key", str(keys["prod"].private))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return Archived(the_run(work), done.stdout + done.stderr)


@pytest.fixture
def signed(archived: Archived, tmp_path: Path) -> Path:
    copy = tmp_path / "reports" / "t" / archived.run_dir.name
    shutil.copytree(archived.run_dir, copy)
    return copy


# -- cutover keygen ----------------------------------------------------------------------------------------------

def test_keygen_writes_the_pair_and_says_what_each_file_is_for(keys: dict[str, Pair]) -> None:
    pair = keys["prod"]
    assert oct(pair.private.stat().st_mode & 0o777) == "0o600"
    lines = pair.keygen_output.splitlines()
    assert lines[0].startswith(f"wrote {pair.private} (private, mode 0600: sign runs with --sign-key")
    assert lines[1].startswith(f"wrote {pair.public} (public: give it to auditors")
    assert len(pair.fingerprint) == 64 and pair.fingerprint != keys["other"].fingerprint
    assert load_signer(pair.private, "--sign-key").fingerprint == pair.fingerprint


def test_keygen_refuses_to_overwrite_a_key(keys: dict[str, Pair]) -> None:
    before = keys["prod"].private.read_bytes()
    done = keygen(keys["prod"].private.parent, "prod")
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr == f"error: {keys['prod'].private}: exists; refusing to overwrite a key (choose another " \
        "--name or DIR)\n"
    assert keys["prod"].private.read_bytes() == before


# -- the signed run ------------------------------------------------------------------------------------------------

def test_a_signed_run_passes_and_records_its_key(archived: Archived, keys: dict[str, Pair]) -> None:
    run_dir, fingerprint = archived.run_dir, keys["prod"].fingerprint
    assert PASS in archived.output
    assert {p.name for p in run_dir.iterdir()} == {"report.html", "record.json", "junit.xml", MANIFEST, SIGNATURE}
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    facts = {"algorithm": "Ed25519", "sha256": fingerprint, "signature": SIGNATURE}
    assert manifest[FIELD] == record[FIELD] == facts
    assert set(manifest["files"]) == {"report.html", "record.json", "junit.xml"}
    assert f"Ed25519 sha256:{fingerprint}" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_the_key_never_appears_in_the_output_or_the_run(archived: Archived, keys: dict[str, Pair]) -> None:
    texts = {"output": archived.output}
    texts.update({str(p): p.read_bytes().decode("utf-8", "replace")
                  for p in archived.run_dir.parent.rglob("*") if p.is_file()})   # the index beside the run too
    for form in secret_forms(keys["prod"]):
        assert [where for where, text in texts.items() if form in text] == []


def test_verify_with_the_key_says_intact_and_valid(signed: Path, keys: dict[str, Pair]) -> None:
    done = verify(signed, "--key", str(keys["prod"].public))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{signed}: intact; signature valid (key sha256:{keys['prod'].fingerprint})\n"


def test_verify_without_a_key_says_signed_but_not_checked(signed: Path, keys: dict[str, Pair]) -> None:
    done = verify(signed)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{signed}: intact; signed by key sha256:{keys['prod'].fingerprint}, signature not " \
        "checked (pass --key PUB to check it)\n"


def problems(done: subprocess.CompletedProcess[str], run_dir: Path) -> list[str]:
    assert (done.returncode, done.stdout) == (1, ""), done.stdout + done.stderr
    first, *rest = done.stderr.splitlines()
    assert first == f"{run_dir}: NOT intact"
    return [line.strip() for line in rest]


def test_one_altered_byte_fails(signed: Path, keys: dict[str, Pair]) -> None:
    flip_one_byte(signed / "junit.xml")
    done = verify(signed, "--key", str(keys["prod"].public))
    assert problems(done, signed) == ["junit.xml: changed (sha256 differs from the manifest)"]


def forge_a_fail_into_the_record(run_dir: Path) -> None:
    """Rewrite the record and re-hash it into the manifest: every hash matches afterwards."""
    record = run_dir / "record.json"
    record.write_text(record.read_text(encoding="utf-8").replace(PASS, "GATE: PASS"), encoding="utf-8")
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["record.json"] = {"sha256": sha256_of(record), "bytes": record.stat().st_size}
    write_json(run_dir / MANIFEST, manifest)


def not_verified(pair: Pair) -> str:
    return f"manifest.sig: does not verify with key sha256:{pair.fingerprint} (manifest.json changed after " \
        "signing, or another key signed it)"


def test_a_tampered_file_rehashed_into_the_manifest_fails(signed: Path, keys: dict[str, Pair]) -> None:
    forge_a_fail_into_the_record(signed)
    done = verify(signed, "--key", str(keys["prod"].public))
    assert problems(done, signed) == [not_verified(keys["prod"])]


def test_re_signed_with_another_key_fails_and_names_both_keys(signed: Path, keys: dict[str, Pair]) -> None:
    forge_a_fail_into_the_record(signed)
    forger = load_signer(keys["other"].private, "--sign-key")
    manifest = json.loads((signed / MANIFEST).read_text(encoding="utf-8"))
    write_json(signed / MANIFEST, {**manifest, FIELD: forger.facts()})
    forger.sign(signed)
    done = verify(signed, "--key", str(keys["prod"].public))
    assert problems(done, signed) == [
        f"manifest.json: signed by another key (sha256:{keys['other'].fingerprint}; --key is "
        f"sha256:{keys['prod'].fingerprint})", not_verified(keys["prod"])]


def test_a_removed_signature_fails_with_or_without_the_key(signed: Path, keys: dict[str, Pair]) -> None:
    (signed / SIGNATURE).unlink()
    line = f"manifest.sig: missing (manifest.json says key sha256:{keys['prod'].fingerprint} signed the run)"
    assert problems(verify(signed, "--key", str(keys["prod"].public)), signed) == [line]
    assert problems(verify(signed), signed) == [line]


def test_a_signature_stripped_entirely_fails_with_the_key(signed: Path, keys: dict[str, Pair]) -> None:
    """manifest.sig removed and the manifest rewritten as unsigned: only the auditor's key tells."""
    (signed / SIGNATURE).unlink()
    manifest = json.loads((signed / MANIFEST).read_text(encoding="utf-8"))
    write_json(signed / MANIFEST, {k: v for k, v in manifest.items() if k != FIELD})
    assert verify(signed).stdout.endswith("intact; not signed (the hashes prove the files match manifest.json, "
                                          "not who wrote manifest.json)\n")
    done = verify(signed, "--key", str(keys["prod"].public))
    assert problems(done, signed) == ["manifest.sig: missing (the run is not signed)"]


@pytest.mark.parametrize("which", ["missing", "private"])
def test_an_unusable_public_key_is_bad_usage(signed: Path, keys: dict[str, Pair], which: str) -> None:
    path = keys["prod"].private if which == "private" else signed / "nope.pub"
    done = verify(signed, "--key", str(path))
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr.startswith(f"error: {path}: ") and done.stderr.count("\n") == 1
    assert not any(form in done.stderr for form in secret_forms(keys["prod"])[1:])   # never the key's contents


# -- refused at the start, one line, nothing written ------------------------------------------------------------

@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Pair]) -> pytest.Pytester:
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS", "CUTOVER_SIGN_KEY"):
        monkeypatch.delenv(var, raising=False)
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(test_checks=CHECKS)
    shutil.copytree(keys["prod"].private.parent, pytester.path / SECRET_DIR)
    return pytester


def bad_key(tree: pytest.Pytester, case: str) -> Path:
    keydir = tree.path / SECRET_DIR
    if case == "world-readable":
        (keydir / "prod.key").chmod(0o644)
        return keydir / "prod.key"
    if case == "public":
        return keydir / "prod.pub"
    if case == "garbage":
        (keydir / "junk.key").write_text("not a key\n")
        (keydir / "junk.key").chmod(0o600)
        return keydir / "junk.key"
    return {"missing": keydir / "nope.key", "directory": keydir}[case]


START_REFUSALS = {
    "missing": "the signing key file does not exist",
    "directory": "the signing key path is not a regular file",
    "world-readable": "the signing key file is open to group or others (mode 0644)",
    "public": "the signing key file holds a public key: sign with the private key",
    "garbage": "the signing key file holds no PEM private key",
}


def refused_at_start(tree: pytest.Pytester, result: pytest.RunResult, keys: dict[str, Pair]) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert not (tree.path / "reports").exists()   # refused before the run directory was made
    output = result.stdout.str() + result.stderr.str()
    assert not [form for form in secret_forms(keys["prod"]) if form in output]
    return line


@pytest.mark.parametrize("case", sorted(START_REFUSALS))
def test_an_unusable_signing_key_stops_the_run_at_start(tree: pytest.Pytester, keys: dict[str, Pair],
                                                        case: str) -> None:
    result = run(tree, "--target", "t", "--partial", "--sign-key", str(bad_key(tree, case)), "test_checks.py")
    line = refused_at_start(tree, result, keys)
    assert line.startswith("ERROR: --sign-key: ") and START_REFUSALS[case] in line


def test_the_environment_variable_names_a_key_too(tree: pytest.Pytester, keys: dict[str, Pair],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_SIGN_KEY", str(bad_key(tree, "public")))
    line = refused_at_start(tree, run(tree, "--target", "t", "--partial", "test_checks.py"), keys)
    assert line.startswith("ERROR: CUTOVER_SIGN_KEY: the signing key file holds a public key")


def test_a_key_pasted_into_the_environment_variable_is_refused_unechoed(
        tree: pytest.Pytester, keys: dict[str, Pair], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_SIGN_KEY", keys["prod"].private.read_text())
    line = refused_at_start(tree, run(tree, "--target", "t", "--partial", "test_checks.py"), keys)
    assert line.startswith("ERROR: CUTOVER_SIGN_KEY holds a key, not a path")


def test_the_environment_variable_signs_and_the_option_wins_over_it(
        tree: pytest.Pytester, keys: dict[str, Pair], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_SIGN_KEY", f"{SECRET_DIR}/prod.key")   # relative to the working directory
    assert run(tree, "--target", "t", "--collect-only", "test_checks.py").ret == pytest.ExitCode.NO_TESTS_COLLECTED
    monkeypatch.setenv("CUTOVER_SIGN_KEY", str(tree.path / SECRET_DIR / "nope.key"))
    run(tree, "--target", "t", "--collect-only", "--sign-key", f"{SECRET_DIR}/other.key", "test_checks.py")
    runs = sorted(p for p in (tree.path / "reports" / "t").iterdir() if p.is_dir())
    assert [json.loads((r / MANIFEST).read_text())[FIELD]["sha256"] for r in runs] == \
        [keys["prod"].fingerprint, keys["other"].fingerprint]
    for r, name in zip(runs, ("prod", "other"), strict=True):
        assert verify(r, "--key", str(keys[name].public)).returncode == 0


def test_without_a_key_nothing_changes(tree: pytest.Pytester) -> None:
    run(tree, "--target", "t", "--collect-only", "test_checks.py")
    run_dir = the_run(tree.path)
    assert not (run_dir / SIGNATURE).exists()
    assert FIELD not in json.loads((run_dir / MANIFEST).read_text())
    assert FIELD not in json.loads((run_dir / "record.json").read_text())
    assert "Signed with key" not in (run_dir / "report.html").read_text()


def test_a_run_stopped_during_the_sandbox_start_is_signed_too(pytester: pytest.Pytester, keys: dict[str, Pair],
                                                              tmp_path: Path) -> None:
    from cutover_pytest import signing
    from cutover_pytest.archive import archive_interrupted_start

    config = pytester.parseconfig("--sign-key", str(keys["prod"].private))
    signing.load(config)
    run_dir = tmp_path / "demo" / "20260101T000000Z"
    run_dir.mkdir(parents=True)
    archive_interrupted_start(run_dir, "demo", "SIGTERM", signer=signing.signer(config))
    assert verify(run_dir, "--key", str(keys["prod"].public)).returncode == 0
    assert json.loads((run_dir / "record.json").read_text())[FIELD]["sha256"] == keys["prod"].fingerprint


# -- remediation files are part of what is signed (issue 16) -----------------------------------------------------

FAILING_CHECKS = """
import pytest

@pytest.mark.criterion("DB-03")
def test_indexes(record_facts):
    record_facts(collection="GameScore", specs={"missing": [{"name": "s_1", "key": [["s", 1]], "options": {}}],
                                                "different": []})
    assert False, "GameScore: missing on target: ['s_1 {s: 1}']"
"""


def test_remediation_files_are_in_the_signed_manifest(tmp_path: Path, keys: dict[str, Pair]) -> None:
    (tmp_path / "targets.toml").write_text(TARGETS, encoding="utf-8")
    (tmp_path / "test_checks.py").write_text(FAILING_CHECKS, encoding="utf-8")
    done = gate_run(tmp_path, "--sign-key", str(keys["prod"].private))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    run_dir = the_run(tmp_path)
    fix = "remediation/DB-03-create-indexes.js"
    assert fix in json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert verify(run_dir, "--key", str(keys["prod"].public)).returncode == 0
    flip_one_byte(run_dir / fix)
    done = verify(run_dir, "--key", str(keys["prod"].public))
    assert problems(done, run_dir) == [f"{fix}: changed (sha256 differs from the manifest)"]
