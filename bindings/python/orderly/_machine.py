"""The declared machines: query the C tables (next, can, allowed, ...) and
export them. Machines are static data in the library: safe from any thread."""
import dataclasses
import enum
from typing import Any, Dict, List, Optional, Tuple, Type, Union

from . import _tables
from ._errors import ctx_error, make_error
from ._native import ffi, lib

StateLike = Union[int, str, enum.IntEnum]
EventLike = Union[int, str, enum.IntEnum]

_FORMATS = {"dot": 1, "mermaid": 2, "json": 3}
_GUARD_FIELDS = ("now", "deadline", "amount", "authorized", "captured", "refunded",
                 "parts_total", "parts_done")
_GUARD_ZERO = dict.fromkeys(_GUARD_FIELDS, 0)


@dataclasses.dataclass(frozen=True)
class Transition:
    """One transition row: from_state --event [guard]--> to_state, effects."""

    from_state: enum.IntEnum
    event: enum.IntEnum
    to_state: enum.IntEnum
    guard: "_tables.Guard"
    effects: Tuple["_tables.Effect", ...]


class _Ctx:
    """An orderly_ctx for one failing query, to read its message."""

    def __enter__(self) -> object:
        p = ffi.new("orderly_ctx **")
        if lib.orderly_ctx_new(p, ffi.NULL) != 0:
            raise MemoryError("orderly_ctx_new")
        self.ctx = p[0]
        return self.ctx

    def __exit__(self, *exc: object) -> None:
        lib.orderly_ctx_free(self.ctx)


def _guard_input(kw: Dict[str, int]) -> object:
    if not kw:
        return ffi.NULL
    for key in kw:
        if key not in _GUARD_FIELDS:
            raise TypeError("unknown guard input %r (expected one of %s)"
                            % (key, ", ".join(_GUARD_FIELDS)))
    gi = ffi.new("orderly_guard_input *")
    for key, value in kw.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("%s: expected int, got %s" % (key, type(value).__name__))
        setattr(gi, key, value)
    return gi


class Machine:
    """One of the six declared state machines (see orderly.machine())."""

    def __init__(self, ptr: object) -> None:
        self._m = ptr
        self.id: int = lib.orderly_machine_get_id(ptr)
        self.name: str = ffi.string(lib.orderly_machine_name(ptr)).decode()
        self.State: Type[enum.IntEnum] = _tables.BY_MACHINE[self.name][0]
        self.Event: Type[enum.IntEnum] = _tables.BY_MACHINE[self.name][1]
        self._states: List[Optional[enum.IntEnum]] = [None] * lib.orderly_machine_state_limit(ptr)
        for s in self.State:
            self._states[s] = s
        # keys: ids, members (equal to their ids) and names
        self._state_ids: Dict[object, int] = {int(s): int(s) for s in self.State}
        self._state_ids.update({s.name.lower(): int(s) for s in self.State})
        self._event_ids: Dict[object, int] = {int(e): int(e) for e in self.Event}
        self._event_ids.update({e.name.lower(): int(e) for e in self.Event})
        self.initial: enum.IntEnum = self.State(lib.orderly_machine_initial(ptr))

    def __repr__(self) -> str:
        return "<orderly.Machine %s>" % self.name

    def state(self, state: StateLike) -> enum.IntEnum:
        """The state member for a member, an id or a name."""
        return self._states[self._sid(state)]  # type: ignore[return-value]

    def event(self, event: EventLike) -> enum.IntEnum:
        """The event member for a member, an id or a name."""
        return self.Event(self._eid(event))

    def _sid(self, state: StateLike) -> int:
        try:
            return self._state_ids[state]
        except (KeyError, TypeError):
            pass
        if not isinstance(state, (int, str)) or isinstance(state, bool):
            raise TypeError("state: expected a %s member, int or str, got %s"
                            % (self.State.__name__, type(state).__name__))
        raise ValueError("state: %r is not a state of machine '%s'" % (state, self.name))

    def _eid(self, event: EventLike) -> int:
        try:
            return self._event_ids[event]
        except (KeyError, TypeError):
            pass
        if not isinstance(event, (int, str)) or isinstance(event, bool):
            raise TypeError("event: expected a %s member, int or str, got %s"
                            % (self.Event.__name__, type(event).__name__))
        raise ValueError("event: %r is not an event of machine '%s'" % (event, self.name))

    def _fail(self, rc: int, s: int, e: int, gi: object) -> Exception:
        with _Ctx() as ctx:
            out = ffi.new("int *")
            lib.orderly_machine_next(out, self._m, s, e, gi, ctx)
            return ctx_error(rc, ctx)

    def next(self, state: StateLike, event: EventLike, **guard: int) -> enum.IntEnum:
        """The state event leads to from state. Guard inputs (now, deadline,
        amount, authorized, captured, refunded, parts_total, parts_done) are
        keyword arguments. Raises TransitionError or GuardError."""
        try:
            s = self._state_ids[state]
            e = self._event_ids[event]
        except (KeyError, TypeError):
            s = self._sid(state)
            e = self._eid(event)
        if guard:
            g = dict(_GUARD_ZERO)
            g.update(guard)
            if len(g) != len(_GUARD_ZERO):
                _guard_input(guard)  # raises naming the unknown input
            try:
                r = lib.pyorderly_next_guarded(self._m, s, e, g["now"], g["deadline"],
                                               g["amount"], g["authorized"], g["captured"],
                                               g["refunded"], g["parts_total"], g["parts_done"])
            except (TypeError, OverflowError):
                _guard_input(guard)  # raises naming the bad input
                raise
        else:
            r = lib.pyorderly_next(self._m, s, e)
        if r < 0:
            raise self._fail(r, s, e, _guard_input(guard))
        return self._states[r]  # type: ignore[return-value]

    def step(self, state: StateLike, event: EventLike, **guard: int) -> Transition:
        """The whole transition row event takes from state (see next())."""
        s = self._sid(state)
        e = self._eid(event)
        gi = _guard_input(guard)
        out = ffi.new("orderly_transition *")
        rc = lib.orderly_machine_step(out, self._m, s, e, gi, ffi.NULL)
        if rc != 0:
            raise self._fail(rc, s, e, gi)
        return self._row(out)

    def can(self, state: StateLike, event: EventLike, **guard: int) -> bool:
        """True when event is allowed from state with these guard inputs."""
        gi = _guard_input(guard)
        return lib.orderly_machine_can(self._m, self._sid(state), self._eid(event), gi,
                                       ffi.NULL) == 0

    def allowed(self, state: StateLike) -> Tuple[enum.IntEnum, ...]:
        """The events with a row from state (guards not evaluated)."""
        cap = lib.orderly_machine_event_limit(self._m)
        buf = ffi.new("int[]", cap)
        n = ffi.new("size_t *")
        rc = lib.orderly_machine_allowed(buf, cap, n, self._m, self._sid(state))
        if rc != 0:
            raise make_error(rc)
        return tuple(self.Event(buf[i]) for i in range(n[0]))

    def is_terminal(self, state: StateLike) -> bool:
        """True when state has no exits."""
        return lib.orderly_machine_is_terminal(self._m, self._sid(state)) == 1

    def is_later(self, a: StateLike, b: StateLike) -> bool:
        """True when state a is later in the lifecycle than state b."""
        return lib.orderly_machine_is_later(self._m, self._sid(a), self._sid(b)) == 1

    def is_late(self, state: StateLike, event: EventLike) -> bool:
        """True when event arriving in state is out of order (ignored)."""
        return lib.orderly_machine_is_late(self._m, self._sid(state), self._eid(event)) == 1

    def timer(self, state: StateLike) -> "_tables.Timer":
        """The timer entering state schedules (Timer.NONE when none)."""
        return _tables.Timer(lib.orderly_machine_state_timer(self._m, self._sid(state)))

    def _row(self, t: Any) -> Transition:
        return Transition(self._states[getattr(t, "from")], self.Event(t.event),  # type: ignore
                          self._states[t.to], _tables.Guard(t.guard),  # type: ignore
                          tuple(_tables.Effect(t.effects[k]) for k in range(t.n_effects)))

    def transitions(self) -> List[Transition]:
        """Every row of the table, in table order."""
        out = ffi.new("orderly_transition *")
        rows = []
        for i in range(lib.orderly_machine_transition_count(self._m)):
            if lib.orderly_machine_transition_at(out, self._m, i) != 0:
                raise make_error(-3, "row %d" % i)
            rows.append(self._row(out))
        return rows

    def validate(self) -> None:
        """Checks the table; raises ConfigError naming the first problem."""
        with _Ctx() as ctx:
            rc = lib.orderly_machine_validate(self._m, ctx)
            if rc != 0:
                raise ctx_error(rc, ctx)

    def export(self, format: str = "dot") -> str:
        """The machine as "dot", "mermaid" or "json" text."""
        fmt = _format(format)
        return _export(lambda buf, cap, n, ctx:
                       lib.orderly_graph_export_buf(buf, cap, n, self._m, fmt, ctx))


