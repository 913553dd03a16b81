"""The transport area's facade (``session.transport``): what the TLS-* checks ask.

The links come from the target's declaration (:mod:`cutover.transport.topology`), with the file store's region
as S3 reports it when the target declares none (the files area asks: ``session.files``). Before a live
handshake the breaker is asked about the hosts, so a dead endpoint is one error, not one timeout per check.
"""
from __future__ import annotations

from dataclasses import dataclass

from cutover.facade import Facade
from cutover.memo import memoized
from cutover.transport import policy, topology
from cutover.transport.policy import LinkEncryption, TlsHost
from cutover.transport.tls import Handshake, HostPort, handshake
from cutover.transport.topology import Link, RegionAgreement


@dataclass(frozen=True)
class HostSoundness:
    """TLS-02 for one host: its handshake, what is wrong with it, and the trust anchors it was verified with."""

    handshake: Handshake
    problems: tuple[str, ...]
    trust_anchors: str


class TransportFacade(Facade):
    @property
    def timeout_s(self) -> float:
        return self.target.thresholds.timeout_s

    @memoized
    def links(self) -> list[Link]:
        # S3 is asked only for a file-store region the target does not declare (a dead store blocks only that)
        detected = None if self.target.regions.get("file_store") else self.session.files.bucket_region()
        return policy.target_links(self.target, detected)

    def tls_hosts(self) -> list[TlsHost]:
        return policy.tls_hosts(self.links(), self.timeout_s)

    def link_encryption(self, link: Link) -> LinkEncryption:
        """TLS-01: the link's configuration, and a handshake with each of its hosts when it is configured."""
        if link.tls_configured:
            self.session.reach.require_tls(link.hosts)
        return policy.link_encryption(link, self.timeout_s)

    def soundness(self, host: TlsHost) -> HostSoundness:
        """TLS-02: a verified handshake with one host, judged (certificate days, URI options on production)."""
        self.session.reach.require_tls([HostPort(host.host, host.port)])
        shake = handshake(host.host, host.port, self.timeout_s, host.ca_file)
        problems = policy.host_problems(host, shake, self.target.thresholds.cert_min_days, self.target.production)
        return HostSoundness(shake, tuple(problems), policy.trust_anchors(host))

    def file_store_region(self) -> RegionAgreement | None:
        """The file store's declared region against GetBucketLocation; None when there is nothing to compare."""
        files, declared = self.target.files, self.target.regions.get("file_store", "")
        if files is None or files.adapter != "s3" or self.session.s3 is None or not declared:
            return None
        return RegionAgreement(files.bucket, declared, self.session.files.bucket_region())

    def public_url(self) -> str:
        return topology.public_url(self.target)
