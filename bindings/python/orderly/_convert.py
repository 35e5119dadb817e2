"""Argument checks and conversions done in Python, before anything reaches C.

A wrong type raises TypeError and a wrong value ValueError, each naming the
field, so a mistake is reported at the call instead of as an engine code.
"""
import datetime
import time
from typing import Dict, Optional, Union

from ._native import lib

TimeLike = Union[int, datetime.datetime, None]
DurationLike = Union[int, datetime.timedelta]

ID_MAX = lib.ORDERLY_ID_MAX
TIME_MAX = lib.ORDERLY_TIME_MAX
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def now_ms() -> int:
    """The wall clock in epoch milliseconds (the binding's default now)."""
    return time.time_ns() // 1_000_000


def to_ms(value: TimeLike, field: str = "now") -> int:
    """An instant as epoch milliseconds: an aware datetime, an int, or None
    for the wall clock."""
    if value is None:
        return now_ms()
    if type(value) is int:
        ms = value
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("%s: a naive datetime has no instant; give an aware datetime "
                             "or epoch milliseconds" % field)
        delta = value - _EPOCH
        ms = (delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = int(value)
    else:
        raise TypeError("%s: expected an aware datetime or epoch milliseconds (int), got %s"
                        % (field, type(value).__name__))
    if ms < 0 or ms > TIME_MAX:
        raise ValueError("%s: %d ms is outside 0..%d" % (field, ms, TIME_MAX))
    return ms


def from_ms(ms: int) -> datetime.datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return _EPOCH + datetime.timedelta(milliseconds=ms)


def duration_ms(value: DurationLike, field: str) -> int:
    """A duration as milliseconds: a timedelta or an int."""
    if isinstance(value, datetime.timedelta):
        ms = (value.days * 86_400_000 + value.seconds * 1000 + value.microseconds // 1000)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = int(value)
    else:
        raise TypeError("%s: expected a datetime.timedelta or milliseconds (int), got %s"
                        % (field, type(value).__name__))
    if ms <= 0:
        raise ValueError("%s: must be positive, got %d ms" % (field, ms))
    return ms


# ids already checked, to their bytes: an order's id comes back with each of
# its commands. Bounded: emptied when full.
_IDS: Dict[str, bytes] = {}
_IDS_MAX = 4096


def ident(value: object, field: str, optional: bool = False) -> Optional[bytes]:
    """An order id or idempotency key: str of 1..ID_MAX printable ASCII bytes."""
    if type(value) is str:
        raw = _IDS.get(value)  # type: ignore[arg-type]
        if raw is not None:
            return raw
    if value is None and optional:
        return None
    if type(value) is not str:
        raise TypeError("%s: expected str, got %s" % (field, type(value).__name__))
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("%s: must be printable ASCII" % field) from None
    if not 0 < len(raw) <= ID_MAX:
        raise ValueError("%s: must be 1..%d bytes, got %d" % (field, ID_MAX, len(raw)))
    if not raw.isascii() or not value.isprintable():
        raise ValueError("%s: must be printable ASCII" % field)
    if len(_IDS) >= _IDS_MAX:
        _IDS.clear()
    _IDS[value] = raw
    return raw


def text(value: object, field: str) -> bytes:
    """A str argument as UTF-8 without NUL bytes."""
    if type(value) is not str:
        raise TypeError("%s: expected str, got %s" % (field, type(value).__name__))
    if "\0" in value:
        raise ValueError("%s: must not contain NUL" % field)
    return value.encode("utf-8")


def data(value: object, field: str) -> bytes:
    """A bytes-like argument (never a str: encode it yourself)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s: expected bytes, got %s" % (field, type(value).__name__))


def integer(value: object, field: str, lo: int, hi: int) -> int:
    """An int within lo..hi (bool refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s: expected int, got %s" % (field, type(value).__name__))
    if value < lo or value > hi:
        raise ValueError("%s: %d is outside %d..%d" % (field, value, lo, hi))
    return int(value)
