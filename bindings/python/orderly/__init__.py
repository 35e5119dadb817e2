"""orderly: the e-commerce order lifecycle engine, from Python.

    import orderly
    order = orderly.machine("order")
    order.next("pending", "payment_confirmed")   # OrderState.CONFIRMED

See doc/bindings.md for the engine, adapters written in Python, errors and
threading.
"""
from typing import Tuple


def _check_version(runtime: int, built: int, runtime_text: str = "") -> None:
    """ImportError when the C library is older than the one the binding was built for."""
    if runtime < built:
        def show(n: int) -> str:
            return "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100)
        raise ImportError("orderly: the binding was built for liborderly %s but the library "
                          "loaded at run time is %s; install liborderly %s or newer, or "
                          "rebuild the binding" % (show(built), runtime_text or show(runtime),
                                                   show(built)))


from ._native import ffi as _ffi, lib as _lib  # noqa: E402

_check_version(_lib.orderly_version_number(), _lib.ORDERLY_VERSION_NUMBER,
               _ffi.string(_lib.orderly_version_string()).decode())

from . import conformance  # noqa: E402
from ._adapters import (HistoryItem, IdemRecord, MemoryStorage,  # noqa: E402
                        MemoryTransport, QueueItem, QueueStats, SQLiteStorage, Storage, Transport, schema_version)
from ._engine import (Engine, id_max, lines_max, op_machine, parts_max,  # noqa: E402
                      policy_defaults, replacement_id, webhook_signature)
from ._errors import (BufferTooSmall, ConfigError, Conflict, EnvelopeError, Error,  # noqa: E402
                      ERROR_CLASSES, Exists, GuardError, IdempotencyMismatch, InFlight,
                      InvalidArgument, InvariantError, IterationOver, MisuseError, NoMemory,
                      NotFound, NotSupported, SignatureError, SignatureHeaderError, StaleError,
                      StorageError, Timeout, Transient, TransitionError, TransportError,
                      UserError, VersionError, error_class)
from ._machine import Machine, Transition, choreography, machine, machines  # noqa: E402
from ._tables import (Effect, FulfillmentEvent, FulfillmentState, Guard, MachineId,  # noqa: E402
                      Op, OrderEvent, OrderState, PaymentEvent, PaymentState,
                      ReservationEvent, ReservationState, ReturnEvent, ReturnState,
                      ShipmentEvent, ShipmentState, Timer, Topic)
from ._types import (Alert, AlertKind, Health, HistoryEntry, ItemState, Line,  # noqa: E402
                     Message, Operation, OrderView, OutboxRow, PartView, Queue, Result,
                     ReturnLine, Stats)


def version() -> str:
    """The version of the C library loaded at run time ("0.1.0")."""
    return _ffi.string(_lib.orderly_version_string()).decode()


def version_info() -> Tuple[int, int, int]:
    """The run-time C library version as (major, minor, patch)."""
    n = _lib.orderly_version_number()
    return (n // 10000, n // 100 % 100, n % 100)


__version__ = "0.1.0"
Duplicate = Exists
HISTORY_MAX: int = _lib.ORDERLY_HISTORY_MAX

__all__ = [
    "Alert", "AlertKind", "BufferTooSmall", "ConfigError", "Conflict", "Duplicate", "Effect",
    "Engine", "EnvelopeError", "Error", "ERROR_CLASSES", "Exists", "FulfillmentEvent",
    "FulfillmentState", "Guard", "GuardError", "HISTORY_MAX", "Health", "HistoryEntry",
    "HistoryItem", "IdemRecord", "IdempotencyMismatch",
    "InFlight", "InvalidArgument", "InvariantError", "ItemState", "IterationOver", "Line",
    "Machine", "MachineId", "MemoryStorage", "MemoryTransport", "Message", "MisuseError",
    "NoMemory", "NotFound", "NotSupported", "Op", "Operation", "OrderEvent", "OrderState",
    "OrderView", "OutboxRow", "PartView", "PaymentEvent", "PaymentState", "Queue", "QueueItem",
    "QueueStats", "ReservationEvent", "ReservationState", "Result", "ReturnEvent", "ReturnLine",
    "ReturnState", "SQLiteStorage", "ShipmentEvent", "ShipmentState", "SignatureError",
    "SignatureHeaderError", "StaleError", "Stats", "Storage", "StorageError", "Timeout",
    "Timer", "Topic", "Transient", "Transition", "TransitionError", "Transport",
    "TransportError", "UserError", "VersionError", "choreography", "conformance",
    "error_class", "id_max", "lines_max", "machine", "machines", "op_machine", "parts_max",
    "policy_defaults", "replacement_id", "schema_version", "version", "version_info",
    "webhook_signature",
]
