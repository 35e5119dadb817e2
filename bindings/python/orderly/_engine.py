"""The engine: commands and events in, state changed, outbox and
idempotency mark written, all in one storage transaction.

One engine is used by one thread at a time. The binding enforces it: a call
made while another thread is inside the same engine raises MisuseError at
once instead of corrupting state. Calls from inside the engine's own
callbacks (on_work pumping, say) are made by the thread already inside and
are allowed. The GIL is released while C runs, so engines on other threads
(each with its own storage) run in parallel with Python code.
"""
import contextlib
import datetime
import threading
import warnings
import weakref
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Sequence, Tuple, Union)

from . import _tables
from ._adapters import StorageBridge, TransportBridge, _CAdapter, _str
from ._convert import (DurationLike, TimeLike, data, duration_ms, from_ms, ident, integer,
                       text, to_ms)
from ._errors import Error, MisuseError, ctx_error, make_error
from ._machine import machine as _machine
from ._native import ffi, lib
from ._types import (Alert, AlertKind, Health, HistoryEntry, ItemState, Line, Operation,
                     OrderView, OutboxRow, PartView, Queue, Result, ReturnLine, Stats)

MachineLike = Union[str, int, "_tables.MachineId"]
LineLike = Union[Line, Sequence[int], Mapping[str, int]]
ReturnLineLike = Union[ReturnLine, Sequence[int], Mapping[str, int]]

_POLICY_DURATIONS = ("reservation_ttl", "cod_window", "auth_window", "auto_complete_after",
                     "fulfillment_sla", "abandoned_after", "idem_ttl", "backoff_base",
                     "backoff_max", "lease", "retention", "cod_collection_window")
_POLICY_COUNTS = ("max_conflict_retries", "outbox_max_attempts", "operation_max_attempts",
                  "batch_max", "seed", "claim_resolution")
_PAYMENT = {"card": 1, "cod": 2}
_PAYMENT_NAME = {1: "card", 2: "cod"}
_NEVER = 2**63 - 1
# The hard maxima of the library loaded at run time (never the header's
# numbers: a newer library may allow more than the one built against).
_LINES_MAX = int(lib.orderly_lines_max())
_PARTS_MAX = int(lib.orderly_parts_max())


def id_max() -> int:
    """The longest order id or idempotency key the C library accepts, in bytes."""
    return int(lib.orderly_id_max())


def lines_max() -> int:
    """The most lines an order may have in the C library loaded at run time
    (its hard maximum: an engine is configured at or below it with
    ``Engine(max_lines=...)``)."""
    return _LINES_MAX


def parts_max() -> int:
    """The most fulfillments (warehouses), shipments and returns an order
    may have, each counted on its own, in the C library loaded at run time
    (an engine is configured at or below it with ``Engine(max_parts=...)``)."""
    return _PARTS_MAX


def op_machine(op: int) -> "_tables.MachineId":
    """The machine that owns operation ``op`` (orderly_op_machine): the one
    service whose replica engine records it (``Engine(replica=True)``).
    Host-defined ops (``Op.HOST`` and up) belong to the order. ValueError
    for an unknown op."""
    rc = int(lib.orderly_op_machine(integer(op, "op", -2**31, 2**31 - 1)))
    if rc < 0:
        raise ValueError("op %d is not an operation" % op)
    return _tables.MachineId(rc)


def replacement_id(order_id: str, return_index: int) -> str:
    """The id of the replacement order that exchange ``return_index`` of
    ``order_id`` opens (Engine.open_replacement): ``"<order_id>.x<index>"``
    when that fits in id_max() bytes, else ``"x."`` and 32 hex digits of a
    hash of the two. Hosts name none of their own orders in these forms.
    ValueError/TypeError for a bad order id or index."""
    oid = ident(order_id, "order_id")
    idx = integer(return_index, "return_index", 0, 2**32 - 1)
    buf = ffi.new("char[]", lib.ORDERLY_ID_MAX + 1)
    rc = lib.orderly_replacement_id(buf, oid, idx)
    if rc != 0:
        raise make_error(rc, "order_id: %r is not a valid order id" % (order_id,))
    return ffi.string(buf).decode()


def policy_defaults() -> Dict[str, int]:
    """The C library's default policy (durations in ms)."""
    p = ffi.new("orderly_policy *")
    lib.orderly_policy_init(p, lib.ORDERLY_POLICY_VERSION)
    return {k: getattr(p, k) for k in _POLICY_DURATIONS + _POLICY_COUNTS}


def _machine_id(value: MachineLike) -> int:
    return _machine(value).id if not type(value) is int or value not in _MACHINE_IDS else value


# per machine id: its MachineId, and its states and events by id
_TABLES: Dict[int, Any] = {}
for _m in _tables.MachineId:
    _st, _ev = _tables.BY_MACHINE[_m.name.lower()]
    _TABLES[int(_m)] = (_m, {int(x): x for x in _st}, {int(x): x for x in _ev})
_ORDER_STATES = _TABLES[1][1]
_NO_TABLE: Tuple[Any, Dict[int, Any], Dict[int, Any]] = (None, {}, {})
_MACHINE_IDS = frozenset(int(m) for m in _tables.MachineId)
_new = object.__new__
_set = object.__setattr__


