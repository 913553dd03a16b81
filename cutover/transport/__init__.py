"""Transport (TLS-01..TLS-03): the deployment's links and regions, live TLS handshakes, the encryption policy.

    tls.py         handshakes (observed, then verified), certificates, TCP probes, a URI's TLS options
    topology.py    components, declared regions, the links between them and their hosts (SRV resolved)
    policy.py      which links must be encrypted (TLS-01), which hosts are judged (TLS-02), TLS-03
"""
