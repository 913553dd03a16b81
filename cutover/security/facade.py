"""The security area's facade (``session.security``): what SEC-01 and SEC-02 ask."""
from __future__ import annotations

from cutover.facade import Facade
from cutover.security import privileges as roles
from cutover.security import secrets_scan as scan


class SecurityFacade(Facade):
    def secrets_scan(self) -> scan.ScanResult:
        """SEC-01: the app's source tree scanned for the target's secrets and MongoDB URIs with a password."""
        return scan.scan_target(self.target)

    def searched_for(self) -> list[str]:
        """What SEC-01 looks for, by kind (never the values)."""
        return [*sorted(scan.secrets_of(self.target)), "MongoDB URIs"]

    def privileges(self) -> roles.Privileges:
        """SEC-02: the roles of the app's database user when ``database.app_user`` names it, else of the user the
        target's URI connects with."""
        name, auth_db = self.target.database.app_user_parts()
        if name:
            return roles.app_user_privileges(self.session.target_db, name, auth_db)
        return roles.privileges(self.session.target_db)

    def privilege_problems(self, facts: roles.Privileges) -> list[str]:
        return roles.privilege_problems(facts, self.target.production)
