"""The polite-scan keys: [targets.NAME.scans] and allow_blocking_commands, loaded, validated, written back,
and what the session makes of them (read preference on the heavy reads, the cap split among workers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cutover.errors import ConfigError
from cutover.model import Scans, Target
from cutover.run.config import load_target
from cutover.run.config_dump import dump_target
from cutover.session import RunOptions, Session

BASE = '[targets.t]\nsource = { kind = "mongodb", uri = "mongodb://old.example.com/app" }\n' \
       'database = { uri = "mongodb://new.example.com/app" }\n'


def load(tmp_path: Path, text: str) -> Target:
    path = tmp_path / "targets.toml"
    path.write_text(BASE + text, encoding="utf-8")
    target = load_target(path, "t")
    assert isinstance(target, Target)
    return target


def test_defaults_send_no_blocking_command_and_read_as_the_uri_says(tmp_path: Path) -> None:
    target = load(tmp_path, "")
    assert target.allow_blocking_commands is False
    assert target.scans == Scans() and target.scans.aggregation_budget(10.0) == 600.0


def test_every_scan_key_loads(tmp_path: Path) -> None:
    target = load(tmp_path, 'allow_blocking_commands = true\n[targets.t.scans]\n'
                            'read_preference = "secondaryPreferred"\nmax_docs_per_s = 5000\n'
                            'aggregation_timeout_s = 900\n')
    assert target.allow_blocking_commands is True
    assert target.scans == Scans("secondaryPreferred", 5000, 900.0)
    assert target.scans.aggregation_budget(10.0) == 900.0


@pytest.mark.parametrize(("text", "fragment"), [
    ('[targets.t.scans]\nread_preference = "secondary_preferred"\n',
     "targets.t.scans.read_preference: expected one of primary, primaryPreferred, secondary, secondaryPreferred, "
     "nearest, got 'secondary_preferred'"),
    ("[targets.t.scans]\nmax_docs_per_s = -1\n",
     "targets.t.scans.max_docs_per_s: expected documents per second in [0, 10^9], got -1"),
    ("[targets.t.scans]\naggregation_timeout_s = -5\n",
     "targets.t.scans.aggregation_timeout_s: expected seconds in [0, 86400], got -5"),
    ('[targets.t.scans]\nmax_docs_per_s = "fast"\n', "targets.t.scans.max_docs_per_s: expected an integer"),
    ('allow_blocking_commands = "yes"\n', "targets.t.allow_blocking_commands: expected true or false"),
    ("[targets.t.scans]\nrate = 5\n", "targets.t.scans.rate: unknown key"),
])
def test_wrong_scan_keys_fail_in_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_the_keys_survive_a_dump_and_reload(tmp_path: Path) -> None:
    target = load(tmp_path, 'allow_blocking_commands = true\n[targets.t.scans]\nread_preference = "nearest"\n'
                            "max_docs_per_s = 7\n")
    text, _ = dump_target(target)
    path = tmp_path / "again.toml"
    path.write_text(text, encoding="utf-8")
    again = load_target(path, "t")
    assert isinstance(again, Target)
    assert (again.allow_blocking_commands, again.scans) == (True, target.scans)


def test_the_session_reads_heavily_with_the_scan_read_preference_only(tmp_path: Path) -> None:
    session = Session(load(tmp_path, '[targets.t.scans]\nread_preference = "secondaryPreferred"\n'))
    try:
        assert session.data.scan_db("target").read_preference.mongos_mode == "secondaryPreferred"
        assert session.data.scan_db("source").read_preference.mongos_mode == "secondaryPreferred"
        assert session.target_db.read_preference.mongos_mode == "primary"
    finally:
        session.close()


def test_the_cap_is_shared_among_xdist_workers(tmp_path: Path) -> None:
    target = load(tmp_path, "[targets.t.scans]\nmax_docs_per_s = 9000\n")
    assert Session(target, RunOptions(workers=3)).data.pace("target").per_s == 3000
    assert Session(target).data.pace("source").per_s == 9000
    assert not Session(load(tmp_path, "")).data.pace("target").capped
