"""A waiver accepts a finding (failed), never "could not verify" (error) (CHECKS.md amendment of 2026-12-07,
issue 29): the report of a check that errors keeps its error, says which waiver it refused, and the record, the
terminal and the HTML waivers table say so too."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.errors import TargetUnreachable
from cutover.run.check_record import CheckRecord
from cutover.run.waivers import NOT_FOR_ERRORS, Waiver
from cutover_pytest.htmlreport import waivers_table
from cutover_pytest.report_data import ATTRIBUTE, Labels, ReportData
from cutover_pytest.report_to_record import conclude, fold
from cutover_pytest.verdict import refused_waiver_lines

LAG = Waiver("DB-06", "replication lag during the nightly backup", dt.date(2099, 1, 1), author="ana")


def report(failure: BaseException) -> Any:
    """A call-phase report of a check that raised ``failure``."""
    return SimpleNamespace(skipped=False, passed=False, failed=True, when="call", outcome="failed", longrepr="",
                           duration=0.1, user_properties=[])


def raised(failure: BaseException) -> pytest.ExceptionInfo[BaseException]:
    try:
        raise failure
    except BaseException as exc:
        return pytest.ExceptionInfo.from_exception(exc)


def decorated(failure: BaseException) -> tuple[Any, ReportData, CheckRecord]:
    rep = report(failure)
    data = conclude(rep, raised(failure), lambda text: text, [LAG], Labels("DB-06", "major", "DB-06[cpu]"))
    setattr(rep, ATTRIBUTE, data)
    record = CheckRecord("t::cpu", "DB-06[cpu]", "DB-06", "major")
    fold(record, rep)
    return rep, data, record


def test_an_error_stays_an_error_whatever_waiver_matches_it() -> None:
    rep, data, record = decorated(TargetUnreachable("target database mongodb://db:27017: unreachable"))
    assert data.verdict == "error" and data.waiver is None and data.waiver_refused == LAG.describe()
    assert data.message == ("could not verify: target database mongodb://db:27017: unreachable "
                            f"({NOT_FOR_ERRORS}: {LAG.describe()})")
    assert rep.longrepr == data.message   # what the terminal shows under the check
    assert (record.outcome, record.verdict, record.waiver) == ("error", "error", None)
    assert record.to_json()["waiver_refused"] == LAG.describe()


def test_a_failure_is_still_waived() -> None:
    _, data, record = decorated(AssertionError("lag 42 s, at most 10 s"))
    assert data.verdict == "waived" and record.verdict == "waived" and record.excused
    assert "waiver_refused" not in record.to_json()


def test_the_terminal_and_the_html_table_say_where_a_waiver_met_errors() -> None:
    _, _, errored = decorated(TargetUnreachable("unreachable"))
    _, _, failed = decorated(AssertionError("lag"))
    failed.id, failed.label = "t::lag", "DB-06[lag]"
    (line,) = refused_waiver_lines([errored, failed])
    assert line == (f"waiver not applied to 1 error (DB-06[cpu]): a waiver accepts a failure, never 'could not "
                    f"verify': {LAG.describe()}")
    table = waivers_table([LAG], [], [errored, failed])
    assert table is not None and table["rows"] == [[LAG.describe(), "active",
                                                    "1 failure waived; NOT applied to 1 error (could not verify)"]]
