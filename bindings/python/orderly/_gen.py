"""Renders orderly/_tables.py from the C library's own tables.

Run at build time (setup.py) with the freshly compiled orderly._native, and
again by the drift test, which compares its output with the installed
module: the enums are never copied by hand.
"""
from typing import Any, List, Tuple


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _names(ffi: Any, get: Any, first: int, limit: int) -> List[Tuple[str, int]]:
    out = []
    for i in range(first, limit):
        p = get(i)
        if p != ffi.NULL:
            out.append((ffi.string(p).decode(), i))
    return out


def _enum(lines: List[str], cls: str, doc: str, members: List[Tuple[str, int]]) -> None:
    lines.append("")
    lines.append("")
    lines.append("class %s(enum.IntEnum):" % cls)
    lines.append('    """%s"""' % doc)
    lines.append("")
    for name, value in members:
        lines.append("    %s = %d" % (name.upper(), value))


def tables(ffi: Any, lib: Any) -> List[Tuple[str, str, str, List[Tuple[str, int]]]]:
    """Every enum as (machine name or '', class name, docstring, members)."""
    out = []
    machines = []
    for mid in range(1, lib.ORDERLY_MACHINE_COUNT + 1):
        mp = ffi.new("const orderly_machine **")
        if lib.orderly_machine_by_id(mp, mid) != 0:
            raise RuntimeError("machine %d is missing" % mid)
        m = mp[0]
        name = ffi.string(lib.orderly_machine_name(m)).decode()
        machines.append((name, mid))
        out.append((name, _camel(name) + "State", "States of the %s machine." % name,
                    _names(ffi, lambda i: lib.orderly_machine_state_name(m, i), 1,
                           lib.orderly_machine_state_limit(m))))
        out.append((name, _camel(name) + "Event", "Events of the %s machine." % name,
                    _names(ffi, lambda i: lib.orderly_machine_event_name(m, i),
                           lib.ORDERLY_EVENT_FIRST, lib.orderly_machine_event_limit(m))))
    out.insert(0, ("", "MachineId", "The machines, by id.", machines))
    out.append(("", "Guard", "Guards of transition rows.",
                _names(ffi, lib.orderly_guard_name, 0, 64)))
    out.append(("", "Effect", "Effects of transition rows.",
                _names(ffi, lib.orderly_effect_name, 0, 64)))
    out.append(("", "Timer", "Timers a state schedules.",
                _names(ffi, lib.orderly_timer_name, 0, 64)))
    out.append(("", "Op", "Operation types orderly records (host ops start at 100).",
                _names(ffi, lib.orderly_op_name, 1, lib.ORDERLY_OP_HOST)))
    topics = []
    for t in range(1, lib.ORDERLY_TOPIC_COUNT + 1):
        p = lib.orderly_topic_default_name(t)
        topics.append((ffi.string(p).decode().split(".", 1)[1], t))
    out.append(("", "Topic", "Topics the outbox publishes to.", topics))
    return out


def render(ffi: Any, lib: Any) -> str:
    """The text of orderly/_tables.py for this library."""
    lines = ['"""Generated from liborderly %s by orderly/_gen.py at build time; do not edit."""'
             % ffi.string(lib.orderly_version_string()).decode(),
             "import enum",
             "",
             "BUILT_FOR = %d" % lib.ORDERLY_VERSION_NUMBER]
    by_machine = []
    for machine, cls, doc, members in tables(ffi, lib):
        _enum(lines, cls, doc, members)
        if machine and cls.endswith("State"):
            by_machine.append((machine, cls, cls[:-5] + "Event"))
    lines.append("")
    lines.append("# machine name -> (state enum, event enum)")
    lines.append("BY_MACHINE = {")
    for machine, states, events in by_machine:
        lines.append("    %r: (%s, %s)," % (machine, states, events))
    lines.append("}")
    return "\n".join(lines) + "\n"
