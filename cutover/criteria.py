"""The criteria catalogue (mirrors CHECKS.md): ID -> severity, area and a short title."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    id: str
    severity: str   # blocker | major | minor
    area: str
    title: str


_TABLE = """
DB-01|blocker|Data|Row counts per class
DB-02|blocker|Data|Document content equal
DB-03|blocker|Data|Indexes present with the same options
DB-04|blocker|Data|No index key over the Index Key Limit
DB-05|major|Data|Declared queries served by an index
DB-06|major|Data|Deployment health before finalizing
DB-07|major|Data|Collections and metadata equal
FILE-01|blocker|Files|Every referenced file resolves
FILE-02|blocker|Files|No dependency on Parse-hosted files
FILE-03|major|Files|Storage configuration sound
FILE-04|minor|Files|Orphaned files in the store
API-01|blocker|REST|Health, mount path and app id
API-02|blocker|REST|CRUD round-trip for every Parse type
API-03|blocker|REST|Server wired to the target database
API-04|blocker|REST|Files round-trip
API-05|major|REST|Cloud Code functions answer
API-06|blocker|REST|Access control holds
API-07|major|REST|User sign-up, log-in, log-out
API-08|major|REST|Source and target answer queries alike
TLS-01|blocker|Transport|Cross-region links encrypted
TLS-02|blocker|Transport|TLS handshakes sound
TLS-03|major|Transport|Public server URL is https
SEC-01|blocker|Secrets|No secrets in the app source
SEC-02|major|Secrets|Least-privilege database user
CLI-01|major|Clients|SDKs able to change server URL
"""

CRITERIA: dict[str, Criterion] = {
    row[0]: Criterion(*row)
    for row in (line.split("|") for line in _TABLE.strip().splitlines())
}


def severity_of(criterion_id: str, overrides: dict[str, str] | None = None) -> str:
    """The severity of a criterion, a target's override first."""
    if overrides and criterion_id in overrides:
        return overrides[criterion_id]
    return CRITERIA[criterion_id].severity
