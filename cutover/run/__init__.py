"""A run, besides the checks' facts: what it is configured with, what it judges by, and what it leaves behind.

    config.py        targets.toml: ${ENV} substitution, validation into the model (cutover.model), sandbox targets
    criteria.py      the registry: every criterion with its area, severity, text, applicability and check module
    catalogue.py     docs/CHECKS.md and `cutover criteria`, rendered from the registry
    check_record.py  a check's record (CheckRecord): outcome, verdict, message, evidence
    verification.py  each criterion's verdict from its checks' records (coverage)
    gate.py          the verdict of the run (PASS, FAIL, INCOMPLETE, PARTIAL PASS, NOT RUN) and its exit code
    waivers.py       waivers.toml: justified, dated exceptions
    run_directory.py the run directory: its name, the run's identity, record.json, redaction, the sha256 manifest
    history.py       what changed since the previous run; reports/<target>/index.html
    config_dump.py   a Target written back as a targets file (the sandbox's snippet, scenario tests)
    extras.py        which requirements of an extra are missing (`cutover[sandbox]`)
    plan_file.py     the plan file a planning job writes and the shards read (counts, DB-02's units)
    plan_command.py  `cutover plan`: the planning job
    init_file.py     `cutover init`: a commented targets file for a new target, from the model (init_notes.py: a
                     line per key)
    cli.py           the `cutover` command: verify-report, merge, keygen, criteria, init, roles, plan
"""
from cutover.run.config_dump import dump_target
from cutover.run.criteria import CRITERIA

__all__ = ["CRITERIA", "dump_target"]