def _format(name: str) -> int:
    if type(name) is not str:
        raise TypeError("format: expected str, got %s" % type(name).__name__)
    try:
        return _FORMATS[name]
    except KeyError:
        raise ValueError("format: %r is not one of dot, mermaid, json" % name) from None


def _export(call: object) -> str:
    n = ffi.new("size_t *")
    with _Ctx() as ctx:
        rc = call(ffi.NULL, 0, n, ctx)  # type: ignore[operator]
        if rc not in (0, -19):
            raise ctx_error(rc, ctx)
        buf = ffi.new("char[]", n[0] + 1)
        rc = call(buf, n[0] + 1, n, ctx)  # type: ignore[operator]
        if rc != 0:
            raise ctx_error(rc, ctx)
        return ffi.string(buf, n[0]).decode()


def choreography(format: str = "dot") -> str:
    """The machines and the reactions between them, as text."""
    fmt = _format(format)
    return _export(lambda buf, cap, n, ctx:
                   lib.orderly_graph_export_choreography_buf(buf, cap, n, fmt, ctx))


_CACHE: Dict[object, Machine] = {}


def machine(key: Union[str, int, "_tables.MachineId", Machine]) -> Machine:
    """The machine named key ("order", ...) or with id key (MachineId.ORDER, 1)."""
    try:
        if key.__class__ is not bool:
            return _CACHE[key]
    except (KeyError, TypeError):
        pass
    if isinstance(key, Machine):
        return key
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError("machine: expected a name (str) or an id (int), got %s"
                        % type(key).__name__)
    p = ffi.new("const orderly_machine **")
    if isinstance(key, str):
        rc = lib.orderly_machine_by_name(p, key.encode())
    else:
        rc = lib.orderly_machine_by_id(p, int(key))
    if rc != 0:
        raise make_error(rc, "no machine %r" % (key,))
    mid = lib.orderly_machine_get_id(p[0])
    m = _CACHE.get(mid)
    if m is None:
        m = Machine(p[0])
        _CACHE[mid] = m
        _CACHE[m.name] = m
    return m


def machines() -> List[Machine]:
    """All the machines, in id order."""
    return [machine(i) for i in range(1, lib.ORDERLY_MACHINE_COUNT + 1)]
