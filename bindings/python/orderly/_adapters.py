"""Storage and transport: the shipped C adapters by name, and Python
implementations bridged to the C vtables.

A Python adapter is reached through one ``@ffi.def_extern`` trampoline per
vtable slot. An orderly ``Error`` raised by the adapter is an answer: its
code goes back to the engine (``NotFound`` from ``load`` is how a missing
record is reported). Any other exception is a bug in the adapter: it is
stored, the slot returns ORDERLY_EUSER, and the engine call that reached the
adapter re-raises that very exception once it has returned.
"""
import dataclasses
import os
from typing import Any, Dict, Iterable, List, Optional, Protocol, Tuple, Union

from ._convert import DurationLike, duration_ms, text
from ._errors import Error, MisuseError, Transient, ctx_error, make_error
from ._native import ffi, lib
from ._types import Message

EUSER = lib.ORDERLY_EUSER
ENOTFOUND = -5
ESTORAGE = -12
ETRANSPORT = -13


@dataclasses.dataclass
class QueueItem:
    """One queue row, as a Python storage keeps it (times in epoch ms)."""

    id: int
    group: str
    kind: int
    state: int
    attempts: int
    payload: bytes
    created: int
    due: int
    lease_token: int = 0
    lease_until: int = 0


@dataclasses.dataclass(frozen=True)
class IdemRecord:
    """An idempotency mark: the request's fingerprint and its first result."""

    fingerprint: bytes
    expires: int
    result: bytes


@dataclasses.dataclass(frozen=True)
class HistoryItem:
    """One event of an order's history, as a Python storage keeps it: the
    core's payload for (group, seq), opaque to storage."""

    group: str
    seq: int
    kind: int
    payload: bytes
    created: int


@dataclasses.dataclass
class QueueStats:
    """Counts of one queue as seen at an instant (see orderly/sys/storage.h)."""

    ready: int = 0
    due: int = 0
    leased: int = 0
    lease_expired: int = 0
    done: int = 0
    dead: int = 0
    oldest_pending: int = 0


class Storage(Protocol):
    """A storage written in Python: the orderly_storage vtable as methods.

    Each method mirrors the slot of the same name in orderly/sys/storage.h
    (keys are str, data bytes, times epoch milliseconds). Report the answers
    the contract names by raising ``NotFound``, ``Conflict``, ``InFlight``,
    ``Exists``; report failures with ``StorageError`` (or ``Transient``).
    ``begin`` returns any object; it comes back as ``txn``.

    The methods of storage version 3 are optional; a storage without them
    works, with what they bring turned off. Defining any of them declares
    version 3, whose claim also promises to see the transaction's own
    pushes (after the committed items, in id order):

    - ``history_append(txn, item: HistoryItem)`` (raise ``Exists`` for a
      (group, seq) already kept) and ``history_scan(txn, group, from_seq,
      max) -> Iterable[HistoryItem]`` in seq order, both or neither: the
      order history behind ``Engine.order_history``;
    - ``begin_read() -> txn``: a transaction the core only reads in, which
      must not wait for or block a writer;
    - ``queue_next_due(txn, queue) -> Optional[int]``: the earliest instant
      at which queue has a claimable item (None when it has none), so the
      engine skips storage while nothing is due.
    """

    def begin(self) -> Any: ...
    def commit(self, txn: Any) -> None: ...
    def rollback(self, txn: Any) -> None: ...
    def load(self, txn: Any, key: str) -> Tuple[bytes, int]: ...
    def save(self, txn: Any, key: str, data: bytes, expected_version: int) -> None: ...
    def scan(self, txn: Any, after: str, max: int) -> Iterable[Tuple[str, bytes, int]]: ...
    def queue_push(self, txn: Any, queue: int, item: QueueItem) -> int: ...
    def queue_claim(self, txn: Any, queue: int, now: int, max: int, max_attempts: int,
                    lease_until: int) -> Tuple[int, List[QueueItem]]: ...
    def queue_finish(self, txn: Any, queue: int, id: int, token: int, state: int, due: int,
                     attempts: int) -> None: ...
    def queue_reset(self, txn: Any, queue: int, id: int, state: int, due: int) -> None: ...
    def queue_get(self, txn: Any, queue: int, id: int) -> QueueItem: ...
    def queue_scan(self, txn: Any, queue: int, state: int, after_id: int,
                   max: int) -> Iterable[QueueItem]: ...
    def queue_purge(self, txn: Any, queue: int, before: int, max: int) -> int: ...
    def queue_stats(self, txn: Any, queue: int, now: int) -> QueueStats: ...
    def idem_get(self, txn: Any, key: str, now: int) -> IdemRecord: ...
    def idem_put(self, txn: Any, key: str, now: int, rec: IdemRecord) -> None: ...
    def idem_purge(self, txn: Any, now: int, max: int) -> int: ...


