"""Secrets: none in the app's source tree; a least-privilege database user (SEC-01, SEC-02)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cutover.model import Target
from cutover.session import Session


@pytest.mark.criterion("SEC-01")
def test_no_secrets_in_app_source(session: Session, target: Target, report_table: Callable[..., None],
                                  record_facts: Callable[..., None]) -> None:
    """No master key, file key, AWS secret access key or MongoDB URI with a password in the app's source
    tree (text files; node_modules and .git skipped)."""
    if not target.app_source_dir:
        pytest.skip("no app_source_dir declared: add the app's source tree ([targets.NAME] app_source_dir) to "
                    "check it for secrets")
    scan = session.security.secrets_scan()
    found = scan.findings
    record_facts(root=Path(scan.root).name, files_scanned=scan.files_scanned, skipped=scan.skipped,
                 findings=len(found), searched_for=session.security.searched_for())
    report_table("secrets in the app source (masked)", ["file", "line", "secret", "line (masked)"],
                 [[f.path, f.line, f.kind, f.excerpt] for f in found[:100]])
    listed = "; ".join(f"{f.path}:{f.line} {f.kind} ({f.excerpt})" for f in found[:10])
    assert not found, f"{len(found)} secret(s) in the app source ({scan.files_scanned} files scanned): {listed}"


@pytest.mark.criterion("SEC-02")
def test_least_privilege_user(target: Target, session: Session, record_facts: Callable[..., None]) -> None:
    """The database user is not a cluster administrator (root, clusterAdmin, userAdminAnyDatabase, ...) and
    the database is not `admin`; a production server must not run without access control."""
    facts = session.security.privileges()
    problems = session.security.privilege_problems(facts)
    record_facts(production=target.production, **facts.facts())
    assert not problems, f"database {facts.database}: " + "; ".join(problems)
