"""Waivers: loading and validating waivers.toml (one line naming file and key), matching labels, expiry."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.errors import ConfigError
from cutover.run.waivers import Waiver, can_match, load_waivers, split_expired, unmatched, waiver_for

GOOD = '''
[[waivers]]
criterion = "DB-06"
justification = "replication lag spikes during the nightly backup; ticket OPS-12"
expires = 2099-12-31
author = "ana"

[[waivers]]
criterion = "FILE-03"
test = "FILE-03[bucket-*]"
target = "staging"
justification = "staging bucket is private by design"
expires = 2099-01-01
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path, target: str = "t", severities: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_waivers(path, target, severities)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


def waiver(criterion: str = "DB-06", /, **fields: str) -> str:
    """One [[waivers]] entry with every required key; ``fields`` replace or add keys (raw TOML values),
    "DROP" leaves a key out."""
    values = {"criterion": f'"{criterion}"', "justification": '"known"', "expires": "2099-12-31", **fields}
    return "[[waivers]]\n" + "".join(f"{k} = {v}\n" for k, v in values.items() if v != "DROP")


# -- loading -----------------------------------------------------------------------------------------------

def test_a_good_file_loads_every_field(tmp_path: Path) -> None:
    (lag, bucket) = load_waivers(write(tmp_path, GOOD), "staging")
    assert lag == Waiver(criterion="DB-06", justification="replication lag spikes during the nightly backup; "
                         "ticket OPS-12", expires=dt.date(2099, 12, 31), author="ana")
    assert lag.test == "*" and lag.target == ""
    assert (bucket.test, bucket.target, bucket.author) == ("FILE-03[bucket-*]", "staging", "")


def test_the_target_filter_keeps_untargeted_and_own_waivers(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert [w.criterion for w in load_waivers(path, "prod")] == ["DB-06"]
    assert [w.criterion for w in load_waivers(path, "staging")] == ["DB-06", "FILE-03"]


def test_an_empty_file_holds_no_waivers(tmp_path: Path) -> None:
    assert load_waivers(write(tmp_path, "# nothing waived\n"), "t") == ()


def test_a_datetime_expiry_counts_as_its_date(tmp_path: Path) -> None:
    (only,) = load_waivers(write(tmp_path, waiver(expires="2030-05-01T12:00:00")), "t")
    assert only.expires == dt.date(2030, 5, 1)


def test_justification_is_stripped_and_described_on_one_line(tmp_path: Path) -> None:
    text = waiver(justification='"""\n  lag during backups,\n  ticket OPS-12\n"""', author='"ana"')
    (only,) = load_waivers(write(tmp_path, text), "t")
    assert only.justification == "lag during backups,\n  ticket OPS-12"
    assert only.describe() == "DB-06 * (until 2099-12-31 by ana): lag during backups, ticket OPS-12"


# -- malformed files: one line naming the file and the key -------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    assert one_line_error(tmp_path / "waivers.toml").endswith("waivers file not found")


@pytest.mark.parametrize("text", ["[[waivers]\ncriterion = 1\n", 'criterion = "DB-06"\ncriterion = "DB-07"\n'])
def test_malformed_toml(tmp_path: Path, text: str) -> None:
    assert "malformed waivers file: " in one_line_error(write(tmp_path, text))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "waivers.toml"
    path.write_bytes(waiver(justification='"caf\xe9"').encode("latin-1"))
    assert "malformed waivers file" in one_line_error(path)


MALFORMED = [
    ('[waiver]\ncriterion = "DB-06"\n', "unknown top-level key 'waiver'; expected [[waivers]] entries"),
    ('waivers = "DB-06"\n', "waivers: expected [[waivers]] entries"),
    ("waivers = [1]\n", "waivers[0]: expected a table"),
    (waiver(reason='"x"'), "waivers[0].reason: unknown key; known keys: author, criterion, expires,"),
    (waiver(criterion="DROP"), "waivers[0].criterion: required"),
    (waiver(justification="DROP"), "waivers[0].justification: required"),
    (waiver(expires="DROP"), "waivers[0].expires: required"),
    (waiver("DB-99"), "waivers[0].criterion: unknown criterion 'DB-99' (`cutover criteria` lists them)"),
    (waiver(criterion="6"), "waivers[0].criterion: expected a string"),
    (waiver(test="1"), "waivers[0].test: expected a string"),
    (waiver(target="[\"a\"]"), "waivers[0].target: expected a string"),
    (waiver(author="true"), "waivers[0].author: expected a string"),
    (waiver(justification='"   "'), "waivers[0].justification: must say why the failure is acceptable"),
    (waiver(expires='"2099-12-31"'), "waivers[0].expires: expected a date (expires = 2026-12-31)"),
    (waiver(expires="12:00:00"), "waivers[0].expires: expected a date"),
    (waiver() + waiver(expires="DROP"), "waivers[1].expires: required"),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED, ids=[e.split(":")[0] for _, e in MALFORMED])
def test_every_malformed_shape_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in one_line_error(write(tmp_path, text))


def test_an_entry_for_another_target_must_still_be_well_formed(tmp_path: Path) -> None:
    text = waiver(target='"staging"', expires='"soon"')
    assert "waivers[0].expires: expected a date" in one_line_error(write(tmp_path, text), target="prod")


# -- severity: blockers cannot be waived, a target's overrides decide --------------------------------------

def test_a_blocker_cannot_be_waived(tmp_path: Path) -> None:
    message = one_line_error(write(tmp_path, waiver("DB-06") + waiver("FILE-01")))
    assert "waivers[1].criterion: FILE-01 is a blocker for target t; blockers cannot be waived" in message


def test_an_override_to_major_makes_a_blocker_waivable(tmp_path: Path) -> None:
    (only,) = load_waivers(write(tmp_path, waiver("FILE-01")), "t", {"FILE-01": "major"})
    assert only.criterion == "FILE-01"


def test_an_override_to_blocker_makes_a_major_unwaivable(tmp_path: Path) -> None:
    message = one_line_error(write(tmp_path, waiver("DB-06")), severities={"DB-06": "blocker"})
    assert "waivers[0].criterion: DB-06 is a blocker" in message


def test_a_minor_can_be_waived(tmp_path: Path) -> None:
    assert len(load_waivers(write(tmp_path, waiver("FILE-04")), "t")) == 1


def test_another_targets_waiver_is_judged_by_that_targets_overrides(tmp_path: Path) -> None:
    """staging demotes FILE-01 and waives it; prod (FILE-01 a blocker) must still load the file."""
    path = write(tmp_path, waiver("FILE-01", target='"staging"'))
    assert load_waivers(path, "prod") == ()
    assert len(load_waivers(path, "staging", {"FILE-01": "major"})) == 1
    assert "FILE-01 is a blocker for target staging" in one_line_error(path, target="staging")


# -- matching ----------------------------------------------------------------------------------------------

LABELS = [("FILE-01", "FILE-01[GameScore.avatar]"), ("FILE-01", "FILE-01[GameScore.pic]"),
          ("FILE-01", "FILE-01[_User.avatar]"), ("DB-06", "DB-06"), ("FILE-03", "FILE-03[bucket-eu]")]


def matching(w: Waiver) -> list[str]:
    return [label for criterion, label in LABELS if w.matches(criterion, label)]


def make(criterion: str, test: str = "*") -> Waiver:
    return Waiver(criterion=criterion, justification="j", expires=dt.date(2099, 1, 1), test=test)


@pytest.mark.parametrize(("criterion", "test", "expected"), [
    ("FILE-01", "*", ["FILE-01[GameScore.avatar]", "FILE-01[GameScore.pic]", "FILE-01[_User.avatar]"]),
    ("FILE-01", "FILE-01[GameScore.avatar]", ["FILE-01[GameScore.avatar]"]),   # brackets are literal
    ("FILE-01", "FILE-01[GameScore.*]", ["FILE-01[GameScore.avatar]", "FILE-01[GameScore.pic]"]),
    ("FILE-01", "*.avatar]", ["FILE-01[GameScore.avatar]", "FILE-01[_User.avatar]"]),
    ("FILE-01", "FILE-01[GameScore.pi?]", ["FILE-01[GameScore.pic]"]),
    ("FILE-01", "FILE-01[G]", []),                      # not a character class matching "FILE-01G"
    ("FILE-01", "filE-01[gamescore.avatar]", []),        # case matters
    ("DB-06", "DB-06", ["DB-06"]),
    ("DB-06", "FILE-01*", []),                           # the criterion must agree as well
    ("FILE-03", "FILE-03[bucket-*]", ["FILE-03[bucket-eu]"]),
])
def test_patterns_on_labels(criterion: str, test: str, expected: list[str]) -> None:
    assert matching(make(criterion, test)) == expected


def test_a_character_class_pattern_does_not_match_a_label_that_is_not_written() -> None:
    assert not make("FILE-01", "FILE-01[GameScore.avatar]").matches("FILE-01", "FILE-01G")


def test_waiver_for_takes_the_first_match_and_unmatched_lists_the_rest() -> None:
    avatar, any_file, lag = make("FILE-01", "*avatar]"), make("FILE-01"), make("DB-05")
    assert waiver_for([avatar, any_file], "FILE-01", "FILE-01[_User.avatar]") is avatar
    assert waiver_for([avatar, any_file], "FILE-01", "FILE-01[GameScore.pic]") is any_file
    assert waiver_for([avatar], "DB-06", "DB-06") is None
    assert unmatched([avatar, any_file, lag], LABELS) == [lag]
    assert unmatched([avatar], []) == [avatar]


# -- expiry ------------------------------------------------------------------------------------------------

def test_a_waiver_is_valid_through_its_expiry_day() -> None:
    w = Waiver(criterion="DB-06", justification="j", expires=dt.date(2026, 3, 31))
    assert not w.expired(dt.date(2026, 3, 30)) and not w.expired(dt.date(2026, 3, 31))
    assert w.expired(dt.date(2026, 4, 1))


def test_split_expired_keeps_the_order(tmp_path: Path) -> None:
    text = waiver("DB-06", expires="2026-01-01") + waiver("DB-05", expires="2026-06-30") + \
        waiver("DB-07", expires="2025-12-31")
    loaded = load_waivers(write(tmp_path, text), "t")
    active, expired = split_expired(loaded, dt.date(2026, 1, 1))
    assert [w.criterion for w in active] == ["DB-06", "DB-05"]
    assert [w.criterion for w in expired] == ["DB-07"]
    assert split_expired(loaded, dt.date(2027, 1, 1)) == ((), loaded)


# -- a pattern that can match nothing is refused at load, before any component is reached (issue 29) --------------

@pytest.mark.parametrize(("test", "shown"), [
    ('"GameScore.*"', "'GameScore.*' matches no check of DB-06: check labels read DB-06 or DB-06[...]"),
    ('"DB-6*"', "'DB-6*' matches no check of DB-06"),
    ('"FILE-01[GameScore.*]"', "'FILE-01[GameScore.*]' matches no check of DB-06"),
    ('"DB-06[replica_set"', "'DB-06[replica_set' matches no check of DB-06"),
    ('"*x"', "'*x' matches no check of DB-06"),
])
def test_a_pattern_that_can_match_no_label_is_refused(tmp_path: Path, test: str, shown: str) -> None:
    message = one_line_error(write(tmp_path, waiver("DB-06", test=test)))
    assert f"waivers[0].test: {shown}" in message


def test_patterns_that_can_match_load(tmp_path: Path) -> None:
    tests = ['"*"', '"DB-06"', '"DB-06[*]"', '"DB-0?"', '"*replica*"', '"DB-06[replica_set]"', '"*]"']
    text = "".join(waiver("DB-06", test=t) for t in tests)
    assert len(load_waivers(write(tmp_path, text), "t")) == len(tests)


def test_a_pattern_is_judged_only_for_the_target_it_applies_to(tmp_path: Path) -> None:
    text = waiver("DB-06", test='"GameScore.*"', target='"other"')
    assert load_waivers(write(tmp_path, text), "t") == ()


def test_a_waivers_path_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "waivers.toml").mkdir()
    assert "cannot read the waivers file" in one_line_error(tmp_path / "waivers.toml")


_LABEL_TEXT = st.text(st.sampled_from("GameScore._User-[]a1*?"), max_size=12)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(inner=_LABEL_TEXT, bare=st.booleans(), cuts=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20),
                                                                       st.sampled_from("*?")), max_size=3))
def test_a_pattern_that_matches_a_label_is_never_refused(inner: str, bare: bool,
                                                          cuts: list[tuple[int, int, str]]) -> None:
    """Soundness of the static check: any pattern carved out of a real label (parts replaced by wildcards) and
    matching it must be accepted."""
    label = "DB-06" if bare else f"DB-06[{inner}]"
    pattern = label
    for start, length, wildcard in cuts:
        start = min(start, len(pattern))
        pattern = pattern[:start] + wildcard + pattern[start + length:]
    if make("DB-06", pattern).matches("DB-06", label):
        assert can_match(pattern, "DB-06"), (pattern, label)