def _build(m: int, event: int, frm: int, to: int, order_state: int, late: int, dup: int,
           rows: int, ops: int, version: int, index: Optional[int] = None) -> Result:
    machine, states, events = _TABLES.get(m, _NO_TABLE)
    o = _new(Result)
    _set(o, "__dict__", {
        "machine": machine if machine is not None else m, "event": events.get(event),
        "from_state": states.get(frm), "to_state": states.get(to),
        "order_state": _ORDER_STATES.get(order_state), "late": late != 0,
        "duplicate": dup != 0, "outbox_rows": rows, "operations": ops, "version": version,
        "index": index})
    return o


def _result(r: Any, index: Optional[int] = None) -> Result:
    return _build(r.machine, r.event, getattr(r, "from"), r.to, r.order_state, r.late,
                  r.duplicate, r.outbox_rows, r.operations, r.version, index)


class _Callbacks:
    """What the engine's C callbacks reach through their user_data. It holds
    the Engine only weakly: the C engine keeps this alive until it closes,
    and a strong reference back would make a forgotten engine a cycle that
    the collector frees without ever closing it."""

    def __init__(self, engine: Any, on_work: Any, on_alert: Any, clock: Any,
                 errors: List[BaseException]) -> None:
        self.engine = engine
        self.on_work = on_work
        self.on_alert = on_alert
        self.clock = clock
        self.errors = errors
        self.executors: Dict[int, Any] = {}


def _topic_id(topic: Union[int, str], field: str) -> int:
    """A topic given as orderly.Topic, its id or its name ("order")."""
    if isinstance(topic, str):
        try:
            return int(_tables.Topic[topic.upper()])
        except KeyError:
            raise ValueError("%s: unknown topic %r" % (field, topic)) from None
    if isinstance(topic, int) and 1 <= topic <= lib.ORDERLY_TOPIC_COUNT:
        return int(topic)
    raise ValueError("%s: unknown topic %r" % (field, topic))


def _closer(adapters: List[_CAdapter], keep: Any) -> Callable[[Any], None]:
    """The engine's destructor, run by close() or by the garbage collector:
    it holds the adapters (and the callbacks' handle) alive until the
    engine is closed, then releases them to their own close()."""
    def close(p: Any, _keep: Any = keep) -> None:
        lib.orderly_engine_close(p)
        for a in adapters:
            a._users -= 1
    return close


def _line(value: LineLike, i: int) -> Line:
    if isinstance(value, Line):
        return value
    if isinstance(value, Mapping):
        try:
            return Line(**value)
        except TypeError as exc:
            raise TypeError("lines[%d]: %s" % (i, exc)) from None
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return Line(*value)
    raise TypeError("lines[%d]: expected orderly.Line, a (sku, warehouse, quantity, "
                    "unit_price) tuple or a mapping, got %s" % (i, type(value).__name__))


def _return_line(value: ReturnLineLike, i: int) -> ReturnLine:
    if isinstance(value, ReturnLine):
        return value
    if isinstance(value, Mapping):
        try:
            return ReturnLine(**value)
        except TypeError as exc:
            raise TypeError("lines[%d]: %s" % (i, exc)) from None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return ReturnLine(*value)
    raise TypeError("lines[%d]: expected orderly.ReturnLine, a (line, quantity) tuple or a "
                    "mapping, got %s" % (i, type(value).__name__))


def _bits(mask: int) -> Tuple[int, ...]:
    return tuple(i for i in range(32) if mask >> i & 1)


