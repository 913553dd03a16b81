"""Signed archives in a gate run: ``--sign-key PATH`` (or ``CUTOVER_SIGN_KEY``) is loaded and checked when the
run is configured, before anything is written (a bad key is one line, exit 4, not a surprise hours later); the
archive records the key's fingerprint and, once manifest.json is written, signs it (:mod:`cutover.run.signing`).
Only the controller loads the key: xdist workers never archive. Without a key nothing here does anything.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cutover.errors import KeyFileError
from cutover.run.signing import Signer, load_signer

ENV = "CUTOVER_SIGN_KEY"
_SIGNER = pytest.StashKey[Signer]()


def add_option(group: Any) -> None:
    group.addoption("--sign-key", default=None, metavar="PATH",
                    help="sign the archived run with this Ed25519 private key (cutover keygen; mode 0600): "
                         f"manifest.sig, checked by `cutover verify-report --key` (env {ENV})")


def load(config: pytest.Config) -> None:
    """Load the signing key named by the option or the environment, or stop the run with one line."""
    option, env = config.getoption("sign_key"), os.environ.get(ENV)
    if not option and not env:
        return
    origin = "--sign-key" if option else ENV
    try:
        config.stash[_SIGNER] = load_signer(Path(option or env or ""), origin)
    except KeyFileError as exc:
        raise pytest.UsageError(str(exc)) from None


def signer(config: pytest.Config) -> Signer | None:
    """The run's signer, when it is signed (the archive signs with it: :mod:`cutover_pytest.archive`)."""
    return config.stash.get(_SIGNER, None)


def environment(config: pytest.Config) -> dict[str, str]:
    """The line of the report's environment table that says the run is signed (and by which key)."""
    signer = config.stash.get(_SIGNER, None)
    return {"Signed with key": f"Ed25519 sha256:{signer.fingerprint}"} if signer is not None else {}
