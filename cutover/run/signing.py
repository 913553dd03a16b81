"""Signed archives: an Ed25519 key pair (``cutover keygen``), the signature of a run's manifest.json
(``--sign-key``) and its check (``cutover verify-report --key``).

What is signed: the exact bytes of ``manifest.json``, which holds the sha256 of every other file of the run and
the signing key's fingerprint (``signing_key``, also in record.json). The fingerprint comes from the key, known
before anything is written, so recording it inside what is signed makes no cycle; ``manifest.sig`` itself is
listed nowhere. It is the raw 64-byte Ed25519 signature (RFC 8032), so OpenSSL alone checks it too:
``openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in manifest.json -sigfile manifest.sig``.

Keys: the private key is PKCS#8 PEM, unencrypted, mode 0600 (a key file that group or others may read or
write is refused, as ssh does); the public key is SubjectPublicKeyInfo PEM. Both are what OpenSSL and most
tools read. The fingerprint is the sha256 of the raw 32-byte public key, in hex. No message names the private
key's path or holds its contents: the path may say who runs what where, and a key pasted where a path belongs
would be the key itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cutover.errors import KeyFileError
from cutover.run.run_directory import MANIFEST, SIGNATURE

ALGORITHM = "Ed25519"
FIELD = "signing_key"         # in manifest.json and record.json: {"algorithm", "sha256", "signature"}
_MAX_KEY_BYTES = 64 * 1024    # a PEM key is a few hundred bytes; anything far larger is not one


def fingerprint(key: Ed25519PublicKey) -> str:
    """sha256 of the raw public key, hex: what names a key in a run and in every message."""
    return hashlib.sha256(key.public_bytes_raw()).hexdigest()


# -- cutover keygen ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    fingerprint: str


def generate(directory: Path, name: str = "cutover") -> KeyPair:
    """Write ``DIR/<name>.key`` (created 0600: never readable by others, not even briefly) and ``<name>.pub``;
    refuses to overwrite either."""
    if not name or name.startswith(".") or Path(name).name != name:
        raise KeyFileError(f"key name {name!r}: a plain file name is expected (e.g. 'prod-gate')")
    private, public = directory / f"{name}.key", directory / f"{name}.pub"
    for path in (private, public):
        if os.path.lexists(path):
            raise KeyFileError(f"{path}: exists; refusing to overwrite a key (choose another --name or DIR)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create(private, pem, 0o600)
    except OSError as exc:
        raise KeyFileError(f"{directory}: cannot write the key pair ({exc.strerror or exc})") from None
    try:
        _create(public, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    except OSError as exc:
        private.unlink()
        raise KeyFileError(f"{public}: cannot write the public key ({exc.strerror or exc})") from None
    return KeyPair(private, public, fingerprint(key.public_key()))


def _create(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)   # created with its mode, never wider
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, mode)   # exactly this mode, whatever the umask took away
        fh.write(data)


# -- signing a run -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signer:
    """A loaded private key; its repr shows the fingerprint only."""
    key: Ed25519PrivateKey = field(repr=False)
    fingerprint: str

    def facts(self) -> dict[str, Any]:
        """What the run records under ``signing_key`` (manifest.json and record.json)."""
        return {"algorithm": ALGORITHM, "sha256": self.fingerprint, "signature": SIGNATURE}

    def sign(self, run_dir: Path) -> Path:
        """``manifest.sig``: the signature of manifest.json as it is on disk now."""
        path = run_dir / SIGNATURE
        path.write_bytes(self.key.sign((run_dir / MANIFEST).read_bytes()))
        return path


def load_signer(path: Path, origin: str) -> Signer:
    """The private key at ``path``, given by ``origin`` (``--sign-key`` or ``CUTOVER_SIGN_KEY``), checked before
    any run starts. Messages name the origin, never the path or the contents."""
    if str(path).lstrip().startswith("-----BEGIN"):
        raise KeyFileError(f"{origin} holds a key, not a path: write the key to a file only you can read "
                           f"(mode 0600) and give {origin} that file's path")
    data, mode = _read_private(path, origin)
    if _is_public(data):   # said first: a .pub file is world-readable by design, and the mix-up is the news
        raise KeyFileError(f"{origin}: the signing key file holds a public key: sign with the private key "
                           "(<name>.key); the .pub file is what `cutover verify-report --key` takes")
    if os.name == "posix" and mode & 0o077:
        raise KeyFileError(f"{origin}: the signing key file is open to group or others (mode {mode:04o}); "
                           "a private key must be private: chmod 600 it")
    key = _parse_private(data, origin)
    return Signer(key, fingerprint(key.public_key()))


def _read_private(path: Path, origin: str) -> tuple[bytes, int]:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{origin}: the signing key path is not a regular file")
        if info.st_size > _MAX_KEY_BYTES:
            raise KeyFileError(f"{origin}: the signing key file is too large to be a key")
        return path.read_bytes(), stat.S_IMODE(info.st_mode)
    except FileNotFoundError:
        raise KeyFileError(f"{origin}: the signing key file does not exist (its path is never printed)") from None
    except PermissionError:
        raise KeyFileError(f"{origin}: the signing key file cannot be read by this user") from None
    except OSError as exc:
        raise KeyFileError(f"{origin}: the signing key file cannot be read ({exc.strerror})") from None


def _is_public(data: bytes) -> bool:
    try:
        serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def _parse_private(data: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:   # cryptography's answer for an encrypted key without a password
        raise KeyFileError(f"{origin}: the signing key is encrypted with a passphrase; cutover signs with an "
                           "unencrypted key kept private by its file mode and your secret store") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{origin}: the signing key file holds no PEM private key (PKCS#8): make one with "
                           "`cutover keygen DIR`") from None
    if not isinstance(key, Ed25519PrivateKey):
        kind = type(key).__name__.removesuffix("PrivateKey")
        raise KeyFileError(f"{origin}: the signing key is not Ed25519 ({kind}): make one with `cutover keygen DIR`")
    return key


# -- checking a run ------------------------------------------------------------------------------------------
def load_public_key(path: Path) -> Ed25519PublicKey:
    """An auditor's public key (``verify-report --key``); its path may be named."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the public key ({exc.strerror})") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        if b"PRIVATE KEY-----" in data:
            raise KeyFileError(f"{path}: a private key: --key takes the public key (<name>.pub); keep the private "
                               "key to the run that signs") from None
        raise KeyFileError(f"{path}: not a PEM public key (SubjectPublicKeyInfo, as `cutover keygen` writes "
                           "<name>.pub)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class SignatureCheck:
    signed_by: str | None           # the fingerprint manifest.json records, None when it records none
    checked: bool                   # a public key was given and the signature was checked with it
    problems: tuple[str, ...] = ()  # empty: no problem found (with checked: the signature is valid)


def check_signature(run_dir: Path, key: Ed25519PublicKey | None) -> SignatureCheck:
    """The signature of ``run_dir``'s manifest.json: present when the manifest says it was signed, and, when
    ``key`` is given, required and valid for that key. The hashes are
    :func:`cutover.run.run_directory.verify_manifest`'s."""
    try:
        manifest = (run_dir / MANIFEST).read_bytes()
    except OSError:
        return SignatureCheck(None, False, ("manifest.sig: not checked (manifest.json unreadable)",) if key else ())
    recorded = _recorded(manifest)
    signature = run_dir / SIGNATURE
    if not signature.is_file():
        if recorded:
            return SignatureCheck(recorded, False, (f"{SIGNATURE}: missing (manifest.json says key sha256:"
                                                    f"{recorded} signed the run)",))
        return SignatureCheck(None, False, (f"{SIGNATURE}: missing (the run is not signed)",) if key else ())
    problems = [] if recorded else [f"{SIGNATURE}: present, but manifest.json records no signing key"]
    if key is None:
        return SignatureCheck(recorded, False, tuple(problems))
    expected = fingerprint(key)
    if recorded and recorded != expected:
        problems.append(f"{MANIFEST}: signed by another key (sha256:{recorded}; --key is sha256:{expected})")
    try:
        key.verify(signature.read_bytes(), manifest)
    except InvalidSignature:
        problems.append(f"{SIGNATURE}: does not verify with key sha256:{expected} (manifest.json changed "
                        "after signing, or another key signed it)")
    return SignatureCheck(recorded, True, tuple(problems))


def _recorded(manifest: bytes) -> str | None:
    try:
        entry = json.loads(manifest).get(FIELD)
    except (ValueError, AttributeError):
        return None
    found = entry.get("sha256") if isinstance(entry, dict) else None
    return found if isinstance(found, str) and found else None
