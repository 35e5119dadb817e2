"""The exception hierarchy: one class per orderly error code under Error."""
from typing import Dict, Optional, Type

from ._native import ffi, lib


class Error(Exception):
    """Base of every orderly error.

    Attributes: ``code`` (the negative C code), ``name`` ("ORDERLY_EGUARD"),
    ``transient`` (True when retrying the same call later may succeed),
    ``message`` (the engine's or adapter's one-line reason) and ``native``
    (an adapter's own code, such as an SQLite result code, or 0).

    Adapters written in Python raise these too: the trampoline returns the
    exception's code to the engine, so raising ``NotFound`` from
    ``Storage.load`` is how a missing record is reported.
    """

    code = -1

    def __init__(self, message: str = "", *, native: int = 0) -> None:
        self.message = message or _strerror(self.code)
        self.native = native
        super().__init__(self.message)

    @property
    def name(self) -> str:
        """The code's symbolic name, such as "ORDERLY_ENOTFOUND"."""
        return ffi.string(lib.orderly_error_name(self.code)).decode()

    @property
    def transient(self) -> bool:
        """True when retrying the same call later may succeed."""
        return bool(lib.orderly_error_is_transient(self.code))

    def __repr__(self) -> str:
        return "%s(%r)" % (type(self).__name__, self.message)


class Transient(Error):
    """Base of the codes a retry may cure (conflict, in flight, storage,
    transport, timeout, out of memory). Raised as is from an adapter it
    means ESTORAGE in a storage and ETRANSPORT in a transport."""


def _strerror(code: int) -> str:
    return ffi.string(lib.orderly_strerror(code)).decode()


class NoMemory(Transient):
    """ORDERLY_ENOMEM: an allocation failed."""
    code = -2


class InvalidArgument(Error, ValueError):
    """ORDERLY_EINVAL: a bad argument (also a ValueError)."""
    code = -3


class MisuseError(Error):
    """ORDERLY_EMISUSE: wrong handle state or call order (a closed engine,
    an open batch, an engine used from two threads at once)."""
    code = -4


class NotFound(Error, LookupError):
    """ORDERLY_ENOTFOUND: no such machine, state, event, order or record."""
    code = -5


class Exists(Error):
    """ORDERLY_EEXISTS: the record or key already exists."""
    code = -6


class Conflict(Transient):
    """ORDERLY_ECONFLICT: a version conflict (optimistic concurrency)."""
    code = -7


class TransitionError(Error):
    """ORDERLY_ETRANSITION: the machine has no transition for this event here."""
    code = -8


class GuardError(Error):
    """ORDERLY_EGUARD: a transition exists but its guard rejected the input."""
    code = -9


class IdempotencyMismatch(Error):
    """ORDERLY_EIDEMMISMATCH: an idempotency key reused for another request."""
    code = -10


class InFlight(Transient):
    """ORDERLY_EINFLIGHT: the same key is being processed right now."""
    code = -11


class StorageError(Transient):
    """ORDERLY_ESTORAGE: the storage adapter failed."""
    code = -12


class TransportError(Transient):
    """ORDERLY_ETRANSPORT: the transport adapter failed."""
    code = -13


class Timeout(Transient):
    """ORDERLY_ETIMEOUT: an adapter timed out."""
    code = -14


class VersionError(Error):
    """ORDERLY_EVERSION: an unsupported vtable, options or schema version."""
    code = -15


class NotSupported(Error):
    """ORDERLY_ENOTSUPPORTED: the operation is not available here."""
    code = -16


class ConfigError(Error):
    """ORDERLY_ECONFIG: configuration rejected at setup."""
    code = -17


class InvariantError(Error):
    """ORDERLY_EINVARIANT: a money or stock invariant would be violated."""
    code = -18


class BufferTooSmall(Error):
    """ORDERLY_EBUFSIZE: a buffer was too small."""
    code = -19


class EnvelopeError(Error):
    """ORDERLY_EENVELOPE: a malformed or incomplete event envelope."""
    code = -20


class SignatureError(Error):
    """ORDERLY_ESIGNATURE: a webhook signature does not match."""
    code = -21


class SignatureHeaderError(Error):
    """ORDERLY_ESIGHEADER: a webhook signature header is malformed."""
    code = -22


class StaleError(Error):
    """ORDERLY_ESTALE: a webhook timestamp outside the tolerance."""
    code = -23


class UserError(Error):
    """ORDERLY_EUSER: the host's own failure, such as an exception raised
    inside a Python adapter (that exception is re-raised instead)."""
    code = -30


class IterationOver(Error):
    """ORDERLY_ITEROVER: an iteration has no more items."""
    code = -31


_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls for cls in (
        NoMemory, InvalidArgument, MisuseError, NotFound, Exists, Conflict, TransitionError,
        GuardError, IdempotencyMismatch, InFlight, StorageError, TransportError, Timeout,
        VersionError, NotSupported, ConfigError, InvariantError, BufferTooSmall, EnvelopeError,
        SignatureError, SignatureHeaderError, StaleError, UserError, IterationOver)
}
_BY_CODE[-1] = Error
ERROR_CLASSES = dict(_BY_CODE)


def error_class(code: int) -> Type[Error]:
    """The exception class for a code (Error for an unknown one)."""
    return _BY_CODE.get(code, Error)


def make_error(code: int, message: str = "", native: int = 0) -> Error:
    """The exception for a code with its message."""
    cls = _BY_CODE.get(code)
    if cls is None:
        exc = Error(message or _strerror(code), native=native)
        exc.code = code
        return exc
    return cls(message, native=native)


def ctx_error(code: int, ctx: Optional[object]) -> Error:
    """The exception for code with the message an orderly_ctx holds."""
    if ctx is None or ctx == ffi.NULL:
        return make_error(code)
    msg = ffi.string(lib.orderly_ctx_errmsg(ctx)).decode("utf-8", "replace")
    return make_error(code, msg, int(lib.orderly_ctx_native(ctx)))
