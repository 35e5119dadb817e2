"""Results and views: frozen dataclasses with enum fields, never raw cdata."""
import dataclasses
import datetime
import enum
from typing import Optional, Tuple

from . import _tables


@dataclasses.dataclass(frozen=True)
class Line:
    """One order line, reserved in one warehouse (prices in minor units)."""

    sku: int
    warehouse: int
    quantity: int
    unit_price: int


@dataclasses.dataclass(frozen=True)
class ReturnLine:
    """Units of one order line a return takes back: ``line`` is the line's
    0-based position in create_order's list."""

    line: int
    quantity: int


@dataclasses.dataclass(frozen=True)
class Result:
    """What one engine command did.

    ``from_state``/``to_state`` are states of ``machine`` (equal when the
    event was late; ``from_state`` is None for a part the command created,
    and ``event`` None for a create); ``duplicate`` is set when this is the
    stored first result of a redelivery.
    """

    machine: "_tables.MachineId"
    event: Optional[enum.IntEnum]
    from_state: Optional[enum.IntEnum]
    to_state: enum.IntEnum
    order_state: "_tables.OrderState"
    late: bool
    duplicate: bool
    outbox_rows: int
    operations: int
    version: int
    index: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class OrderView:
    """An order's current state (amounts in minor units)."""

    order_id: str
    order_state: "_tables.OrderState"
    payment_state: "_tables.PaymentState"
    payment_method: str
    currency: str
    total: int
    authorized: int
    captured: int
    refunded: int
    n_lines: int
    n_fulfillments: int
    n_shipments: int
    n_returns: int
    created: datetime.datetime
    version: int
    replacement_of: str = ""


@dataclasses.dataclass(frozen=True)
class PartView:
    """One reservation, fulfillment, shipment or return of an order.

    A reservation is one order line: the unit counts say where its units
    are (``shipped`` <= ``quantity``; ``delivered + lost + back_at_origin``
    <= ``shipped``; ``returned`` <= ``delivered``; ``restocked`` <=
    ``returned + back_at_origin``), ``shipment`` carries it once shipped and
    ``refunded`` is its share of the order's refunds. A return's
    ``quantity`` is its units over the order lines in ``lines``.
    """

    machine: "_tables.MachineId"
    index: int
    state: enum.IntEnum
    sku: int
    warehouse: int
    quantity: int
    amount: int
    since: datetime.datetime
    reserved: int = 0
    shipped: int = 0
    delivered: int = 0
    lost: int = 0
    back_at_origin: int = 0
    returned: int = 0
    restocked: int = 0
    shipment: int = 0
    refunded: int = 0
    lines: Tuple[int, ...] = ()
    replacement: str = ""


@dataclasses.dataclass(frozen=True)
class Stats:
    """Engine counters since open (not persisted)."""

    applied: int
    rejected: int
    duplicates: int
    late_ignored: int
    idem_busy: int
    idem_mismatch: int
    conflicts_retried: int
    outbox_appended: int
    operations_recorded: int
    txn_begins: int = 0
    txn_commits: int = 0
    txn_rollbacks: int = 0
    txn_read_begins: int = 0
    txn_ack_writes: int = 0
    deadlines_cancelled: int = 0


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One event of an order's history, as it was published.

    ``seq`` numbers the order's events from 0 without gaps; ``machine`` is
    the machine whose part moved (None for an event of no machine), and
    ``from_state``/``to_state``/``event`` are members of its enums (None
    when the event was not a transition); ``currency`` is "" for an event
    that carries no money; ``json`` is the CloudEvents envelope as
    published.
    """

    seq: int
    order_id: str
    type: str
    event_id: str
    time: datetime.datetime
    machine: Optional["_tables.MachineId"]
    index: int
    from_state: Optional[enum.IntEnum]
    to_state: Optional[enum.IntEnum]
    event: Optional[enum.IntEnum]
    amount: int
    currency: str
    n_lines: int
    json: str


@dataclasses.dataclass(frozen=True)
class Health:
    """The outbox, timers and operations as of one instant."""

    outbox_pending: int
    outbox_oldest_age_ms: int
    outbox_leased: int
    outbox_lease_expired: int
    outbox_dead: int
    operations_pending: int
    operations_exhausted: int
    timers_due: int
    late_ignored: int
    duplicates_suppressed: int
    idem_busy: int
    idem_mismatch: int
    stale_completions: int
    leases_expired_total: int
    published_total: int
    redelivered_total: int
    ready: bool
    rows_parked_total: int
    transport_outage_ms: int


class ItemState(enum.IntEnum):
    """State of a queue row (outbox event, timer, operation)."""

    READY = 0
    LEASED = 1
    DONE = 2
    DEAD = 3


class Queue(enum.IntEnum):
    """The three queues a storage keeps."""

    OUTBOX = 1
    TIMERS = 2
    OPERATIONS = 3


class AlertKind(enum.IntEnum):
    """Why the engine raised an alert."""

    DEAD_LETTER = 1
    OPERATION_EXHAUSTED = 2
    STALE_COMPLETION = 3
    ROW_PARKED = 4


@dataclasses.dataclass(frozen=True)
class OutboxRow:
    """One outbox event as an operator sees it."""

    id: int
    order_id: str
    type: str
    topic: str
    event_id: str
    state: ItemState
    attempts: int
    created: datetime.datetime
    due: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Operation:
    """One recorded operation (capture, refund, restock, ...)."""

    id: int
    op: int
    order_id: str
    key: str
    index: int
    amount: int
    lines: Tuple[Tuple[int, int, int], ...]   # (sku, warehouse, quantity)
    attempts: int
    state: ItemState
    max_attempts: int

    @property
    def name(self) -> str:
        """The op's name ("refund", ...; "host" for host ops)."""
        try:
            return _tables.Op(self.op).name.lower()
        except ValueError:
            return "host"


@dataclasses.dataclass(frozen=True)
class Alert:
    """A dead letter, an exhausted operation, a stale completion or a parked row."""

    kind: AlertKind
    queue: Queue
    item_id: int
    group: str
    message: str


@dataclasses.dataclass(frozen=True)
class Message:
    """A message the in-memory transport accepted."""

    topic: str
    key: str
    data: bytes
    seq: int