class Engine:
    """An orderly engine on a storage and a transport.

    ``storage`` is an ``orderly.MemoryStorage``, ``orderly.SQLiteStorage``
    or any object implementing the ``orderly.Storage`` protocol;
    ``transport`` an ``orderly.MemoryTransport`` or an ``orderly.Transport``.
    Policy durations (``reservation_ttl=timedelta(minutes=15)``, ...) take a
    timedelta or milliseconds and default to the C library's values.
    ``on_work(engine, n)`` runs after a commit appended n outbox rows;
    ``on_alert(alert)`` receives dead letters and exhausted operations;
    ``clock()`` returns the host's time (epoch ms or aware datetime).
    ``hand_off=True`` (ORDERLY_ENGINE_HAND_OFF) lets a command's own
    transaction claim the outbox rows it appended, so that the next pump
    publishes them without a claim transaction of its own (for hosts that
    pump right after each command, from on_work).
    ``sole=True`` (ORDERLY_ENGINE_SOLE, with hand_off) promises that no
    other engine claims from this storage: the acknowledgements of handed
    rows then wait for the next write however long the host is quiet
    (breaking the promise costs duplicate publishes, never a lost event).
    ``replica=True`` (ORDERLY_ENGINE_REPLICA) makes this engine one
    replica of a services topology: it accepts every machine's commands
    whatever its roles, and roles pick only what it writes (the outbox
    events, operations and deadlines of its machines); its tick publishes
    each due deadline as a command on the commands topic instead of
    applying it. The host feeds every replica the same inputs, in the
    same order, each with the same ``now`` (include/orderly/engine.h).
    ``max_lines`` caps the lines of an order (a bigger one is refused at
    create_order with InvalidArgument, and a command on a stored order
    with more lines, written by an engine configured higher, with
    NotSupported); ``max_parts`` caps its fulfillments (warehouses),
    shipments and returns, each on its own (more warehouses are
    InvalidArgument, one shipment or return too many InvariantError). 0,
    the default, takes the C library's default for an engine; above the
    library's hard maximum (orderly.lines_max(), orderly.parts_max()) is
    ValueError.

    Use as a context manager or call close(); a forgotten engine is closed
    when garbage-collected. Every ``now`` accepts an aware datetime or epoch
    milliseconds and defaults to the wall clock.
    """

    def __init__(self, storage: Any, transport: Any, *,
                 roles: Optional[Iterable[MachineLike]] = None, source: str = "orderly",
                 topics: Optional[Mapping[Union[int, str], str]] = None,
                 on_work: Optional[Callable[["Engine", int], None]] = None,
                 on_alert: Optional[Callable[[Alert], None]] = None,
                 clock: Optional[Callable[[], TimeLike]] = None,
                 max_envelope_bytes: int = 0, hand_off: bool = False,
                 sole: bool = False, replica: bool = False, max_lines: int = 0,
                 max_parts: int = 0,
                 **policy: Union[int, DurationLike]) -> None:
        self._engine: Any = None
        self._lock = threading.RLock()
        self._errors: List[BaseException] = []
        self._keep: List[Any] = []
        self._adapters: List[_CAdapter] = []
        self._cb = _Callbacks(weakref.ref(self), on_work, on_alert, clock, self._errors)
        self._batch = False
        # apply's result buffer: the shim fills it after the C call returned
        # (after any callback inside it), so a nested apply cannot clobber it
        self._out = ffi.new("int64_t[10]")

        opts = ffi.new("orderly_engine_options *")
        lib.orderly_engine_options_init(opts, lib.ORDERLY_ENGINE_OPTIONS_VERSION)
        opts.storage = self._adapter(storage, "storage", StorageBridge)
        opts.transport = self._adapter(transport, "transport", TransportBridge)
        if roles is not None:
            mask = 0
            for r in roles:
                mask |= 1 << _machine_id(r)
            opts.roles = mask
        src = ffi.new("char[]", text(source, "source"))
        opts.source = src
        pol = ffi.new("orderly_policy *")
        lib.orderly_policy_init(pol, lib.ORDERLY_POLICY_VERSION)
        for key, value in policy.items():
            if key in _POLICY_DURATIONS:
                if value is None:
                    setattr(pol, key, _NEVER)
                else:
                    setattr(pol, key, duration_ms(value, key))  # type: ignore[arg-type]
            elif key in _POLICY_COUNTS:
                setattr(pol, key, integer(value, key, 0, 2**64 - 1 if key == "seed"
                                          else 2**32 - 1))
            else:
                raise TypeError("Engine() got an unexpected keyword argument %r" % key)
        opts.policy = pol
        names: List[Any] = []
        if topics:
            arr = ffi.new("const char *[]", lib.ORDERLY_TOPIC_COUNT + 1)
            for topic, name in topics.items():
                tid = _topic_id(topic, "topics")
                names.append(ffi.new("char[]", text(name, "topics[%r]" % (topic,))))
                arr[tid] = names[-1]
            opts.topics = arr
            opts.n_topics = lib.ORDERLY_TOPIC_COUNT + 1
            names.append(arr)
        self._handle = ffi.new_handle(self._cb)
        if on_work is not None:
            opts.on_work = lib.pyo_on_work
            opts.work_user_data = self._handle
        if on_alert is not None:
            opts.on_alert = lib.pyo_on_alert
            opts.alert_user_data = self._handle
        if clock is not None:
            opts.clock = lib.pyo_clock
            opts.clock_user_data = self._handle
        if type(hand_off) is not bool:
            raise TypeError("hand_off: expected bool, got %s" % type(hand_off).__name__)
        if type(sole) is not bool:
            raise TypeError("sole: expected bool, got %s" % type(sole).__name__)
        if type(replica) is not bool:
            raise TypeError("replica: expected bool, got %s" % type(replica).__name__)
        opts.flags = ((lib.ORDERLY_ENGINE_HAND_OFF if hand_off else 0) |
                      (lib.ORDERLY_ENGINE_SOLE if sole else 0) |
                      (lib.ORDERLY_ENGINE_REPLICA if replica else 0))
        opts.max_envelope_bytes = integer(max_envelope_bytes, "max_envelope_bytes", 0,
                                          lib.ORDERLY_ENVELOPE_MAX_LIMIT)
        opts.max_lines = integer(max_lines, "max_lines", 0, _LINES_MAX)
        opts.max_parts = integer(max_parts, "max_parts", 0, _PARTS_MAX)
        out = ffi.new("orderly_engine **")
        cp = ffi.new("orderly_ctx **")
        if lib.orderly_ctx_new(cp, ffi.NULL) != 0:
            raise MemoryError("orderly_ctx_new")
        try:
            rc = lib.orderly_engine_open(out, opts, cp[0])
            self._raise_pending()
            if rc != 0:
                raise ctx_error(rc, cp[0])
        finally:
            lib.orderly_ctx_free(cp[0])
        for a in self._adapters:
            a._users += 1
        self._engine = ffi.gc(out[0], _closer(self._adapters, (self._keep, self._handle)))

    def _adapter(self, obj: Any, field: str, bridge: Any) -> Any:
        if isinstance(obj, _CAdapter):
            ptr = obj._pointer()
            if (field == "storage") != (ffi.typeof(ptr) is ffi.typeof("orderly_storage *")):
                raise TypeError("%s: got %s" % (field, type(obj).__name__))
            self._adapters.append(obj)
            self._keep.append(obj)
            return ptr
        needed = "publish" if field == "transport" else "begin"
        if not hasattr(obj, needed):
            raise TypeError("%s: expected an orderly adapter or an object implementing "
                            "orderly.%s, got %s" % (field, field.capitalize(),
                                                    type(obj).__name__))
        b = bridge(obj)
        b.errors = self._errors
        self._keep.append(b)
        return b.vtable

    # ---- plumbing -----------------------------------------------------------

    def _enter(self) -> Any:
        if not self._lock.acquire(False):
            raise MisuseError("engine is in use by another thread: use one engine per "
                              "thread, or lock around it")
        e = self._engine
        if e is None:
            self._lock.release()
            raise MisuseError("engine is closed")
        return e

    def _raise_pending(self) -> None:
        if self._errors:
            exc = self._errors[0]
            del self._errors[:]
            raise exc

    def _fail(self, rc: int) -> Error:
        self._raise_pending()
        e = self._engine
        msg = ffi.string(lib.orderly_engine_errmsg(e)).decode("utf-8", "replace")
        native = lib.orderly_ctx_native(lib.orderly_engine_ctx(e))
        return make_error(rc, msg, native)

    def _call(self, fn: Any, *args: Any) -> int:
        e = self._enter()
        try:
            rc = fn(e, *args)
            if self._errors:
                self._raise_pending()
            if rc < 0:
                raise self._fail(rc)
            return rc
        finally:
            self._lock.release()

    @property
    def closed(self) -> bool:
        """True once close() ran."""
        return self._engine is None

    def last_error(self) -> Optional[Error]:
        """The engine's last failure as an orderly.Error (None when the last
        call succeeded); the exceptions raised carry the same."""
        e = self._enter()
        try:
            rc = lib.orderly_engine_errcode(e)
            if rc >= 0:
                return None
            msg = ffi.string(lib.orderly_engine_errmsg(e)).decode("utf-8", "replace")
            return make_error(rc, msg, lib.orderly_ctx_native(lib.orderly_engine_ctx(e)))
        finally:
            self._lock.release()

    def close(self) -> None:
        """Closes the engine (idempotent). MisuseError inside an open batch
        from another thread."""
        if self._engine is None:
            return
        e = self._enter()
        try:
            self._engine = None
            ffi.release(e)
        finally:
            self._lock.release()
        self._raise_pending()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<orderly.Engine %s>" % ("closed" if self._engine is None else "open")

    # ---- commands -------------------------------------------------------------

    def create_order(self, order_id: str, lines: Sequence[LineLike], *, currency: str,
                     payment: str = "card", has_promotion: bool = False,
                     loyalty_points: int = 0, idem_key: Optional[str] = None,
                     now: TimeLike = None) -> Result:
        """Creates an order in `pending` with one reservation per line.

        payment is "card" or "cod"; lines are orderly.Line values (or
        (sku, warehouse, quantity, unit_price) tuples). Raises Exists when the
        id is taken by a different request."""
        oid = ident(order_id, "order_id")
        key = ident(idem_key, "idem_key", optional=True)
        if type(currency) is not str:
            raise TypeError("currency: expected str, got %s" % type(currency).__name__)
        if len(currency) != 3 or not currency.isascii() or not currency.isupper():
            raise ValueError("currency: expected three upper-case letters (ISO 4217), got %r"
                             % currency)
        if payment not in _PAYMENT:
            raise ValueError("payment: %r is not 'card' or 'cod'" % (payment,))
        if isinstance(lines, (str, bytes)) or not isinstance(lines, Sequence):
            raise TypeError("lines: expected a sequence of orderly.Line")
        n = len(lines)
        if not 1 <= n <= _LINES_MAX:
            raise ValueError("lines: expected 1..%d lines (orderly.lines_max()), got %d"
                             % (_LINES_MAX, n))
        arr = ffi.new("orderly_line[]", n)
        for i, value in enumerate(lines):
            ln = _line(value, i)
            arr[i].sku = integer(ln.sku, "lines[%d].sku" % i, 0, 2**64 - 1)
            arr[i].warehouse = integer(ln.warehouse, "lines[%d].warehouse" % i, 0, 2**32 - 1)
            arr[i].quantity = integer(ln.quantity, "lines[%d].quantity" % i, 1,
                                      lib.ORDERLY_QUANTITY_MAX)
            arr[i].unit_price = integer(ln.unit_price, "lines[%d].unit_price" % i, 0,
                                        lib.ORDERLY_UNIT_PRICE_MAX)
        points = integer(loyalty_points, "loyalty_points", 0, 2**63 - 1)
        out = ffi.new("int64_t[10]")
        self._call(lib.pyorderly_create_order, oid, currency.encode(), _PAYMENT[payment], arr,
                   n, 1 if has_promotion else 0, points, key or ffi.NULL, to_ms(now), out)
        return _build(*ffi.unpack(out, 10))

    def apply(self, order_id: str, machine: MachineLike, event: Any, *, index: int = 0,
              amount: int = 0, idem_key: Optional[str] = None, now: TimeLike = None) -> Result:
        """Applies one event to one part of an order (index picks the
        reservation, fulfillment, shipment or return; amount is read by
        events that move money). Raises TransitionError, GuardError,
        InvariantError, NotFound, IdempotencyMismatch, InFlight, ..."""
        oid = ident(order_id, "order_id")
        m = _machine(machine)
        ev = m._eid(event)
        if type(index) is not int or not 0 <= index < 2**32:
            index = integer(index, "index", 0, 2**32 - 1)
        if type(amount) is not int or not 0 <= amount < 2**63:
            amount = integer(amount, "amount", 0, 2**63 - 1)
        key = ident(idem_key, "idem_key", optional=True) if idem_key is not None else ffi.NULL
        ms = to_ms(now) if now is not None else to_ms(None)
        out = self._out
        e = self._enter()
        try:
            rc = lib.pyorderly_apply(e, oid, m.id, ev, index, amount, key, ms, out)
            if self._errors:
                self._raise_pending()
            if rc < 0:
                raise self._fail(rc)
            # read before the lock goes: the buffer is this engine's
            return _build(*ffi.unpack(out, 10))
        finally:
            self._lock.release()

    def cancel_order(self, order_id: str, *, idem_key: Optional[str] = None,
                     now: TimeLike = None) -> Result:
        """Cancels an order (releasing its stock and settling its payment)."""
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        self._call(lib.orderly_engine_cancel_order, ident(order_id, "order_id"),
                   ident(idem_key, "idem_key", True) or ffi.NULL, to_ms(now), out)
        return _result(out)

    def request_capture(self, order_id: str, *, idem_key: Optional[str] = None,
                        now: TimeLike = None) -> Result:
        """Asks the payment of an order to capture its authorised amount."""
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        self._call(lib.orderly_engine_request_capture, ident(order_id, "order_id"),
                   ident(idem_key, "idem_key", True) or ffi.NULL, to_ms(now), out)
        return _result(out)

    def open_return(self, order_id: str, lines: Sequence[ReturnLineLike], *,
                    adjustment: int = 0, exchange: bool = False,
                    idem_key: Optional[str] = None, now: TimeLike = None) -> Result:
        """Opens a return (or, with exchange, an exchange) of the units
        lines names on a delivered order; Result.index is the new return's
        index. lines are orderly.ReturnLine values (or (line, quantity)
        tuples), each order line at most once. The amount refunded is the
        units' value plus adjustment (negative for a restocking fee kept);
        completing the return restocks exactly those units. Raises
        InvalidArgument for a bad line or adjustment, InvariantError when
        the units or the amount exceed what the order can still give back."""
        oid = ident(order_id, "order_id")
        key = ident(idem_key, "idem_key", True)
        if isinstance(lines, (str, bytes)) or not isinstance(lines, Sequence):
            raise TypeError("lines: expected a sequence of orderly.ReturnLine")
        n = len(lines)
        if not 1 <= n <= _LINES_MAX:
            raise ValueError("lines: expected 1..%d lines (orderly.lines_max()), got %d"
                             % (_LINES_MAX, n))
        arr = ffi.new("orderly_return_line[]", n)
        for i, value in enumerate(lines):
            ln = _return_line(value, i)
            arr[i].line = integer(ln.line, "lines[%d].line" % i, 0, _LINES_MAX - 1)
            arr[i].quantity = integer(ln.quantity, "lines[%d].quantity" % i, 1,
                                      lib.ORDERLY_QUANTITY_MAX)
        spec = ffi.new("orderly_return_spec *")
        spec.version = lib.ORDERLY_RETURN_SPEC_VERSION
        c_oid = ffi.new("char[]", oid)
        spec.order_id = c_oid
        spec.lines = arr
        spec.n_lines = n
        spec.adjustment = integer(adjustment, "adjustment", -2**63, 2**63 - 1)
        spec.exchange = 1 if exchange else 0
        c_key = ffi.new("char[]", key) if key else ffi.NULL
        spec.idem_key = c_key
        spec.now = to_ms(now)
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        idx = ffi.new("uint32_t *")
        self._call(lib.orderly_engine_open_return_lines, idx, spec, out)
        return _result(out, idx[0])

    def open_return_amount(self, order_id: str, amount: int, *, exchange: bool = False,
                           idem_key: Optional[str] = None, now: TimeLike = None) -> Result:
        """Deprecated (as orderly_engine_open_return is): a return of amount
        minor units that names no lines, so completing it restocks nothing.
        Use open_return with the lines that came back."""
        warnings.warn("open_return_amount is deprecated: use open_return(order_id, lines)",
                      DeprecationWarning, stacklevel=2)
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        idx = ffi.new("uint32_t *")
        self._call(lib.orderly_engine_open_return, idx, ident(order_id, "order_id"),
                   integer(amount, "amount", 1, 2**63 - 1), 1 if exchange else 0,
                   ident(idem_key, "idem_key", True) or ffi.NULL, to_ms(now), out)
        return _result(out, idx[0])

    def open_replacement(self, order_id: str, return_index: int, *,
                         now: TimeLike = None) -> Result:
        """Opens the replacement order of an exchange: return ``return_index``
        of ``order_id``, opened with ``exchange=True`` and completed, gets a
        new order, orderly.replacement_id(order_id, return_index), created
        pending as create_order creates one (its stock reserved, its
        payment pending for the host to settle), holding the exchanged
        units of each line at their price, in the original's currency and
        payment method. The two orders name each other: the replacement's
        OrderView.replacement_of and the exchange's PartView.replacement.

        Opening it again (a redelivered order.replacement_requested) returns
        the first result with ``duplicate`` set and never a second order;
        Exists once that idempotency mark has lapsed. Raises NotFound for no
        such order or return, TransitionError when the return is not an
        exchange, not completed, or names no lines (a money-only exchange)."""
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        self._call(lib.orderly_engine_open_replacement, ident(order_id, "order_id"),
                   integer(return_index, "return_index", 0, 2**32 - 1), to_ms(now), out)
        return _result(out)

    def handle_event(self, envelope: bytes, *, now: TimeLike = None) -> Result:
        """Handles a CloudEvents JSON envelope (bytes) from another service;
        its id is the idempotency key. Raises EnvelopeError naming the field."""
        raw = data(envelope, "envelope")
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        self._call(lib.orderly_engine_handle_event, raw, len(raw), to_ms(now), out)
        return _result(out)

    def handle_webhook(self, payload: bytes, signature: str, *, secret: bytes,
                       tolerance: DurationLike = datetime.timedelta(minutes=5),
                       now: TimeLike = None) -> Result:
        """Verifies a payment provider's webhook signature header, then handles
        payload as an envelope. Raises SignatureError, SignatureHeaderError,
        StaleError."""
        raw = data(payload, "payload")
        key = data(secret, "secret")
        if isinstance(tolerance, datetime.timedelta):
            seconds = int(tolerance.total_seconds())
        else:
            seconds = integer(tolerance, "tolerance", 0, 2**62)
        out = ffi.new("orderly_result *")
        out.size = ffi.sizeof("orderly_result")
        self._call(lib.orderly_engine_handle_webhook, key, len(key),
                   text(signature, "signature"), raw, len(raw), seconds, to_ms(now), out)
        return _result(out)

    # ---- batching ---------------------------------------------------------------

    def begin_batch(self) -> None:
        """Groups the following commands into one storage transaction."""
        self._call(lib.orderly_engine_begin_batch)

    def commit_batch(self) -> None:
        """Commits the open batch."""
        self._call(lib.orderly_engine_commit_batch)

    def rollback_batch(self) -> None:
        """Discards the open batch (no-op when none is open)."""
        e = self._enter()
        try:
            lib.orderly_engine_rollback_batch(e)
        finally:
            self._lock.release()
        self._raise_pending()

    @contextlib.contextmanager
    def batch(self) -> Iterator["Engine"]:
        """``with engine.batch():`` commits the commands inside on a normal
        exit and rolls them all back when the block raises."""
        self.begin_batch()
        try:
            yield self
        except BaseException:
            self.rollback_batch()
            raise
        self.commit_batch()

    # ---- reading ----------------------------------------------------------------

    def get_order(self, order_id: str) -> OrderView:
        """The order's current state; NotFound for an unknown id."""
        v = ffi.new("orderly_order_view *")
        v.size = ffi.sizeof("orderly_order_view")
        self._call(lib.orderly_engine_get_order, ident(order_id, "order_id"), v)
        return OrderView(order_id, _tables.OrderState(v.order_state),
                         _tables.PaymentState(v.payment_state),
                         _PAYMENT_NAME.get(v.payment_method, str(v.payment_method)),
                         ffi.string(v.currency).decode(), v.total, v.authorized, v.captured,
                         v.refunded, v.n_lines, v.n_fulfillments, v.n_shipments, v.n_returns,
                         from_ms(v.created), v.version, ffi.string(v.replacement_of).decode())

    def get_part(self, order_id: str, machine: MachineLike, index: int = 0) -> PartView:
        """One reservation, fulfillment, shipment or return of an order."""
        m = _machine(machine)
        v = ffi.new("orderly_part_view *")
        v.size = ffi.sizeof("orderly_part_view")
        self._call(lib.orderly_engine_get_part, ident(order_id, "order_id"), m.id,
                   integer(index, "index", 0, 2**32 - 1), v)
        return PartView(_tables.MachineId(v.machine), v.index, m.State(v.state), v.sku,
                        v.warehouse, v.quantity, v.amount, from_ms(v.since), v.reserved,
                        v.shipped, v.delivered, v.lost, v.back_at_origin, v.returned,
                        v.restocked, v.shipment, v.refunded, _bits(v.lines),
                        ffi.string(v.replacement).decode())

    def return_lines(self, order_id: str, index: int) -> List[ReturnLine]:
        """The order lines return ``index`` of an order names, in order-line
        order, each with the return's units of it: what open_return was
        given. Unlike PartView.lines (the first 32 order lines only) it
        reads every line of any order. An empty list for a return opened by
        amount (open_return_amount); NotFound for no such order or return.
        Inside an open batch it reads what the batch sees."""
        oid = ident(order_id, "order_id")
        idx = integer(index, "index", 0, 2**32 - 1)
        count = ffi.new("size_t *")
        e = self._enter()
        try:
            # counted first, then read whole, under one claim of the engine
            # so that no other thread's command lands between the two reads
            rc = lib.orderly_engine_get_return_lines(e, oid, idx, ffi.NULL, 0, count)
            if rc == 0 and count[0] > 0:
                arr = ffi.new("orderly_return_line[]", count[0])
                rc = lib.orderly_engine_get_return_lines(e, oid, idx, arr, count[0], count)
            if self._errors:
                self._raise_pending()
            if rc < 0:
                raise self._fail(rc)
            return [ReturnLine(arr[k].line, arr[k].quantity) for k in range(count[0])] if count[0] else []
        finally:
            self._lock.release()

    def stats(self) -> Stats:
        """Counters since open."""
        v = ffi.new("orderly_engine_stats *")
        v.size = ffi.sizeof("orderly_engine_stats")
        self._call(lib.orderly_engine_get_stats, v)
        return Stats(v.applied, v.rejected, v.duplicates, v.late_ignored, v.idem_busy,
                     v.idem_mismatch, v.conflicts_retried, v.outbox_appended,
                     v.operations_recorded, v.txn_begins, v.txn_commits, v.txn_rollbacks,
                     v.txn_read_begins, v.txn_ack_writes, v.deadlines_cancelled)

    def order_history(self, order_id: str, from_seq: int = 0,
                      max: int = 0) -> List[HistoryEntry]:
        """The order's events with seq >= from_seq, in the order they were
        produced, up to max (0 = all; at most orderly.HISTORY_MAX are kept).
        NotFound for an unknown order; NotSupported when the storage keeps
        no history (a Python storage without history_append/history_scan)."""
        rows: List[HistoryEntry] = []
        h = ffi.new_handle(rows)
        self._call(lib.orderly_engine_order_history, ident(order_id, "order_id"),
                   integer(from_seq, "from_seq", 0, 2**32 - 1), integer(max, "max", 0, 2**32),
                   lib.pyo_history_entry, h)
        return rows

    def topic(self, topic: Union[int, str]) -> str:
        """The configured name of a topic (orderly.Topic or its name)."""
        tid = _topic_id(topic, "topic")
        e = self._enter()
        try:
            p = lib.orderly_engine_topic(e, tid)
        finally:
            self._lock.release()
        if p == ffi.NULL:
            raise ValueError("topic: unknown topic %r" % (topic,))
        return ffi.string(p).decode()

    def topic_id(self, name: str) -> "_tables.Topic":
        """The topic a configured name stands for; ConfigError when none."""
        out = ffi.new("int *")
        raw = text(name, "name")
        e = self._enter()
        try:
            rc = lib.orderly_engine_topic_id(out, e, raw)
            if rc < 0:
                raise self._fail(rc)
        finally:
            self._lock.release()
        return _tables.Topic(out[0])

    # ---- background work --------------------------------------------------------

    def _step(self, fn: Any, now: TimeLike, max: int) -> int:
        n = ffi.new("size_t *")
        self._call(fn, to_ms(now), integer(max, "max", 0, 2**32 - 1), n)
        return int(n[0])

    def pump(self, now: TimeLike = None, max: int = 0) -> int:
        """Publishes up to max outbox events (0 = policy.batch_max); the count published."""
        return self._step(lib.orderly_engine_pump, now, max)

    def purge(self, now: TimeLike = None, max: int = 0) -> int:
        """Deletes published events past the retention; the count purged."""
        return self._step(lib.orderly_engine_purge, now, max)

    def tick(self, now: TimeLike = None, max: int = 0) -> int:
        """Fires due timers; the count that changed state."""
        return self._step(lib.orderly_engine_tick, now, max)

    def wake(self) -> None:
        """Makes the next pump, tick and run_operations look at the store:
        call it after rows were written behind this engine's back (another
        process on the same store), since the engine otherwise trusts the
        due times it knows."""
        e = self._enter()
        try:
            lib.orderly_engine_wake(e)
        finally:
            self._lock.release()

    def run_operations(self, now: TimeLike = None, max: int = 0) -> int:
        """Runs due operations through their executors; the count done."""
        return self._step(lib.orderly_engine_run_operations, now, max)

    def outbox(self, state: Optional[int] = None, *, after_id: int = 0,
               max: int = 100) -> List[OutboxRow]:
        """Outbox rows in state (an orderly.ItemState; None = all), id > after_id."""
        rows: List[OutboxRow] = []
        h = ffi.new_handle(rows)
        self._call(lib.orderly_engine_list_outbox, -1 if state is None else int(state),
                   integer(after_id, "after_id", 0, 2**64 - 1), integer(max, "max", 0, 2**32),
                   lib.pyo_outbox_row, h)
        return rows

    def operations(self, state: Optional[int] = None, *, after_id: int = 0,
                   max: int = 100) -> List[Operation]:
        """Recorded operations in state (None = all), id > after_id."""
        rows: List[Operation] = []
        h = ffi.new_handle(rows)
        self._call(lib.orderly_engine_list_operations, -1 if state is None else int(state),
                   integer(after_id, "after_id", 0, 2**64 - 1), integer(max, "max", 0, 2**32),
                   lib.pyo_operation_row, h)
        return rows

    def inspect_operation(self, id: int) -> Operation:
        """One operation by id; NotFound when absent."""
        rows: List[Operation] = []
        h = ffi.new_handle(rows)
        self._call(lib.orderly_engine_inspect_operation, integer(id, "id", 0, 2**64 - 1),
                   lib.pyo_operation_row, h)
        return rows[0]

    def replay_operation(self, id: int, now: TimeLike = None) -> None:
        """Puts a parked (dead) operation back to run at now."""
        self._call(lib.orderly_engine_replay_operation, integer(id, "id", 0, 2**64 - 1),
                   to_ms(now))

    def set_executor(self, op: int, executor: Optional[Callable[[Operation], None]]) -> None:
        """Runs op (an orderly.Op, or a host op >= 100) through executor:
        returning means done, raising an orderly Error retries it later.
        None removes it (the op is then published to the commands topic)."""
        opid = integer(int(op), "op", 1, 2**31 - 1)
        if executor is None:
            self._call(lib.orderly_engine_set_executor, opid, ffi.NULL, ffi.NULL)
            self._cb.executors.pop(opid, None)
            return
        if not callable(executor):
            raise TypeError("executor: expected a callable, got %s" % type(executor).__name__)
        h = ffi.new_handle((self._cb, executor))
        self._call(lib.orderly_engine_set_executor, opid, lib.pyo_executor, h)
        self._cb.executors[opid] = h

    def set_op_attempts(self, op: int, n: int) -> None:
        """Sets the attempts after which op is parked (0 = its declared limit)."""
        self._call(lib.orderly_engine_set_op_attempts, integer(int(op), "op", 1, 2**31 - 1),
                   integer(n, "n", 0, 2**32 - 1))

    def health(self, now: TimeLike = None, *, max_backlog: int = 0,
               max_age: DurationLike = 0) -> Health:
        """Backlog, ages, counters and readiness as of now (thresholds 0 = defaults)."""
        v = ffi.new("orderly_health *")
        v.size = ffi.sizeof("orderly_health")
        age = duration_ms(max_age, "max_age") if max_age else 0
        self._call(lib.orderly_engine_health, to_ms(now),
                   integer(max_backlog, "max_backlog", 0, 2**64 - 1), age, v)
        return Health(v.outbox_pending, v.outbox_oldest_age_ms, v.outbox_leased,
                      v.outbox_lease_expired, v.outbox_dead, v.operations_pending,
                      v.operations_exhausted, v.timers_due, v.late_ignored,
                      v.duplicates_suppressed, v.idem_busy, v.idem_mismatch,
                      v.stale_completions, v.leases_expired_total, v.published_total,
                      v.redelivered_total, bool(v.ready), v.rows_parked_total,
                      v.transport_outage_ms)

    def metrics(self, now: TimeLike = None) -> Dict[str, float]:
        """Every health figure by its stable metric name."""
        out: Dict[str, float] = {}
        h = ffi.new_handle(out)
        self._call(lib.orderly_engine_metrics, to_ms(now), lib.pyo_metric, h)
        return out


