"""Every compatibility shim the sandbox applies to mongoeco, the MongoDB wire-protocol stand-in.

This module runs inside the mongoeco server process (Python >= 3.13 venv), never in the suite's own
interpreter. Each shim patches one mongoeco internal; all were read from, and checked against, mongoeco
``PINNED_VERSION`` only: :func:`apply_all` refuses any other version, because the internals it touches
are private and may move between releases. When you bump mongoeco, re-read each patched function, re-run
``tests/sandbox/``, then bump ``PINNED_VERSION`` (the one source of the version the sandbox installs).

mongoeco is imported through :func:`importlib.import_module` so that this module stays importable (and
type-checkable) where mongoeco is not installed.
"""
from __future__ import annotations
import __future__

import dataclasses
import importlib
import inspect
import sys
import textwrap
from collections.abc import Callable
from types import ModuleType
from typing import Any

from cutover.errors import SandboxError

PINNED_VERSION = "4.11.0"
_APPLIED: list[str] = []


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def check_version() -> None:
    """Refuse to patch a mongoeco whose internals were not checked against these shims."""
    found = getattr(_module("mongoeco"), "__version__", "unknown")
    if found != PINNED_VERSION:
        raise SandboxError(
            f"mongoeco {found} is installed but the sandbox shims were checked against {PINNED_VERSION} "
            f"only: install mongoeco=={PINNED_VERSION} (delete the cached mongoeco venv to rebuild it)"
        )


