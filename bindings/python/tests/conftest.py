"""Shared fixtures: a fixed clock, engines on each kind of storage, and a
Python transport that records what it is given."""
import os
from typing import Dict, List, Tuple

import pytest

import orderly
from orderly.examples.dict_storage import DictStorage

T0 = 1_700_000_000_000
LINES = [orderly.Line(sku=101, warehouse=1, quantity=2, unit_price=500),
         orderly.Line(sku=202, warehouse=2, quantity=1, unit_price=1000)]
TOTAL = 2000


def repo_root() -> str:
    return os.environ.get("ORDERLY_REPO") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", ".."))


class ListTransport:
    """An orderly.Transport written in Python: keeps every publish."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str, bytes, Dict[str, str]]] = []

    def publish(self, topic: str, key: str, data: bytes, headers: Dict[str, str]) -> None:
        self.sent.append((topic, key, data, headers))


@pytest.fixture
def engine():
    with orderly.Engine(orderly.MemoryStorage(), orderly.MemoryTransport()) as e:
        yield e


@pytest.fixture(params=["memory", "sqlite", "python"])
def any_engine(request, tmp_path):
    """The same engine contract on the three kinds of storage."""
    if request.param == "memory":
        storage = orderly.MemoryStorage()
    elif request.param == "sqlite":
        storage = orderly.SQLiteStorage(str(tmp_path / "o.db"), durability="normal")
    else:
        storage = DictStorage()
    with orderly.Engine(storage, ListTransport()) as e:
        yield e


def create(e: orderly.Engine, order_id: str = "o-1", payment: str = "card",
           now: int = T0) -> orderly.Result:
    return e.create_order(order_id, LINES, currency="EUR", payment=payment, now=now)


def ship_all(e: orderly.Engine, order_id: str = "o-1", now: int = T0) -> None:
    """Authorizes, captures and delivers a card order made by create()."""
    e.apply(order_id, "payment", "authorize", amount=TOTAL, now=now + 1)
    e.apply(order_id, "payment", "request_capture", now=now + 2)
    e.apply(order_id, "payment", "capture_succeeded", now=now + 3)
    for i in range(2):
        for ev in ("start_picking", "picked", "start_packing", "packed", "ship"):
            e.apply(order_id, "fulfillment", ev, index=i, now=now + 4)
        e.apply(order_id, "shipment", "pick_up", index=i, now=now + 5)
        e.apply(order_id, "shipment", "deliver", index=i, now=now + 6)