# ---- callback trampolines ------------------------------------------------------


def _operation(v: Any) -> Operation:
    lines = tuple((v.sku[i], v.warehouse[i], v.quantity[i]) for i in range(v.n_lines))
    return Operation(v.id, v.op, _str(v.order_id), _str(v.key), v.index, v.amount, lines,
                     v.attempts, ItemState(v.state), v.max_attempts)


@ffi.def_extern()
def pyo_on_work(e: Any, n: int, user_data: Any) -> None:
    cb: _Callbacks = ffi.from_handle(user_data)
    engine = cb.engine()
    if engine is None:
        return  # being collected: nobody is left to do the work
    try:
        cb.on_work(engine, n)  # type: ignore[misc]
    except BaseException as exc:
        cb.errors.append(exc)


@ffi.def_extern()
def pyo_on_alert(a: Any, user_data: Any) -> None:
    cb: _Callbacks = ffi.from_handle(user_data)
    try:
        cb.on_alert(Alert(AlertKind(a.kind), Queue(a.queue), a.item_id,  # type: ignore
                          _str(a.group), _str(a.message)))
    except BaseException as exc:
        cb.errors.append(exc)


@ffi.def_extern(error=0)
def pyo_clock(user_data: Any) -> int:
    cb: _Callbacks = ffi.from_handle(user_data)
    try:
        return to_ms(cb.clock(), "clock()")  # type: ignore[misc]
    except BaseException as exc:
        cb.errors.append(exc)
        return 0


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_executor(v: Any, user_data: Any) -> int:
    cb, fn = ffi.from_handle(user_data)
    try:
        fn(_operation(v))
        return 0
    except Error as exc:
        return exc.code
    except BaseException as exc:
        cb.errors.append(exc)
        return lib.ORDERLY_EUSER


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_outbox_row(v: Any, user_data: Any) -> int:
    rows = ffi.from_handle(user_data)
    rows.append(OutboxRow(v.id, _str(v.order_id), _str(v.type), _str(v.topic), _str(v.event_id),
                          ItemState(v.state), v.attempts, from_ms(v.created), from_ms(v.due)))
    return 0


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_operation_row(v: Any, user_data: Any) -> int:
    ffi.from_handle(user_data).append(_operation(v))
    return 0


