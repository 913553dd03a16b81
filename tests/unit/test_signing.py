"""Signed archives, the library: key pairs, loading a signing key (every refusal names neither the key's path
nor its contents), signing a manifest, and each way a signed run can be tampered with."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cutover.errors import ConfigError, KeyFileError
from cutover.run.run_directory import MANIFEST, SIGNATURE, sha256_of, verify_manifest, write_json, write_manifest
from cutover.run.signing import FIELD, KeyPair, Signer, check_signature, generate, load_public_key, load_signer

SECRET_DIR = "kd-Xq7canary"   # in every private key path here: no message may carry it


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / SECRET_DIR


@pytest.fixture
def pair(keys: Path) -> KeyPair:
    return generate(keys, "prod")


def private_body(path: Path) -> list[str]:
    """The base64 lines of a PEM file: what must never be printed."""
    return [line for line in path.read_text().splitlines() if line and not line.startswith("-----")]


def refusal(path: Path, origin: str = "--sign-key") -> str:
    with pytest.raises(KeyFileError) as caught:
        load_signer(path, origin)
    message = str(caught.value)
    assert message.startswith(f"{origin}: ") and "\n" not in message
    assert SECRET_DIR not in message and str(path) not in message
    return message


# -- key pairs -------------------------------------------------------------------------------------------------

def test_keygen_writes_a_private_key_only_its_owner_reads_and_a_public_key(pair: KeyPair, keys: Path) -> None:
    assert (pair.private, pair.public) == (keys / "prod.key", keys / "prod.pub")
    assert stat.S_IMODE(pair.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(pair.public.stat().st_mode) == 0o644
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700   # a directory it creates is private too
    assert pair.private.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")   # PKCS#8
    assert pair.public.read_text().startswith("-----BEGIN PUBLIC KEY-----\n")     # SubjectPublicKeyInfo
    signer = load_signer(pair.private, "--sign-key")
    assert signer.fingerprint == pair.fingerprint == fingerprint_by_hand(pair.public)


def fingerprint_by_hand(public: Path) -> str:
    """sha256 of the raw key: the last 32 bytes of the DER SubjectPublicKeyInfo (what `openssl pkey` gives)."""
    import hashlib

    der = serialization.load_pem_public_key(public.read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der[-32:]).hexdigest()


def test_the_private_key_is_created_with_mode_0600_not_narrowed_afterwards(
        keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Created 0600 by open(2) itself, exclusively: no moment exists in which others could open it."""
    calls: list[tuple[str, int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        calls.append((Path(path).name, flags, mode))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)   # the widest umask: the mode given to open is all that protects the file
    try:
        generate(keys, "prod")
    finally:
        os.umask(old)
    name, flags, mode = calls[0]
    assert (name, mode) == ("prod.key", 0o600) and flags & os.O_EXCL and flags & os.O_CREAT
    assert stat.S_IMODE((keys / "prod.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("existing", ["prod.key", "prod.pub"])
def test_keygen_refuses_to_overwrite_either_file(keys: Path, existing: str) -> None:
    keys.mkdir()
    (keys / existing).write_text("precious\n")
    with pytest.raises(KeyFileError, match=f"{existing}: exists; refusing to overwrite a key"):
        generate(keys, "prod")
    assert [p.name for p in keys.iterdir()] == [existing] and (keys / existing).read_text() == "precious\n"


@pytest.mark.parametrize("name", ["", "../prod", "a/b", ".hidden"])
def test_keygen_wants_a_plain_name(keys: Path, name: str) -> None:
    with pytest.raises(KeyFileError, match="a plain file name is expected"):
        generate(keys, name)
    assert not keys.exists()


def test_two_pairs_differ(keys: Path) -> None:
    assert generate(keys, "a").fingerprint != generate(keys, "b").fingerprint


def test_a_key_error_is_a_config_error() -> None:
    assert issubclass(KeyFileError, ConfigError)   # the plugin turns it into one line, exit 4


# -- loading the signing key: refused at start, never naming its path or contents -------------------------------

def test_the_signer_shows_its_fingerprint_never_its_key(pair: KeyPair) -> None:
    signer = load_signer(pair.private, "--sign-key")
    shown = repr(signer) + str(signer)
    assert pair.fingerprint in shown and not any(line in shown for line in private_body(pair.private))
    assert signer.facts() == {"algorithm": "Ed25519", "sha256": pair.fingerprint, "signature": "manifest.sig"}


def test_a_missing_key_file(keys: Path) -> None:
    assert "does not exist" in refusal(keys / "nope.key")


def test_a_directory(keys: Path) -> None:
    keys.mkdir()
    assert "not a regular file" in refusal(keys)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_key_file_open_to_group_or_others(pair: KeyPair, mode: int) -> None:
    pair.private.chmod(mode)
    message = refusal(pair.private)
    assert f"open to group or others (mode {mode:04o})" in message and message.endswith("chmod 600 it")


def test_a_read_only_key_for_its_owner_is_fine(pair: KeyPair) -> None:
    pair.private.chmod(0o400)
    assert load_signer(pair.private, "--sign-key").fingerprint == pair.fingerprint


def test_an_unreadable_key_file(pair: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)   # root reads every file: the refusal is simulated
    assert "cannot be read by this user" in refusal(pair.private)


def test_a_public_key_given_as_the_signing_key(pair: KeyPair) -> None:
    copy = pair.private.with_name("given.key")
    copy.write_bytes(pair.public.read_bytes())
    copy.chmod(0o600)
    assert "holds a public key: sign with the private key" in refusal(copy)


def private_file(keys: Path, pem: bytes) -> Path:
    keys.mkdir(exist_ok=True)
    path = keys / "other.key"
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def test_a_key_of_another_algorithm(keys: Path) -> None:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert "not Ed25519 (RSA)" in refusal(private_file(keys, pem))


def test_an_encrypted_key(keys: Path, pair: KeyPair) -> None:
    key = serialization.load_pem_private_key(pair.private.read_bytes(), password=None)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"passphrase"))
    assert "encrypted with a passphrase" in refusal(private_file(keys, pem))


BROKEN_PEM = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("content", [b"", b"not a key\n", BROKEN_PEM])
def test_something_else_than_a_key(keys: Path, content: bytes) -> None:
    assert "holds no PEM private key (PKCS#8)" in refusal(private_file(keys, content))


def test_a_huge_file(keys: Path) -> None:
    assert "too large to be a key" in refusal(private_file(keys, b"x" * (1 << 20)))


def test_a_key_pasted_where_its_path_belongs(pair: KeyPair) -> None:
    """CUTOVER_SIGN_KEY holding the secret itself: said without echoing one byte of it."""
    pem = pair.private.read_text()
    with pytest.raises(KeyFileError) as caught:
        load_signer(Path(pem), "CUTOVER_SIGN_KEY")
    message = str(caught.value)
    assert message.startswith("CUTOVER_SIGN_KEY holds a key, not a path")
    assert not any(line in message for line in private_body(pair.private))


# -- the public key of verify-report --------------------------------------------------------------------------

def test_the_public_key_loads(pair: KeyPair) -> None:
    assert load_public_key(pair.public).public_bytes_raw() == \
        load_signer(pair.private, "x").key.public_key().public_bytes_raw()


def test_a_private_key_given_as_the_public_key(pair: KeyPair) -> None:
    with pytest.raises(KeyFileError, match=r"a private key: --key takes the public key \(<name>.pub\)"):
        load_public_key(pair.private)


@pytest.mark.parametrize("content", [None, b"junk\n"])
def test_an_unusable_public_key(keys: Path, content: bytes | None) -> None:
    keys.mkdir()
    path = keys / "k.pub"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(KeyFileError, match=f"{path}: (cannot read|not a PEM public key)"):
        load_public_key(path)


# -- a signed run, and each way to tamper with it -----------------------------------------------------------------

@pytest.fixture
def other(keys: Path) -> KeyPair:
    return generate(keys, "other")


def archive(run_dir: Path, signer: Signer | None) -> Path:
    """A run directory archived as the plugin does: record, manifest (with the fingerprint), signature."""
    run_dir.mkdir()
    meta = {"run_id": "r1", **({FIELD: signer.facts()} if signer else {})}
    write_json(run_dir / "record.json", {**meta, "verdict": "GATE: FAIL - 1 blocker"})
    (run_dir / "report.html").write_text("<html>FAIL</html>\n", encoding="utf-8")
    write_manifest(run_dir, meta)
    if signer:
        signer.sign(run_dir)
    return run_dir


@pytest.fixture
def run(tmp_path: Path, pair: KeyPair) -> Path:
    return archive(tmp_path / "run", load_signer(pair.private, "--sign-key"))


def check(run: Path, pair: KeyPair | None) -> tuple[str | None, bool, list[str]]:
    result = check_signature(run, load_public_key(pair.public) if pair else None)
    return result.signed_by, result.checked, [*result.problems, *verify_manifest(run)]


def test_a_signed_run_is_intact_and_its_signature_valid(run: Path, pair: KeyPair) -> None:
    assert check(run, pair) == (pair.fingerprint, True, [])
    assert (run / SIGNATURE).stat().st_size == 64   # the raw Ed25519 signature
    manifest = json.loads((run / MANIFEST).read_text())
    assert SIGNATURE not in manifest["files"]
    assert manifest[FIELD] == json.loads((run / "record.json").read_text())[FIELD]


def test_without_a_key_the_run_says_it_is_signed_but_not_checked(run: Path, pair: KeyPair) -> None:
    assert check(run, None) == (pair.fingerprint, False, [])


def test_one_altered_byte_of_a_file(run: Path, pair: KeyPair) -> None:
    data = bytearray((run / "report.html").read_bytes())
    data[7] ^= 0x01
    (run / "report.html").write_bytes(bytes(data))
    assert check(run, pair)[2] == ["report.html: changed (sha256 differs from the manifest)"]


def rehash(run: Path, name: str) -> None:
    """The attack the unsigned mode cannot catch: a tampered file re-hashed into the manifest."""
    manifest = json.loads((run / MANIFEST).read_text())
    manifest["files"][name] = {"sha256": sha256_of(run / name), "bytes": (run / name).stat().st_size}
    write_json(run / MANIFEST, manifest)


def forge_a_pass(run: Path) -> None:
    record = run / "record.json"
    record.write_text(record.read_text().replace("GATE: FAIL - 1 blocker", "GATE: PASS"))
    rehash(run, "record.json")


def test_a_tampered_file_rehashed_into_the_manifest(run: Path, pair: KeyPair) -> None:
    forge_a_pass(run)
    assert verify_manifest(run) == []   # every hash matches: the unsigned mode would say intact
    assert check(run, pair)[2] == [f"manifest.sig: does not verify with key sha256:{pair.fingerprint} "
                                   "(manifest.json changed after signing, or another key signed it)"]


def test_the_same_attack_on_an_unsigned_run_goes_unseen(tmp_path: Path) -> None:
    """What the README says the unsigned mode cannot prove, pinned."""
    run = archive(tmp_path / "plain", None)
    forge_a_pass(run)
    assert check(run, None) == (None, False, [])


def test_re_signed_with_another_key_that_it_names(run: Path, pair: KeyPair, other: KeyPair) -> None:
    forger = load_signer(other.private, "--sign-key")
    forge_a_pass(run)
    manifest = json.loads((run / MANIFEST).read_text())
    write_json(run / MANIFEST, {**manifest, FIELD: forger.facts()})
    forger.sign(run)
    assert check(run, None) == (other.fingerprint, False, [])   # self-consistent: only the auditor's key tells
    assert check(run, pair)[2] == [
        f"manifest.json: signed by another key (sha256:{other.fingerprint}; --key is sha256:{pair.fingerprint})",
        f"manifest.sig: does not verify with key sha256:{pair.fingerprint} (manifest.json changed after signing, "
        "or another key signed it)"]


def test_re_signed_with_another_key_posing_as_ours(run: Path, pair: KeyPair, other: KeyPair) -> None:
    forge_a_pass(run)
    load_signer(other.private, "--sign-key").sign(run)   # the manifest still names our fingerprint
    assert check(run, pair)[2] == [f"manifest.sig: does not verify with key sha256:{pair.fingerprint} "
                                   "(manifest.json changed after signing, or another key signed it)"]


def test_a_removed_signature(run: Path, pair: KeyPair) -> None:
    (run / SIGNATURE).unlink()
    expected = [f"manifest.sig: missing (manifest.json says key sha256:{pair.fingerprint} signed the run)"]
    assert check(run, pair)[2] == expected
    assert check(run, None)[2] == expected   # the manifest says signed: missing even without a key


def test_a_stripped_signature_is_an_unsigned_run_which_the_key_refuses(run: Path, pair: KeyPair) -> None:
    (run / SIGNATURE).unlink()
    manifest = json.loads((run / MANIFEST).read_text())
    write_json(run / MANIFEST, {k: v for k, v in manifest.items() if k != FIELD})
    assert check(run, None) == (None, False, [])
    assert check(run, pair)[2] == ["manifest.sig: missing (the run is not signed)"]


def test_a_truncated_signature(run: Path, pair: KeyPair) -> None:
    (run / SIGNATURE).write_bytes((run / SIGNATURE).read_bytes()[:63])
    assert check(run, pair)[2][0].startswith("manifest.sig: does not verify")


def test_a_signature_beside_a_manifest_that_records_no_key(tmp_path: Path, pair: KeyPair) -> None:
    run = archive(tmp_path / "plain", None)
    (run / SIGNATURE).write_bytes(b"\0" * 64)
    assert check(run, None)[2] == ["manifest.sig: present, but manifest.json records no signing key"]


def test_an_unreadable_manifest_cannot_be_checked(run: Path, pair: KeyPair) -> None:
    (run / MANIFEST).unlink()
    assert check(run, pair)[2][0] == "manifest.sig: not checked (manifest.json unreadable)"
