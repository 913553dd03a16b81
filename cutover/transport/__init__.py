"""Transport (TLS-01..TLS-03): the deployment's links and regions, live TLS handshakes, the encryption policy.

    facade.py      TransportFacade (``session.transport``): what the TLS-* checks ask
    tls.py         handshakes (observed, then verified), certificates, TCP connects, a URI's TLS options
    topology.py    components, declared regions, the links between them and their hosts (SRV resolved)
    policy.py      which links must be encrypted (TLS-01), which hosts are judged (TLS-02), TLS-03
"""
from cutover.transport.facade import HostSoundness, TransportFacade
from cutover.transport.policy import LinkEncryption, TlsHost, public_url_is_https
from cutover.transport.tls import Handshake, HostPort, handshake
from cutover.transport.topology import Link, RegionAgreement, links, mongo_hosts, url_host

__all__ = ["Handshake", "HostPort", "HostSoundness", "Link", "LinkEncryption", "RegionAgreement", "TlsHost",
           "TransportFacade", "handshake", "links", "mongo_hosts", "public_url_is_https", "url_host"]