def _member(enum_cls: Any, p: Any) -> Optional[Any]:
    if p == ffi.NULL or enum_cls is None:
        return None
    return enum_cls.__members__.get(ffi.string(p).decode().upper())


@ffi.def_extern(error=lib.ORDERLY_EUSER)
def pyo_history_entry(v: Any, user_data: Any) -> int:
    name = _str(v.machine)
    machine = _tables.MachineId.__members__.get(name.upper()) if name else None
    states, events = _tables.BY_MACHINE.get(name, (None, None))
    ffi.from_handle(user_data).append(HistoryEntry(
        v.seq, _str(v.order_id), _str(v.type), _str(v.event_id), from_ms(v.time), machine,
        v.index, _member(states, getattr(v, "from")), _member(states, v.to),
        _member(events, v.event), v.amount, _str(v.currency), v.n_lines,
        ffi.unpack(v.json, v.json_len).decode("utf-8", "replace") if v.json_len else ""))
    return 0


@ffi.def_extern()
def pyo_metric(name: Any, value: float, user_data: Any) -> None:
    ffi.from_handle(user_data)[ffi.string(name).decode()] = value


def webhook_signature(payload: bytes, *, secret: bytes, timestamp: TimeLike = None) -> str:
    """The signature header a payment provider would send for payload at
    timestamp (for tests, and for hosts that relay webhooks)."""
    raw = data(payload, "payload")
    key = data(secret, "secret")
    seconds = to_ms(timestamp, "timestamp") // 1000
    buf = ffi.new("char[]", 256)
    rc = lib.orderly_webhook_sign(buf, 256, key, len(key), raw, len(raw), seconds)
    if rc != 0:
        raise make_error(rc)
    return ffi.string(buf).decode()
