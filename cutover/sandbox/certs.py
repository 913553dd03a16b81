"""A local PKI for the sandbox: one trusted CA and server certificates good and bad, written as PEM files.

``make_pki(directory)`` gives a ``Pki`` whose ``ca_file`` is the only trust anchor clients should load.
Its server pairs each exercise one TLS-02 verdict:

    good        SANs localhost, 127.0.0.1, ::1; valid from yesterday for about a year
    expired     same hosts; not_after in the past ("certificate has expired")
    expiring    same hosts; valid only 5 more days (verifies, but fails the "valid >= 30 days" rule)
    wrong_host  SAN wrong.example.test only (hostname mismatch for localhost / 127.0.0.1)
    untrusted   same hosts, signed by a second CA that is *not* in ca_file ("unable to get local issuer")

Keys are ECDSA (trustme's default), which every TLS version from 1.0 to 1.3 can use.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
WRONG_HOST = "wrong.example.test"
GOOD_DAYS = 365
EXPIRING_DAYS = 5


@dataclass(frozen=True)
class CertPair:
    """One server certificate as files: ``cert_file`` holds the leaf then its chain, ``combined_file``
    the key followed by that chain (what stunnel and ``ssl.load_cert_chain(combined)`` accept)."""

    name: str
    cert_file: Path
    key_file: Path
    combined_file: Path
    not_after: dt.datetime


@dataclass(frozen=True)
class Pki:
    """The trusted CA file and the server pairs signed for the sandbox."""

    directory: Path
    ca_file: Path
    untrusted_ca_file: Path
    good: CertPair
    expired: CertPair
    expiring: CertPair
    wrong_host: CertPair
    untrusted: CertPair


def make_pki(directory: Path) -> Pki:
    """Create ``directory`` and write the CA and every server pair into it; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca, rogue_ca = trustme.CA(), trustme.CA()
    ca_file, rogue_file = directory / "ca.pem", directory / "untrusted-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    rogue_ca.cert_pem.write_to_path(str(rogue_file))
    year = now + dt.timedelta(days=GOOD_DAYS)
    return Pki(
        directory=directory,
        ca_file=ca_file,
        untrusted_ca_file=rogue_file,
        good=_issue(ca, directory, "good", SERVER_HOSTS, now - dt.timedelta(days=1), year),
        expired=_issue(
            ca, directory, "expired", SERVER_HOSTS, now - dt.timedelta(days=400), now - dt.timedelta(days=2)
        ),
        expiring=_issue(
            ca, directory, "expiring", SERVER_HOSTS, now - dt.timedelta(days=1),
            now + dt.timedelta(days=EXPIRING_DAYS),
        ),
        wrong_host=_issue(ca, directory, "wrong_host", (WRONG_HOST,), now - dt.timedelta(days=1), year),
        untrusted=_issue(rogue_ca, directory, "untrusted", SERVER_HOSTS, now - dt.timedelta(days=1), year),
    )


def _issue(
    ca: trustme.CA, directory: Path, name: str, hosts: tuple[str, ...],
    not_before: dt.datetime, not_after: dt.datetime,
) -> CertPair:
    leaf = ca.issue_cert(*hosts, common_name=hosts[0], not_before=not_before, not_after=not_after)
    pair = CertPair(
        name=name,
        cert_file=directory / f"{name}.crt.pem",
        key_file=directory / f"{name}.key.pem",
        combined_file=directory / f"{name}.combined.pem",
        not_after=not_after.replace(microsecond=0),
    )
    pair.cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(pair.key_file))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(pair.combined_file))
    pair.key_file.chmod(0o600)
    pair.combined_file.chmod(0o600)
    return pair