V3_METHODS = ("history_append", "history_scan", "begin_read", "queue_next_due")


class Transport(Protocol):
    """A transport written in Python. ``publish`` returning means the broker
    accepted the message; raise ``TransportError`` or ``Timeout`` when it
    did not (the engine retries with backoff)."""

    def publish(self, topic: str, key: str, data: bytes, headers: Dict[str, str]) -> None: ...


class _Bridge:
    """Keeps a Python adapter reachable from C for one engine's life."""

    default_code = ESTORAGE

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.handle = ffi.new_handle(self)
        self.errors: List[BaseException] = []

    def fail(self, ctx: Any, exc: BaseException) -> int:
        if isinstance(exc, Error):
            code = exc.code if type(exc) not in (Error, Transient) else self.default_code
            lib.orderly_ctx_set_error(ctx, code, exc.native, exc.message.encode("utf-8", "replace"))
            return code
        self.errors.append(exc)
        msg = "%s raised %s: %s" % (type(self.obj).__name__, type(exc).__name__, exc)
        lib.orderly_ctx_set_error(ctx, EUSER, 0, msg.encode("utf-8", "replace"))
        return EUSER


class StorageBridge(_Bridge):
    """An orderly_storage vtable whose slots call a Python Storage."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj)
        self.txns: Dict[int, Any] = {}
        self.next_txn = 1
        s = self.vtable = ffi.new("orderly_storage *")
        lib.orderly_storage_init(s, lib.ORDERLY_STORAGE_VERSION)
        s.user_data = self.handle
        s.begin = lib.pyo_s_begin
        s.commit = lib.pyo_s_commit
        s.rollback = lib.pyo_s_rollback
        s.load = lib.pyo_s_load
        s.save = lib.pyo_s_save
        s.scan = lib.pyo_s_scan
        s.queue_push = lib.pyo_s_queue_push
        s.queue_claim = lib.pyo_s_queue_claim
        s.queue_finish = lib.pyo_s_queue_finish
        s.queue_reset = lib.pyo_s_queue_reset
        s.queue_get = lib.pyo_s_queue_get
        s.queue_scan = lib.pyo_s_queue_scan
        s.queue_purge = lib.pyo_s_queue_purge
        s.queue_stats = lib.pyo_s_queue_stats
        s.idem_get = lib.pyo_s_idem_get
        s.idem_put = lib.pyo_s_idem_put
        s.idem_purge = lib.pyo_s_idem_purge
        s.destroy = lib.pyo_s_destroy
        has = [m for m in V3_METHODS if callable(getattr(obj, m, None))]
        if ("history_append" in has) != ("history_scan" in has):
            raise TypeError("storage: %s defines one of history_append and history_scan; "
                            "define both or neither" % type(obj).__name__)
        if not has:
            s.version = lib.ORDERLY_STORAGE_VERSION_MIN
        if "history_append" in has:
            s.history_append = lib.pyo_s_history_append
            s.history_scan = lib.pyo_s_history_scan
        if "begin_read" in has:
            s.begin_read = lib.pyo_s_begin_read
        if "queue_next_due" in has:
            s.queue_next_due = lib.pyo_s_queue_next_due

    def txn(self, t: Any) -> Any:
        return self.txns[int(ffi.cast("uintptr_t", t))]


class TransportBridge(_Bridge):
    """An orderly_transport vtable whose publish calls a Python Transport."""

    default_code = ETRANSPORT

    def __init__(self, obj: Any) -> None:
        super().__init__(obj)
        t = self.vtable = ffi.new("orderly_transport *")
        lib.orderly_transport_init(t, lib.ORDERLY_TRANSPORT_VERSION)
        t.user_data = self.handle
        t.publish = lib.pyo_t_publish
        t.destroy = lib.pyo_t_destroy


def _s(s: Any) -> StorageBridge:
    return ffi.from_handle(s.user_data)


def _str(p: Any) -> str:
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


def _item_from_c(c: Any) -> QueueItem:
    return QueueItem(c.id, _str(c.group), c.kind, c.state, c.attempts,
                     bytes(ffi.buffer(c.payload, c.payload_len)) if c.payload_len else b"",
                     c.created, c.due, c.lease_token, c.lease_until)


def _emit(items: Iterable[QueueItem], cb: Any, user_data: Any, limit: Optional[int]) -> int:
    c = ffi.new("orderly_queue_item *")
    n = 0
    for it in items:
        if limit is not None and n >= limit:
            break
        group = ffi.new("char[]", it.group.encode())
        payload = ffi.new("uint8_t[]", it.payload) if it.payload else ffi.NULL
        c.id, c.group, c.kind, c.state, c.attempts = it.id, group, it.kind, it.state, it.attempts
        c.payload, c.payload_len = payload, len(it.payload)
        c.created, c.due = it.created, it.due
        c.lease_token, c.lease_until = it.lease_token, it.lease_until
        rc = cb(c, user_data)
        if rc < 0:
            return rc
        n += 1
    return n


def _open_txn(s: Any, ctx: Any, txn_out: Any, read: bool) -> int:
    """Starts a transaction of the Python storage and hands C a number
    standing for it (the object itself stays on the Python side)."""
    b = _s(s)
    try:
        txn = b.obj.begin_read() if read else b.obj.begin()
    except BaseException as exc:
        return b.fail(ctx, exc)
    n = b.next_txn
    b.next_txn += 1
    b.txns[n] = txn
    txn_out[0] = ffi.cast("void *", n)
    return 0


@ffi.def_extern(error=EUSER)
def pyo_s_begin(s: Any, ctx: Any, txn_out: Any) -> int:
    return _open_txn(s, ctx, txn_out, False)


@ffi.def_extern(error=EUSER)
def pyo_s_begin_read(s: Any, ctx: Any, txn_out: Any) -> int:
    return _open_txn(s, ctx, txn_out, True)


@ffi.def_extern(error=EUSER)
def pyo_s_commit(s: Any, ctx: Any, t: Any) -> int:
    b = _s(s)
    txn = b.txns.pop(int(ffi.cast("uintptr_t", t)), None)
    try:
        b.obj.commit(txn)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern()
def pyo_s_rollback(s: Any, ctx: Any, t: Any) -> None:
    b = _s(s)
    txn = b.txns.pop(int(ffi.cast("uintptr_t", t)), None)
    try:
        b.obj.rollback(txn)
    except BaseException as exc:
        b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_load(s: Any, ctx: Any, t: Any, key: Any, out: Any, version_out: Any) -> int:
    b = _s(s)
    try:
        data, version = b.obj.load(b.txn(t), ffi.string(key).decode())
        rc = lib.orderly_buf_set(out, data, len(data))
        if rc < 0:
            return rc
        version_out[0] = version
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_save(s: Any, ctx: Any, t: Any, key: Any, data: Any, n: int, expected: int) -> int:
    b = _s(s)
    try:
        b.obj.save(b.txn(t), ffi.string(key).decode(), bytes(ffi.buffer(data, n)), expected)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_scan(s: Any, ctx: Any, t: Any, after: Any, max: int, cb: Any, user_data: Any) -> int:
    b = _s(s)
    try:
        n = 0
        for key, data, version in b.obj.scan(b.txn(t), _str(after), max):
            if n >= max:
                break
            rc = cb(key.encode(), data, len(data), version, user_data)
            if rc < 0:
                return rc
            n += 1
        return n
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_push(s: Any, ctx: Any, t: Any, queue: int, item: Any, id_out: Any) -> int:
    b = _s(s)
    try:
        id = b.obj.queue_push(b.txn(t), queue, _item_from_c(item))
        if id_out != ffi.NULL:
            id_out[0] = id
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_claim(s: Any, ctx: Any, t: Any, queue: int, now: int, max: int,
                      max_attempts: int, lease_until: int, token_out: Any, cb: Any,
                      user_data: Any) -> int:
    b = _s(s)
    token_out[0] = 0
    try:
        token, items = b.obj.queue_claim(b.txn(t), queue, now, max, max_attempts, lease_until)
        token_out[0] = token
        return _emit(items, cb, user_data, max)
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_finish(s: Any, ctx: Any, t: Any, queue: int, id: int, token: int, state: int,
                       due: int, attempts: int) -> int:
    b = _s(s)
    try:
        b.obj.queue_finish(b.txn(t), queue, id, token, state, due, attempts)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_reset(s: Any, ctx: Any, t: Any, queue: int, id: int, state: int,
                      due: int) -> int:
    b = _s(s)
    try:
        b.obj.queue_reset(b.txn(t), queue, id, state, due)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_get(s: Any, ctx: Any, t: Any, queue: int, id: int, cb: Any,
                    user_data: Any) -> int:
    b = _s(s)
    try:
        rc = _emit([b.obj.queue_get(b.txn(t), queue, id)], cb, user_data, None)
        return rc if rc < 0 else 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_scan(s: Any, ctx: Any, t: Any, queue: int, state: int, after_id: int, max: int,
                     cb: Any, user_data: Any) -> int:
    b = _s(s)
    try:
        return _emit(b.obj.queue_scan(b.txn(t), queue, state, after_id, max), cb, user_data, max)
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_purge(s: Any, ctx: Any, t: Any, queue: int, before: int, max: int) -> int:
    b = _s(s)
    try:
        return int(b.obj.queue_purge(b.txn(t), queue, before, max))
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_stats(s: Any, ctx: Any, t: Any, queue: int, now: int, out: Any) -> int:
    b = _s(s)
    try:
        st = b.obj.queue_stats(b.txn(t), queue, now)
        out.ready, out.due, out.leased = st.ready, st.due, st.leased
        out.lease_expired, out.done, out.dead = st.lease_expired, st.done, st.dead
        out.oldest_pending = st.oldest_pending
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_idem_get(s: Any, ctx: Any, t: Any, key: Any, now: int, out: Any, result: Any) -> int:
    b = _s(s)
    try:
        rec = b.obj.idem_get(b.txn(t), ffi.string(key).decode(), now)
        rc = lib.orderly_buf_set(result, rec.result, len(rec.result))
        if rc < 0:
            return rc
        ffi.memmove(out.fingerprint, rec.fingerprint, 16)
        out.expires = rec.expires
        out.result = lib.orderly_buf_data(result)
        out.result_len = len(rec.result)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_idem_put(s: Any, ctx: Any, t: Any, key: Any, now: int, rec: Any) -> int:
    b = _s(s)
    try:
        r = IdemRecord(bytes(ffi.buffer(rec.fingerprint, 16)), rec.expires,
                       bytes(ffi.buffer(rec.result, rec.result_len)) if rec.result_len else b"")
        b.obj.idem_put(b.txn(t), ffi.string(key).decode(), now, r)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_idem_purge(s: Any, ctx: Any, t: Any, now: int, max: int) -> int:
    b = _s(s)
    try:
        return int(b.obj.idem_purge(b.txn(t), now, max))
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_history_append(s: Any, ctx: Any, t: Any, item: Any) -> int:
    b = _s(s)
    try:
        payload = bytes(ffi.buffer(item.payload, item.payload_len)) if item.payload_len else b""
        b.obj.history_append(b.txn(t), HistoryItem(_str(item.group), item.seq, item.kind,
                                                    payload, item.created))
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_history_scan(s: Any, ctx: Any, t: Any, group: Any, from_seq: int, max: int, cb: Any,
                       user_data: Any) -> int:
    b = _s(s)
    try:
        c = ffi.new("orderly_history_item *")
        n = 0
        for it in b.obj.history_scan(b.txn(t), _str(group), from_seq, max):
            if n >= max:
                break
            cgroup = ffi.new("char[]", it.group.encode())
            payload = ffi.new("uint8_t[]", it.payload) if it.payload else ffi.NULL
            c.group, c.seq, c.kind = cgroup, it.seq, it.kind
            c.payload, c.payload_len, c.created = payload, len(it.payload), it.created
            rc = cb(c, user_data)
            if rc < 0:
                return rc
            n += 1
        return n
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern(error=EUSER)
def pyo_s_queue_next_due(s: Any, ctx: Any, t: Any, queue: int, due_out: Any) -> int:
    b = _s(s)
    try:
        due = b.obj.queue_next_due(b.txn(t), queue)
        if due is None:
            lib.orderly_ctx_set_error(ctx, ENOTFOUND, 0, b"nothing pending")
            return ENOTFOUND
        due_out[0] = due
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern()
def pyo_s_destroy(s: Any) -> None:
    _s(s).txns.clear()


@ffi.def_extern(error=EUSER)
def pyo_t_publish(t: Any, ctx: Any, topic: Any, key: Any, data: Any, n: int, headers: Any,
                  n_headers: int) -> int:
    b: TransportBridge = ffi.from_handle(t.user_data)
    try:
        hdrs = {ffi.string(headers[i].name).decode(): ffi.string(headers[i].value).decode()
                for i in range(n_headers)}
        b.obj.publish(ffi.string(topic).decode(), _str(key), bytes(ffi.buffer(data, n)), hdrs)
        return 0
    except BaseException as exc:
        return b.fail(ctx, exc)


@ffi.def_extern()
def pyo_t_destroy(t: Any) -> None:
    pass


# ---- the shipped C adapters ------------------------------------------------


class _CAdapter:
    """A storage or transport implemented in C, freed once no engine uses it."""

    _ptr: Any

    def __init__(self) -> None:
        self._users = 0

    @property
    def closed(self) -> bool:
        """True once close() released the adapter."""
        return self._ptr is None

    def _pointer(self) -> Any:
        if self._ptr is None:
            raise MisuseError("%s is closed" % type(self).__name__)
        return self._ptr

    def close(self) -> None:
        """Releases the adapter. MisuseError while an open engine uses it."""
        if self._users:
            raise MisuseError("%s is used by %d open engine(s): close them first"
                              % (type(self).__name__, self._users))
        if self._ptr is not None:
            ptr, self._ptr = self._ptr, None
            ffi.release(ptr)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryStorage(_CAdapter):
    """The in-memory reference storage of liborderly (not thread-safe)."""

    def __init__(self) -> None:
        super().__init__()
        p = ffi.new("orderly_storage **")
        rc = lib.orderly_memory_storage_new(p, ffi.NULL)
        if rc != 0:
            raise make_error(rc)
        self._ptr = ffi.gc(p[0], lib.orderly_memory_storage_free)

    def usage(self) -> Tuple[int, int]:
        """(committed records, bytes they hold)."""
        r = ffi.new("size_t[2]")
        lib.orderly_memory_storage_usage(self._pointer(), r, r + 1)
        return r[0], r[1]


class MemoryTransport(_CAdapter):
    """The in-memory transport of liborderly: records every accepted message."""

    def __init__(self, keep: bool = True) -> None:
        super().__init__()
        p = ffi.new("orderly_transport **")
        rc = lib.orderly_memory_transport_new(p, ffi.NULL)
        if rc != 0:
            raise make_error(rc)
        self._ptr = ffi.gc(p[0], lib.orderly_memory_transport_free)
        if not keep:
            lib.orderly_memory_transport_keep(self._ptr, 0)

    def __len__(self) -> int:
        return int(lib.orderly_memory_transport_count(self._pointer()))

    def messages(self) -> List[Message]:
        """Every accepted message, in publish order."""
        t = self._pointer()
        m = ffi.new("orderly_message *")
        out = []
        for i in range(lib.orderly_memory_transport_count(t)):
            if lib.orderly_memory_transport_get(m, t, i) == 0:
                out.append(Message(_str(m.topic), _str(m.key),
                                   bytes(ffi.buffer(m.data, m.len)), m.seq))
        return out

    def clear(self) -> None:
        """Forgets every message."""
        lib.orderly_memory_transport_clear(self._pointer())


_SYNC = {"full": 0, "normal": 1}


class SQLiteStorage(_CAdapter):
    """The SQLite storage of liborderly-sqlite: one database file.

    durability "full" (fsync on every commit: survives a power cut) or
    "normal" (survives a kill). One storage is one connection: use it from
    one engine; open one per thread or process on the same file.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, durability: str = "full",
                 create: bool = True, busy_timeout: DurationLike = 5000,
                 read_only: bool = False) -> None:
        super().__init__()
        raw = text(os.fspath(path), "path") if not isinstance(path, bytes) else None
        if raw is None:
            raise TypeError("path: expected str or os.PathLike, got bytes")
        if durability not in _SYNC:
            raise ValueError("durability: %r is not 'full' or 'normal'" % (durability,))
        opts = ffi.new("orderly_sqlite_options *")
        opts.version = lib.ORDERLY_SQLITE_OPTIONS_VERSION
        opts.create = 1 if create else 0
        timeout = duration_ms(busy_timeout, "busy_timeout")
        if timeout > 2**31 - 1:
            raise ValueError("busy_timeout: %d ms is too long" % timeout)
        opts.busy_timeout_ms = timeout
        opts.synchronous = _SYNC[durability]
        opts.read_only = 1 if read_only else 0
        p = ffi.new("orderly_storage **")
        cp = ffi.new("orderly_ctx **")
        if lib.orderly_ctx_new(cp, ffi.NULL) != 0:
            raise MemoryError("orderly_ctx_new")
        try:
            rc = lib.orderly_sqlite_storage_open(p, raw, opts, cp[0])
            if rc != 0:
                raise ctx_error(rc, cp[0])
        finally:
            lib.orderly_ctx_free(cp[0])
        self.path = os.fspath(path)
        self._ptr = ffi.gc(p[0], lib.orderly_sqlite_storage_close)


def schema_version() -> int:
    """The SQLite schema version this library creates and migrates to."""
    return int(lib.orderly_sqlite_schema_version())

