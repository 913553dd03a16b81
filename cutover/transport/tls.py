"""Live transport facts: TLS handshakes (version, cipher, certificate, verification), TCP connects, URI TLS options.

Each handshake is done twice on fresh connections, because one answer cannot give every fact:

1. *observe*: no verification and every protocol version allowed, so a server that only speaks TLS 1.0 or
   presents a bad certificate still yields its negotiated version, cipher and certificate;
2. *verify*: the system store (or the given CA file, and then only that file), host name checked, so the
   verification error is OpenSSL's own reason ("certificate has expired", "Hostname mismatch ...").

A refused or timed-out TCP connect, and a handshake that times out, mean nothing could be judged: they raise
:class:`TargetUnreachable` / :class:`TargetTimeout`. A peer that answers but fails the handshake (plaintext
server, protocol refused) is a *fact* (``established=False`` with the reason): that is what TLS-01 judges.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from cryptography import x509

from cutover.errors import TargetTimeout, TargetUnreachable

MIN_VERSION = "TLSv1.2"
_VERSION_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True, order=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Handshake:
    """What one TLS endpoint negotiated and presented; ``established`` False when no TLS session came up."""

    host: str
    port: int
    established: bool
    error: str = ""                # why the handshake failed (established=False)
    version: str = ""              # TLSv1.3 ...
    cipher: str = ""
    issuer: str = ""
    subject: str = ""
    not_after: dt.datetime | None = None
    days_left: int | None = None
    hostname_matches: bool = False
    verified: bool = False
    verify_error: str = ""         # OpenSSL's reason when the chain or name did not verify

    @property
    def endpoint(self) -> str:
        return str(HostPort(self.host, self.port))

    def facts(self) -> dict[str, object]:
        return {"host": self.endpoint, "established": self.established, "error": self.error,
                "version": self.version, "cipher": self.cipher, "issuer": self.issuer, "subject": self.subject,
                "not_after": self.not_after.isoformat() if self.not_after else None, "days_left": self.days_left,
                "hostname_matches": self.hostname_matches, "verified": self.verified,
                "verify_error": self.verify_error}


@dataclass(frozen=True)
class UriTls:
    """The TLS options a MongoDB URI sets (names case-insensitive, ``ssl`` as an alias of ``tls``)."""

    enabled: bool
    srv: bool = False
    allow_invalid_certificates: bool = False
    allow_invalid_hostnames: bool = False
    insecure: bool = False
    ca_file: str = ""

    def weakening(self) -> tuple[str, ...]:
        """The options that switch verification off, as the URI spells them."""
        flags = (("tlsAllowInvalidCertificates", self.allow_invalid_certificates),
                 ("tlsAllowInvalidHostnames", self.allow_invalid_hostnames), ("tlsInsecure", self.insecure))
        return tuple(name for name, on in flags if on)

    def describe(self) -> str:
        if self.srv:
            return "mongodb+srv (TLS by default)" if self.enabled else "mongodb+srv with tls=false"
        return "tls=true" if self.enabled else "no tls/ssl option (plaintext)"


def mongo_tls_options(uri: str) -> UriTls:
    """TLS options of a ``mongodb://`` or ``mongodb+srv://`` URI; ``+srv`` implies TLS unless turned off."""
    srv = uri.lower().startswith("mongodb+srv://")
    options = {k.lower(): v.strip().lower() for k, v in parse_qsl(uri.partition("?")[2])}
    switch = options.get("tls", options.get("ssl"))
    enabled = srv if switch is None else switch == "true"
    ca_file = next((v for k, v in parse_qsl(uri.partition("?")[2]) if k.lower() == "tlscafile"), "")
    insecure = options.get("tlsinsecure") == "true"
    return UriTls(
        enabled=enabled, srv=srv, insecure=insecure, ca_file=ca_file,
        allow_invalid_certificates=options.get("tlsallowinvalidcertificates") == "true"
        or options.get("ssl_cert_reqs", "").upper() == "CERT_NONE",
        allow_invalid_hostnames=options.get("tlsallowinvalidhostnames") == "true"
        or options.get("ssl_match_hostname") == "false",
    )


def tcp_connect(host: str, port: int, timeout: float) -> float:
    """Seconds a plain TCP connect to host:port took; TargetUnreachable / TargetTimeout when it fails."""
    started = time.monotonic()
    _connect(host, port, timeout).close()
    return time.monotonic() - started


