"""The storage conformance suite (liborderly-conformance) for storages
written in Python: the same proof a C adapter author gets.

    report = orderly.conformance.run(MyTarget())
    assert report.failures == 0, report.tap

A target describes how to open, crash, close and wipe a store of yours; see
doc/conformance.md for what each part checks.
"""
import dataclasses
import os
import tempfile
from typing import Any, Dict, Iterable, List, Protocol

from ._adapters import Storage, StorageBridge
from ._errors import make_error
from ._native import ffi, lib

_PARTS = {"all": 3, "contract": 1, "crash": 2}


class Target(Protocol):
    """How the suite reaches one kind of Python store."""

    def open(self) -> Storage:
        """A new handle on the store (created when absent); earlier commits are there."""

    def crash(self, storage: Storage) -> Storage:
        """Simulates the process dying: open transactions are lost, commits
        survive. Returns the handle to go on with (the same or a new one)."""

    def close(self, storage: Storage) -> None:
        """Releases a handle (no transaction open)."""

    def reset(self) -> None:
        """Wipes the store to empty."""


@dataclasses.dataclass(frozen=True)
class Report:
    """The suite's outcome: failed tests (0 = conforms) and its TAP output."""

    failures: int
    tap: str


class _Run:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.bridges: Dict[int, StorageBridge] = {}
        self.errors: List[BaseException] = []

    def add(self, obj: Any) -> Any:
        b = StorageBridge(obj)
        b.errors = self.errors
        self.bridges[int(ffi.cast("uintptr_t", b.vtable))] = b
        return b.vtable

    def bridge(self, s: Any) -> StorageBridge:
        return self.bridges[int(ffi.cast("uintptr_t", s))]


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_c_open(out: Any, user_data: Any) -> int:
    run: _Run = ffi.from_handle(user_data)
    try:
        out[0] = run.add(run.target.open())
        return 0
    except BaseException as exc:
        run.errors.append(exc)
        return lib.ORDERLY_EUSER


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_c_crash(s: Any, user_data: Any) -> int:
    run: _Run = ffi.from_handle(user_data)
    try:
        old = run.bridge(s[0])
        new = run.target.crash(old.obj)
        if new is not old.obj:
            run.bridges.pop(int(ffi.cast("uintptr_t", s[0])))
            s[0] = run.add(new)
        return 0
    except BaseException as exc:
        run.errors.append(exc)
        return lib.ORDERLY_EUSER


@ffi.def_extern()
def pyo_c_close(s: Any, user_data: Any) -> None:
    run: _Run = ffi.from_handle(user_data)
    try:
        b = run.bridges.pop(int(ffi.cast("uintptr_t", s)))
        run.target.close(b.obj)
    except BaseException as exc:
        run.errors.append(exc)


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_c_reset(user_data: Any) -> int:
    run: _Run = ffi.from_handle(user_data)
    try:
        run.target.reset()
        return 0
    except BaseException as exc:
        run.errors.append(exc)
        return lib.ORDERLY_EUSER


def run(target: Target, *, name: str = "python storage", parts: str = "all",
        filter: str = "", known_failures: Iterable[str] = ()) -> Report:
    """Runs the suite against target. parts is "all", "contract" or "crash";
    filter runs only the tests whose name contains it. An exception raised
    by the target or its storages is re-raised after the suite returns."""
    if parts not in _PARTS:
        raise ValueError("parts: %r is not 'all', 'contract' or 'crash'" % (parts,))
    state = _Run(target)
    handle = ffi.new_handle(state)
    t = ffi.new("orderly_conformance_target *")
    t.version = lib.ORDERLY_CONFORMANCE_TARGET_VERSION
    cname = ffi.new("char[]", name.encode())
    t.name = cname
    t.user_data = handle
    t.open, t.crash = lib.pyo_c_open, lib.pyo_c_crash
    t.close, t.reset = lib.pyo_c_close, lib.pyo_c_reset
    o = ffi.new("orderly_conformance_options *")
    o.version = lib.ORDERLY_CONFORMANCE_OPTIONS_VERSION
    o.parts = _PARTS[parts]
    cfilter = ffi.new("char[]", filter.encode()) if filter else ffi.NULL
    o.filter = cfilter
    cknown = ffi.new("char[]", ",".join(known_failures).encode()) if known_failures else ffi.NULL
    o.known_failures = cknown
    with tempfile.TemporaryFile() as f:
        fp = lib.fdopen(os.dup(f.fileno()), b"w")
        if fp == ffi.NULL:
            raise OSError("fdopen failed")
        try:
            rc = lib.orderly_conformance_run(t, o, fp)
        finally:
            lib.fclose(fp)
        f.seek(0)
        tap = f.read().decode("utf-8", "replace")
    if state.errors:
        raise state.errors[0]
    if rc < 0:
        raise make_error(rc, "the conformance suite could not run")
    return Report(rc, tap)
