"""Secrets and privileges (SEC-01, SEC-02): no secret in the app's source tree, a least-privilege database user.

    facade.py        SecurityFacts (``session.security``)
    secrets_scan.py  the app source tree scanned for the target's secrets and MongoDB URIs with a password
    privileges.py    the database user's roles (connectionStatus) and whether access control is on
"""
from cutover.security.facade import SecurityFacts
from cutover.security.privileges import Privileges
from cutover.security.secrets_scan import Finding, ScanResult

__all__ = ["Finding", "Privileges", "ScanResult", "SecurityFacts"]
