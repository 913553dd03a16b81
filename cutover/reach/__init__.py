"""Reachability: the components a target declares, a breaker that remembers dead ones, the preflight.

    breaker.py     every component of a target (databases, Parse Servers, stores, TLS endpoints) and the
                   Breaker: once a component is found dead, its accessors fail at once, in every process
    preflight.py   one attempt to reach every component, all at once, before any check
    pings.py       the one ping per kind of component (MongoDB ping, HTTP GET, S3 list, TLS handshake)
    failures.py    whether an error is a transport failure, and at which address

Cross-cutting: the session's accessors ask the breaker first, whatever area they serve.
"""
from cutover.reach.breaker import (
    FILE_STORE,
    GRIDFS_DB,
    PARSE,
    PUBLIC_URL,
    REST_SOURCE,
    SOURCE_DB,
    SOURCE_PARSE,
    SOURCE_STORE,
    TARGET_DB,
    TLS_PREFIX,
    Breaker,
    Component,
    Dead,
    components,
)
from cutover.reach.preflight import Preflight, run_preflight

__all__ = ["FILE_STORE", "GRIDFS_DB", "PARSE", "PUBLIC_URL", "REST_SOURCE", "SOURCE_DB", "SOURCE_PARSE",
           "SOURCE_STORE", "TARGET_DB", "TLS_PREFIX", "Breaker", "Component", "Dead", "Preflight", "components",
           "run_preflight"]
