"""Keeping secrets out of every output: URIs without passwords, known secret values masked."""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# the password runs to the LAST '@' of the authority, as urlsplit reads it (an unencoded '@' in it is common)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/?#\s]*):(?P<pw>[^/?#\s]*)@", re.I)
# The same userinfo after any scheme character, for masking: starting with the literal "://" lets the regex engine
# jump from one "://" to the next instead of trying a scheme at every letter (17 MB of a 6,000-check run's files:
# 0.04 s instead of 1.8 s). It masks a few more strings than _USERINFO would find ("9+://u:p@"): never fewer.
_PASSWORD = re.compile(r"://(?<=[a-z0-9+.-]://)(?P<user>[^:@/?#\s]*):(?P<pw>[^/?#\s]*)@", re.I)


def cut(text: str, limit: int = 60) -> str:
    """A value read from outside (a file may hold anything), cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def uri_password(uri: str) -> str:
    """The password embedded in a URI, or ''."""
    try:
        return urlsplit(uri).password or ""
    except ValueError:
        match = _USERINFO.search(uri)
        return match.group("pw") if match else ""


def redact_uri(uri: str) -> str:
    """The URI with its password masked (user kept), query kept."""
    return _mask_passwords(uri)


def _mask_passwords(text: str) -> str:
    return _PASSWORD.sub(lambda m: f"://{m.group('user')}:{MASK}@", text)


def host_of(uri: str) -> str:
    """scheme://host[:port] of a URI, for ids and labels that must never carry credentials or paths."""
    try:
        parts = urlsplit(uri)
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"  # IPv6 literal
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return "(unparseable URI)"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret value and every URI password masked."""
    # known values first: masking URI passwords first could cut a known secret so it no longer matches
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _mask_passwords(text)
