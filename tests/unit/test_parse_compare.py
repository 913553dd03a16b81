"""What must come back for what was sent, and the messages that name field, found and sent."""
from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.rest.compare import PARSE_TYPES, date, differences, expected_back, sample_object
from cutover_testing.parse_types import parse_objects

MOMENT = datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def echoed(sent: dict) -> dict:
    """What a correct server returns for ``sent``: server fields added, File URL set."""
    back = expected_back(sent)
    back["tFile"] = {**back["tFile"], "url": "http://server/parse/files/app/" + back["tFile"]["name"]}
    return {**back, "objectId": "abc", "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "x"}


def test_dates_are_milliseconds_in_utc() -> None:
    assert date(MOMENT) == {"__type": "Date", "iso": "2021-03-04T05:06:07.890Z"}


def test_a_faithful_echo_has_no_differences() -> None:
    sent = sample_object("Probe", "p1", "f_name.txt", MOMENT)
    assert differences(sent, echoed(sent)) == []


def test_relation_reads_back_as_relation_type_and_file_by_name() -> None:
    back = expected_back(sample_object("Probe", "p1", "f.txt", MOMENT))
    assert back["tRelation"] == {"__type": "Relation", "className": "Probe"}
    assert back["tFile"] == {"__type": "File", "name": "f.txt"}


def test_a_changed_number_is_named_with_found_and_sent() -> None:
    sent = sample_object("Probe", "p1", "f.txt", MOMENT)
    assert differences(sent, {**echoed(sent), "tNumber": 7}) == ["field 'tNumber' came back 7, sent 8"]


def test_int_and_float_of_equal_value_are_the_same_number() -> None:
    sent = sample_object("Probe", "p1", "f.txt", MOMENT)
    assert differences(sent, {**echoed(sent), "tNumber": 8.0}) == []


def test_missing_nested_and_extra_fields_are_named() -> None:
    sent = sample_object("Probe", "p1", "f.txt", MOMENT)
    got = echoed(sent)
    del got["tBytes"]
    got["tObject"] = {**got["tObject"], "when": date(datetime(2021, 3, 4, tzinfo=UTC))}
    got["surprise"] = 1
    lines = differences(sent, got)
    assert 'field \'tBytes\' did not come back (sent {"__type": "Bytes", "base64": "AP8QYmlu"})' in lines
    assert "field 'surprise' came back 1, never sent" in lines
    when = 'field \'tObject.when.iso\' came back "2021-03-04T00:00:00.000Z"'
    assert any(line.startswith(when) for line in lines)


def test_the_sample_holds_every_parse_type() -> None:
    sent = sample_object("Probe", "p1", "f.txt", MOMENT)
    kinds = {v.get("__type") or v.get("__op") for v in sent.values() if isinstance(v, dict)}
    assert {"Date", "GeoPoint", "Pointer", "AddRelation", "File", "Bytes"} <= kinds
    kinds_of = {type(sent[k]) for k in ("tString", "tNumber", "tBoolean", "tArray", "tObject")}
    assert kinds_of == {str, int, bool, list, dict}
    assert "ACL" in sent and len(PARSE_TYPES) == 12


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_generated_objects_compare_equal_to_their_faithful_echo(data: st.DataObject) -> None:
    sent = data.draw(parse_objects("Probe", ["p1", "p2"], ["a_f.txt"]))
    assert set(sent) >= {"tString", "tNumber", "tDate", "tRelation", "tFile", "tBytes", "ACL", "tGeoPoint"}
    assert differences(sent, echoed(sent)) == []
