"""The area facades share one base (the session, its target, a memo of their own), and only a facade, or the
session for its clients, puts anything in a memo (docs/ARCHITECTURE.md, step 3 of the run)."""
from __future__ import annotations

import re
from pathlib import Path

from cutover.facade import Facade
from cutover.model import Database, Source, Target
from cutover.session import Session

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("data", "files", "rest", "transport", "security")
FILLS_A_MEMO = re.compile(r"memo\.get\(|@memoized")
MAY_FILL = {"cutover/memo.py", "cutover/session.py"}


def test_every_area_facade_holds_the_session_its_target_and_a_memo_of_its_own() -> None:
    session = Session(Target(name="t", source=Source(uri="mongodb://src/app"),
                             database=Database(uri="mongodb://db/app")))
    facades = [getattr(session, area) for area in AREAS]
    assert all(isinstance(f, Facade) and f.session is session and f.target is session.target for f in facades)
    assert len({id(f.memo) for f in facades} | {id(session.memo)}) == len(AREAS) + 1


def memo_fillers(root: Path) -> list[str]:
    """The modules of ``root``/cutover (other than the facades, the memo and the session) that fill a memo."""
    return sorted(rel for rel in (p.relative_to(root).as_posix() for p in (root / "cutover").rglob("*.py"))
                  if rel not in MAY_FILL and not rel.endswith("/facade.py")
                  and FILLS_A_MEMO.search((root / rel).read_text(encoding="utf-8")))


def test_only_the_facades_and_the_session_fill_a_memo() -> None:
    assert memo_fillers(ROOT) == []


def test_a_module_that_fills_a_memo_is_found(tmp_path: Path) -> None:
    (tmp_path / "cutover" / "data").mkdir(parents=True)
    for name in ("facade.py", "source_plan.py"):
        (tmp_path / "cutover" / "data" / name).write_text('facts.memo.get(("src", "reader"), compute)\n')
    (tmp_path / "cutover" / "stores.py").write_text("@memoized\ndef stores(facts): ...\n")
    assert memo_fillers(tmp_path) == ["cutover/data/source_plan.py", "cutover/stores.py"]
