"""``cutover init``: the targets file it writes is written from the model, every key it holds is a key the loader
takes (every line turned on), every table docs/targets.md documents is in it, and as written it loads once its
two database URIs are in the environment. The command refuses to overwrite, prints to stdout with ``-o -``, and
prints the next steps and the suite's own roles; ``cutover roles`` prints the roles, as docs/targets.md holds them.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cutover import model
from cutover.errors import ConfigError
from cutover.run.cli import main
from cutover.run.config import SandboxSpec, build_target, load_target
from cutover.run.config_dump import toml_value
from cutover.run.init_file import OFF_TABLES, PLACEHOLDERS, env_prefix, render, write
from cutover.run.init_notes import NOTES, TABLES
from cutover.security.suite_role import markdown
from tests.unit.test_targets_doc import DOC, sections, wanted

NAME = "NAME"   # the docs' own spelling of a target's name, so that the headings compare as they are
SETTING = re.compile(r"^#(\[|[A-Za-z_\"])")   # a commented setting or table header, not prose ("# ...")


def turn_on(text: str, table: str | None = None) -> str:
    """The file with every commented setting and header turned on (or only those of one commented block)."""
    if table is None:
        return "\n".join(line[1:] if SETTING.match(line) else line for line in text.splitlines())
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("#["):
            inside = line.strip("#[]") == f"targets.{NAME}.{table}"
        elif not line.startswith("#"):
            inside = False
        lines.append(line[1:] if inside and line.startswith("#") else line)
    return "\n".join(lines)


def environment(name: str = NAME) -> dict[str, str]:
    """A value for every ${VAR} the file names."""
    values = {"SOURCE_MONGODB_URI": "mongodb://old.example.net/legacy", "TARGET_MONGODB_URI":
              "mongodb://new.example.net/app"}
    return {f"{env_prefix(name)}{var}": values.get(var, "s3cr3t-value") for var in PLACEHOLDERS.values()}


def load(text: str, tmp_path: Path, name: str = NAME) -> model.Target:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    target = load_target(path, name, environ=environment(name))
    assert isinstance(target, model.Target)
    return target


def test_as_written_it_loads_with_the_two_database_uris_and_nothing_else_on(tmp_path: Path) -> None:
    target = load(render(NAME), tmp_path)
    assert (target.source.uri, target.database.uri) == ("mongodb://old.example.net/legacy",
                                                         "mongodb://new.example.net/app")
    assert (target.parse, target.source_parse, target.files, target.queries, target.cloud_functions) == (
        None, None, None, (), ())
    assert target.thresholds == model.Thresholds() and target.scans == model.Scans() and not target.production


def test_every_key_it_writes_is_a_key_the_loader_takes(tmp_path: Path) -> None:
    everything = load(turn_on(render(NAME)), tmp_path)   # an unknown key or a wrong type would raise here
    assert everything.parse is not None and everything.files is not None and everything.source_parse is not None
    assert len(everything.queries) == len(everything.cloud_functions) == 1
    assert everything.regions and everything.severity == {"FILE-04": "minor"}


def test_every_table_and_key_of_the_model_and_of_the_docs_is_in_it() -> None:
    data = tomllib.loads(turn_on(render(NAME)))["targets"][NAME]
    documented = sections(DOC.read_text(encoding="utf-8"))
    for table, keys in wanted().items():
        if table.startswith("targets.NAME.sandbox"):
            continue   # a sandbox target is the built-in demo's kind, not one a team writes
        assert table in documented, table
        assert f"[targets.NAME{table.removeprefix('targets.NAME')}]" in render(NAME), table
        node = _node(data, table.split(".")[2:])
        written = set(node) - ({"sandbox"} if table == "targets.NAME" else set())
        assert written >= keys - {"sandbox"}, (table, keys - written)
    assert "source_parse" in data


def _node(data: dict[str, Any], path: list[str]) -> dict[str, Any]:
    for part in path:
        data = data[part][0] if isinstance(data[part], list) else data[part]
    return data


def test_a_block_turned_on_alone_loads(tmp_path: Path) -> None:
    target = load(turn_on(render(NAME), "files"), tmp_path)
    assert target.files == dataclasses.replace(model.Files(), bucket="my-app-files") and target.parse is None
    parse = load(turn_on(render(NAME), "parse"), tmp_path).parse
    assert parse is not None and parse.master_key == "s3cr3t-value" and parse.server_url.startswith("https://")


def test_the_defaults_it_writes_are_the_models() -> None:
    data = tomllib.loads(turn_on(render(NAME)))["targets"][NAME]
    assert data["thresholds"] == dataclasses.asdict(model.Thresholds())
    assert data["scans"] == dataclasses.asdict(model.Scans())
    database = data["database"]
    assert {k: v for k, v in database.items() if k != "uri"} == {
        k: v for k, v in dataclasses.asdict(model.Database(uri="")).items() if k != "uri"}


def test_secrets_and_database_uris_are_placeholders_named_for_the_target() -> None:
    text = render("prod-eu")
    assert 'uri = "${PROD_EU_TARGET_MONGODB_URI}"' in text
    assert '#master_key = "${PROD_EU_PARSE_MASTER_KEY}"' in text
    assert not re.search(r"(master_key|secret_access_key) = \"[^$\"]", text)   # never a literal secret


def test_off_blocks_keep_their_prose_prose_when_turned_on() -> None:
    text = turn_on(render(NAME), "parse")
    block = text.split(f"\n[targets.{NAME}.parse]\n")[1].split("\n\n")[0].splitlines()
    assert len(block) >= 9 and all(line.startswith("# ") or re.match(r"^\w+ = ", line) for line in block), block
    assert set(TABLES) >= OFF_TABLES


def test_every_key_of_the_model_has_a_note_and_every_note_a_key() -> None:
    keys = {f"{'' if t == 'targets.NAME' else t.removeprefix('targets.NAME.')}.{k}"
            for t, ks in wanted().items() if not t.startswith("targets.NAME.sandbox") for k in ks}
    keys -= {f".{k}" for k in ("source", "database", "parse", "source_parse", "files", "regions", "queries",
                               "cloud_functions", "thresholds", "scans", "severity", "sandbox")}
    assert set(NOTES) == keys


@pytest.mark.parametrize("value", [True, 0, 3600.0, 0.05, "", "mongodb", "${X_Y}", {}, {"a b": "c"}, [1, 2]])
def test_toml_values_read_back_as_written(value: Any) -> None:
    assert tomllib.loads(f"x = {toml_value(value)}")["x"] == value


def test_a_name_that_is_no_bare_key_is_refused() -> None:
    for bad in ("", "a b", "../escaped", "x" * 65, "naïve"):
        with pytest.raises(ConfigError, match="use 1-64 letters"):
            render(bad)


def test_write_never_overwrites_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="exists; cutover init never overwrites a file: pass --force"):
        write("staging", path)
    assert path.read_text(encoding="utf-8") == "# mine\n"
    write("staging", path, force=True)
    assert "[targets.staging.source]" in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="is a directory; name the file to write"):
        write("staging", tmp_path, force=True)
    with pytest.raises(ConfigError, match="cannot be written: No such file or directory"):
        write("staging", tmp_path / "missing" / "targets.toml")


def test_the_command_writes_then_refuses_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote targets.toml: target 'staging'")
    assert "export STAGING_SOURCE_MONGODB_URI=" in out and "pytest --target staging" in out
    assert 'role: "cutoverReader"' in out and "atlas customDbRoles create cutoverReader" in out
    assert main(["init", "staging"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "targets.toml: exists" in err
    assert main(["init", "bad name"]) == 4 and "use 1-64 letters" in capsys.readouterr().err


def test_the_command_prints_to_stdout_with_a_dash(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "targets.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["init", "prod", "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == render("prod") and "export PROD_TARGET_MONGODB_URI=" in captured.err
    assert (tmp_path / "targets.toml").read_text(encoding="utf-8") == "# mine\n"
    target = build_target(Path("x"), "prod", tomllib.loads(captured.out)["targets"]["prod"], environment("prod"))
    assert target.database.uri == "mongodb://new.example.net/app"


def test_roles_prints_what_docs_targets_md_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles"]) == 0
    printed = capsys.readouterr().out
    assert printed == markdown() + "\n"
    doc = DOC.read_text(encoding="utf-8")
    block = doc.split("<!-- suite-role:start -->\n", 1)[1].split("<!-- suite-role:end -->", 1)[0]
    assert block == printed, "regenerate the block in docs/targets.md: cutover roles"
    assert main(["roles", "--database", "shop"]) == 0 and '{ db: "shop", collection: "" }' in capsys.readouterr().out


def test_a_sandbox_target_is_not_what_init_writes() -> None:
    assert "sandbox" not in render(NAME) and SandboxSpec.__name__