def handshake(host: str, port: int, timeout: float, ca_file: str = "", verify: bool = True) -> Handshake:
    """Observe then (unless ``verify`` is False) verify a TLS handshake with host:port (module docstring)."""
    observed = _observe(host, port, timeout)
    if not observed.established or not verify:
        return observed
    legacy = version_rank(observed.version) < version_rank(MIN_VERSION)
    verify_error = _verify(host, port, timeout, ca_file, legacy)
    return _with(observed, verified=not verify_error, verify_error=verify_error)


def version_rank(version: str) -> int:
    return _VERSION_ORDER.index(version) if version in _VERSION_ORDER else -1


def handshake_problems(h: Handshake, min_days: int) -> list[str]:
    """What makes this handshake unsound for TLS-02 (empty when sound)."""
    if not h.established:
        return [f"no TLS handshake: {h.error}"]
    problems = []
    if version_rank(h.version) < version_rank(MIN_VERSION):
        problems.append(f"negotiated {h.version}, expected {MIN_VERSION} or newer")
    if h.verify_error:
        problems.append(f"certificate does not verify: {h.verify_error}")
    if not h.hostname_matches and "mismatch" not in h.verify_error:
        problems.append(f"certificate ({h.subject}) is not valid for host name {h.host}")
    if h.days_left is not None and h.days_left < 0 and "expired" not in h.verify_error:
        problems.append(f"certificate expired on {h.not_after:%Y-%m-%d}")
    elif h.days_left is not None and 0 <= h.days_left < min_days:
        problems.append(f"certificate valid {h.days_left} more days (until {h.not_after:%Y-%m-%d}), "
                        f"expected >= {min_days}")
    return problems


# -- connections ---------------------------------------------------------------------------------------------
def _connect(host: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as exc:
        raise TargetTimeout(f"{HostPort(host, port)}: no TCP connection within {timeout:g} s") from exc
    except OSError as exc:
        raise TargetUnreachable(f"{HostPort(host, port)}: TCP connect failed ({exc.strerror or exc}); "
                                "check the host, port and firewall") from exc


def _tls(host: str, port: int, timeout: float, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    sock = _connect(host, port, timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except TimeoutError as exc:
        sock.close()
        raise TargetTimeout(f"{HostPort(host, port)}: no TLS answer within {timeout:g} s") from exc
    except BaseException:
        sock.close()
        raise


def _observe(host: str, port: int, timeout: float) -> Handshake:
    try:
        with _tls(host, port, timeout, _context(verify=False, legacy=True)) as tls:
            der = tls.getpeercert(binary_form=True)
            version, cipher = tls.version() or "", (tls.cipher() or ("",))[0]
    except (ssl.SSLError, ConnectionError) as exc:
        return Handshake(host, port, established=False, error=_reason(exc))
    return _with_certificate(Handshake(host, port, True, version=version, cipher=cipher), der)


def _verify(host: str, port: int, timeout: float, ca_file: str, legacy: bool) -> str:
    try:
        with _tls(host, port, timeout, _context(verify=True, legacy=legacy, ca_file=ca_file)):
            return ""
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message or _reason(exc)
    except (ssl.SSLError, ConnectionError) as exc:
        return _reason(exc)


def _context(verify: bool, legacy: bool, ca_file: str = "") -> ssl.SSLContext:
    if verify:
        ctx = ssl.create_default_context(cafile=ca_file or None)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if legacy:  # observing what an old server offers is the point; OpenSSL 3 needs SECLEVEL 0 for TLS < 1.2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason} ({exc.library})" if exc.library else str(exc.reason)
    if isinstance(exc, ConnectionError):
        return f"connection closed during the handshake ({type(exc).__name__}): is the port plaintext?"
    return str(exc) or type(exc).__name__


# -- certificates --------------------------------------------------------------------------------------------
def _with_certificate(h: Handshake, der: bytes | None) -> Handshake:
    if not der:
        return h
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - dt.datetime.now(dt.UTC)).days
    return _with(h, issuer=cert.issuer.rfc4514_string(), subject=cert.subject.rfc4514_string(),
                 not_after=not_after, days_left=days_left, hostname_matches=hostname_matches(cert, h.host))


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """RFC 6125 matching against the subjectAltName only (as browsers and OpenSSL clients do): DNS names with
    a left-most ``*`` label, IP addresses compared as addresses."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return any(_dns_match(pattern, host) for pattern in san.get_values_for_type(x509.DNSName))
    return ip in san.get_values_for_type(x509.IPAddress)


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern.startswith("*."):
        return pattern == host
    head, _, rest = host.partition(".")
    return bool(head) and rest == pattern[2:]


def _with(h: Handshake, **changes: object) -> Handshake:
    return replace(h, **changes)  # type: ignore[arg-type]
