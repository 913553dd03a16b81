"""Secrets and privileges (SEC-01, SEC-02): no secret in the app's source tree, a least-privilege database user.

    facade.py        SecurityFacade (``session.security``)
    secrets_scan.py  the app source tree scanned for the target's secrets and MongoDB URIs with a password
    privileges.py    the database user's roles and privileges (connectionStatus, parsed by a pure function) and
                     whether access control is on; the app's own user's roles (usersInfo, database.app_user)
    rights.py        the suite's own rights: the privilege actions its users need (one table), and what a missing
                     one leaves unverified (the preflight's warning)
    suite_role.py    the least-privilege role written out from that table: mongosh, Atlas CLI, Atlas Admin API
"""
from cutover.security.facade import SecurityFacade
from cutover.security.privileges import UNAUTHORIZED, Privileges, parse_connection_status
from cutover.security.rights import GRIDFS, SOURCE, TARGET, RightsCheck, Setting, judge
from cutover.security.secrets_scan import Finding, ScanResult
from cutover.security.suite_role import markdown as suite_role_markdown

__all__ = ["GRIDFS", "SOURCE", "TARGET", "UNAUTHORIZED", "Finding", "Privileges", "RightsCheck", "ScanResult",
           "SecurityFacade", "Setting", "judge", "parse_connection_status", "suite_role_markdown"]