def shim_cursor_ids_int64() -> None:
    """Send every cursor id as a BSON int64, and accept int64 ids back on getMore/killCursors.

    Why: MongoDB always encodes cursor ids as int64; mongoeco 4.11.0 counts them from 1 as Python ints,
    which BSON encodes as int32. The Node.js driver (Parse Server) then fails its cursor handling. Wraps
    ``WireCursorStore.materialize_command_result`` (find/aggregate/list* first batches) and ``get_more``;
    once ids go out as int64, drivers send them back as int64, which needs the request side too.
    """
    cursors = _module("mongoeco.wire.cursors")
    int64 = _module("bson.int64").Int64

    def as_int64(method: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
            result = method(*args, **kwargs)
            cursor = result.get("cursor")
            if isinstance(cursor, dict) and isinstance(cursor.get("id"), int):
                cursor["id"] = int64(cursor["id"])
            return result
        return wrapper

    store = cursors.WireCursorStore
    store.materialize_command_result = as_int64(store.materialize_command_result)
    store.get_more = as_int64(store.get_more)
    _accept_int64_cursor_ids_in_requests()


def _accept_int64_cursor_ids_in_requests() -> None:
    """Drivers send back the int64 id as received; mongoeco decodes it to its ``BsonInt64`` wrapper, which
    its getMore/killCursors validation rejects ("cursor id must be an integer"). Unwrap it before the
    request context is built (``wire.executor.build_request_context``)."""
    executor = _module("mongoeco.wire.executor")
    wrapped = _module("mongoeco.core.bson_scalars").BsonInt64
    original = executor.build_request_context

    def plain(value: object) -> object:
        return value.value if isinstance(value, wrapped) else value

    def build_request_context(body: dict[str, Any], **kwargs: Any) -> Any:
        if "getMore" in body:
            body = {**body, "getMore": plain(body["getMore"])}
        if isinstance(body.get("cursors"), list):
            body = {**body, "cursors": [plain(cursor_id) for cursor_id in body["cursors"]]}
        return original(body, **kwargs)

    setattr(executor, "build_request_context", build_request_context)  # noqa: B010 - a module attribute


def shim_find_limit_zero() -> None:
    """Read ``limit: 0`` on find/count as "no limit", as MongoDB does.

    Why: mongoeco 4.11.0 applies ``limit: 0`` literally and returns no documents; the Node.js driver
    sends ``limit: 0`` on ordinary finds, so Parse Server saw empty results. Wraps
    ``DatabaseAdminCommandCompiler.compile_find_operation`` (shared by the find, count and distinct
    commands) and drops a zero limit before compiling.
    """
    compiler = _module("mongoeco.api._async._database_admin_command_compiler").DatabaseAdminCommandCompiler
    original = compiler.compile_find_operation

    def compile_find_operation(self: Any, spec: dict[str, object], **kwargs: Any) -> Any:
        field = kwargs.get("limit_field", "limit")
        limit = spec.get(field)
        if isinstance(limit, int) and not isinstance(limit, bool) and limit == 0:
            spec = {key: value for key, value in spec.items() if key != field}
        return original(self, spec, **kwargs)

    compiler.compile_find_operation = compile_find_operation


def shim_collation_en_us() -> None:
    """Accept the ``en_US`` collation locale, collating like ``en``, and keep reporting ``en_US``.

    Why: Parse Server builds its case-insensitive ``_User`` indexes (and queries) with
    ``{locale: "en_US", strength: 2}``; mongoeco 4.11.0 knows only ``simple`` and ``en`` and rejects it.
    ``en_US`` and ``en`` use the same root collation in ICU. Wraps ``core.collation.normalize_collation``
    and rebinds it in every loaded mongoeco module that imported it by name (so listIndexes still shows
    ``en_US``, as a real server would).
    """
    collation = _module("mongoeco.core.collation")
    original = collation.normalize_collation

    def normalize_collation(value: object | None) -> Any:
        if isinstance(value, dict) and value.get("locale") == "en_US":
            return dataclasses.replace(original({**value, "locale": "en"}), locale="en_US")
        return original(value)

    for module in [m for name, m in sys.modules.items() if name.startswith("mongoeco") and m]:
        if getattr(module, "normalize_collation", None) is original:
            setattr(module, "normalize_collation", normalize_collation)  # noqa: B010 - a module attribute


def shim_bulk_insert() -> None:
    """Route the ``insert`` command through the engine's batch insert.

    Why: in mongoeco 4.11.0 the ``insert`` command calls ``insert_one`` per document, and each call
    rescans every ``_id`` of the collection: loading n documents costs O(n^2) (1,000 documents took ~5 s).
    ``insert_many`` uses the engine's batch path with the same ordered/unordered and write-error
    semantics. Replaces ``DatabaseAdminWriteCommandService.command_insert``; parsing and validation are
    still done by mongoeco's own helpers.
    """
    commands = _module("mongoeco.api._async._database_admin_write_commands")
    bulk_write_error = _module("mongoeco.errors").BulkWriteError
    entry, result_type = commands.WriteErrorEntry, commands.WriteCommandResult

    async def command_insert(self: Any, spec: dict[str, object], *, session: Any = None) -> object:
        admin = self._admin
        name = admin._require_collection_name(spec.get("insert"), "insert")
        documents = admin._normalize_insert_documents(spec.get("documents"))
        ordered = admin._normalize_ordered_from_command(spec.get("ordered"))
        bypass = commands.command_boolean(
            spec.get("bypassDocumentValidation", False), "bypassDocumentValidation", numeric=True
        )
        acknowledged = commands.write_command_acknowledged(spec, dialect=admin._mongodb_dialect.key)
        collection = admin._database.get_collection(name)
        try:
            done = await collection.insert_many(
                documents, ordered=ordered, bypass_document_validation=bypass, session=session
            )
            result = result_type(count=len(done.inserted_ids))
        except bulk_write_error as exc:
            errors = [
                entry(index=e["index"], errmsg=e["errmsg"], code=e.get("code"),
                      details={k: v for k, v in e.items() if k not in ("index", "errmsg", "code", "op")})
                for e in exc.details["writeErrors"]
            ]
            result = result_type(count=exc.details["nInserted"], write_errors=errors)
        return commands._write_command_result(result, acknowledged=acknowledged)

    commands.DatabaseAdminWriteCommandService.command_insert = command_insert


# The line shim_same_key_other_collation rewrites, as indented in the dedented method source.
_SAME_KEY_CHECK = '\n                if index["key"] == normalized_keys:\n'
_SAME_KEY_AND_COLLATION_CHECK = (
    '\n                if index["key"] == normalized_keys and index.get("collation") == collation:\n'
)


def shim_same_key_other_collation() -> None:
    """Allow a second index on the same key pattern when its collation differs, as MongoDB does.

    Why: Parse Server creates ``_User`` ``username_1`` (unique) and then ``case_insensitive_username``
    on the same key with collation ``en_US``/strength 2 (likewise for ``email``); mongoeco 4.11.0 rejects
    the second with "Conflicting index definition for key pattern", so Parse Server cannot start.
    The check sits in the middle of ``MemoryEngine.create_index`` (260 lines), so this shim recompiles
    that method with one condition changed: a same-key index conflicts only when its collation is equal
    too. It refuses (SandboxError) unless the line it rewrites is found exactly once.
    """
    memory = _module("mongoeco.engines.memory")
    lines, first_line = inspect.getsourcelines(memory.MemoryEngine.create_index)
    source = textwrap.dedent("".join(lines))
    if source.count(_SAME_KEY_CHECK) != 1:
        raise SandboxError("mongoeco MemoryEngine.create_index changed: re-check shim_same_key_other_collation")
    patched = source.replace(_SAME_KEY_CHECK, _SAME_KEY_AND_COLLATION_CHECK)
    patched = "\n" * (first_line - 1) + patched  # tracebacks keep pointing at the right lines of memory.py
    code = compile(patched, inspect.getsourcefile(memory.MemoryEngine) or "<mongoeco memory>", "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)
    namespace: dict[str, Any] = {}
    exec(code, vars(memory), namespace)  # mongoeco's own source with one line changed
    memory.MemoryEngine.create_index = namespace["create_index"]


SHIMS: tuple[Callable[[], None], ...] = (
    shim_cursor_ids_int64, shim_find_limit_zero, shim_collation_en_us, shim_bulk_insert,
    shim_same_key_other_collation,
)


def apply_all() -> tuple[str, ...]:
    """Check the mongoeco version, then apply every shim once; returns the names of the shims applied."""
    check_version()
    for name in ("mongoeco.wire.proxy", "mongoeco.engines.memory"):
        _module(name)  # load the whole server first, so that the collation rebinding sees every importer
    if not _APPLIED:
        for shim in SHIMS:
            shim()
            _APPLIED.append(shim.__name__)
    return tuple(_APPLIED)
