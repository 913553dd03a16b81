"""The transport policy: which links must be encrypted (TLS-01), which hosts are judged (TLS-02), TLS-03.

TLS-01 judges *encryption*: a crossing link must be configured for TLS and a handshake (not yet judging
the certificate) must come up with every host. Soundness of that handshake (version, chain, name, expiry,
URI options that switch checks off) is TLS-02's verdict, so one defect fails one criterion.
Same-region plaintext is a fact worth reporting, not a failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cutover.model import Target
from cutover.transport.tls import Handshake, handshake, handshake_problems
from cutover.transport.topology import Link, link_hosts, links
from cutover.transport.topology import detected_regions as _detected

_TRUST_WORDS = ("issuer", "self-signed", "self signed", "chain")   # OpenSSL reasons about the trust anchors


@dataclass(frozen=True)
class LinkEncryption:
    """TLS-01 facts for one link: its regions, configuration and one handshake per host (when configured)."""

    link: Link
    handshakes: tuple[Handshake, ...] = ()

    @property
    def problems(self) -> list[str]:
        if not self.link.crosses:
            return []
        if not self.link.tls_configured:
            return [f"crosses regions ({self.link.regions()}) but is not configured for TLS: {self.link.how}"]
        return [f"{h.endpoint}: no TLS handshake ({h.error})" for h in self.handshakes if not h.established]

    @property
    def note(self) -> str:
        """One line for the report: what was found, including the tolerated same-region plaintext."""
        if not self.link.crosses:
            state = "encrypted" if self.link.tls_configured else "plaintext (reported, not failed)"
            return f"same region ({self.link.regions()}): {state}"
        return f"crosses regions ({self.link.regions()}): {self.link.how}"

    def facts(self) -> dict[str, object]:
        return {"link": self.link.name, "regions": self.link.regions(), "crosses": self.link.crosses,
                "tls_configured": self.link.tls_configured, "configured_as": self.link.how, "note": self.note,
                "handshakes": [{"host": h.endpoint, "established": h.established, "version": h.version,
                                "error": h.error} for h in self.handshakes]}


@dataclass(frozen=True)
class TlsHost:
    """One host of a TLS-configured link, with the trust anchors and URI options that apply to it."""

    link: str
    host: str
    port: int
    ca_file: str = ""
    weakening: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.link}@{host}:{self.port}"


def target_links(target: Target, actual_store_region: str | None = None) -> list[Link]:
    """The target's links, with the file store's region as S3 reports it when the target declares none."""
    return links(target, _detected(actual_store_region))


def link_encryption(link: Link, timeout: float) -> LinkEncryption:
    """Handshake with every host of a TLS-configured link (certificates are TLS-02's business)."""
    if not link.tls_configured:
        return LinkEncryption(link)
    hosts = link_hosts(link, timeout)
    return LinkEncryption(link, tuple(handshake(h.host, h.port, timeout, verify=False) for h in hosts))


def tls_hosts(all_links: list[Link], timeout: float) -> list[TlsHost]:
    """Every host of every TLS-configured link (SRV names resolved), once per link."""
    return [TlsHost(link.name, h.host, h.port, link.ca_file, link.weakening)
            for link in all_links if link.tls_configured for h in link_hosts(link, timeout)]


def host_problems(host: TlsHost, shake: Handshake, min_days: int, production: bool) -> list[str]:
    """TLS-02 problems of one host; options that disable verification count only on production targets."""
    problems = handshake_problems(shake, min_days)
    if any(word in shake.verify_error for word in _TRUST_WORDS):
        problems.append(f"trust anchors: {trust_anchors(host)}")
    if production and host.weakening:
        problems.append(f"the URI sets {', '.join(host.weakening)} on a production target")
    return problems


def trust_anchors(host: TlsHost) -> str:
    return f"CA file {Path(host.ca_file).name}" if host.ca_file else "the system store"


def public_url_is_https(url: str) -> bool:
    return url.lower().startswith("https://")
