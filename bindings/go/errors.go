//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Code is one of orderly's result codes (negative; 0 is success). Values are
// those of orderly/errors.h, pinned forever.
type Code int

// The result codes of orderly/errors.h.
const (
	CodeError        Code = C.ORDERLY_ERROR         // unclassified failure
	CodeNoMem        Code = C.ORDERLY_ENOMEM        // allocation failed
	CodeInvalid      Code = C.ORDERLY_EINVAL        // bad argument
	CodeMisuse       Code = C.ORDERLY_EMISUSE       // wrong handle state or call order
	CodeNotFound     Code = C.ORDERLY_ENOTFOUND     // no such machine, state, event, record
	CodeExists       Code = C.ORDERLY_EEXISTS       // the record or key already exists
	CodeConflict     Code = C.ORDERLY_ECONFLICT     // version conflict
	CodeTransition   Code = C.ORDERLY_ETRANSITION   // no transition for this event here
	CodeGuard        Code = C.ORDERLY_EGUARD        // a guard rejected the input
	CodeIdemMismatch Code = C.ORDERLY_EIDEMMISMATCH // key reused for a different request
	CodeInFlight     Code = C.ORDERLY_EINFLIGHT     // key held by a request still running
	CodeStorage      Code = C.ORDERLY_ESTORAGE      // the storage adapter failed
	CodeTransport    Code = C.ORDERLY_ETRANSPORT    // the transport adapter failed
	CodeTimeout      Code = C.ORDERLY_ETIMEOUT      // an adapter timed out
	CodeVersion      Code = C.ORDERLY_EVERSION      // unsupported version
	CodeNotSupported Code = C.ORDERLY_ENOTSUPPORTED // not available here
	CodeConfig       Code = C.ORDERLY_ECONFIG       // configuration rejected at setup
	CodeInvariant    Code = C.ORDERLY_EINVARIANT    // a money or stock invariant would break
	CodeBufSize      Code = C.ORDERLY_EBUFSIZE      // a buffer is too small
	CodeEnvelope     Code = C.ORDERLY_EENVELOPE     // malformed event envelope
	CodeSignature    Code = C.ORDERLY_ESIGNATURE    // webhook signature does not match
	CodeSigHeader    Code = C.ORDERLY_ESIGHEADER    // webhook signature header malformed
	CodeStale        Code = C.ORDERLY_ESTALE        // webhook timestamp outside the tolerance
	CodeUser         Code = C.ORDERLY_EUSER         // the host's own failure
)

// Name is the code's symbolic name ("ORDERLY_EGUARD").
func (c Code) Name() string { return C.GoString(C.orderly_error_name(C.int(c))) }

// String is the code's English description.
func (c Code) String() string { return C.GoString(C.orderly_strerror(C.int(c))) }

// Transient reports whether retrying the same call later may succeed.
func (c Code) Transient() bool { return C.orderly_error_is_transient(C.int(c)) != 0 }

// Error is every failure orderly reports: the code, its name, the
// engine's one-line message, and whether a retry may succeed. Err is the
// error a Go Storage, Transport or executor returned when that is what
// failed, kept as is (Unwrap returns it). Native is the adapter's own code
// behind an engine call's failure (SQLite's extended result code, say;
// orderly_ctx_native), 0 when it gave none; a Go adapter sets it by
// returning an *Error with Native set.
type Error struct {
	Code      Code
	Name      string
	Message   string
	Transient bool
	Err       error
	Native    int64
}

// Error formats the error as "orderly: NAME: message".
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.String()
	}
	return fmt.Sprintf("orderly: %s: %s", e.Name, msg)
}

// Is makes errors.Is(err, ErrTransition) true for every error of that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the Go adapter's own error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying the same call later may succeed
// (conflict, in flight, storage, transport, timeout, out of memory).
func (e *Error) Temporary() bool { return e.Transient }

// NewError builds an *Error for code; a Go Storage or Transport returns
// one to give the core a specific code (NotFound, Conflict, ...).
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Name: code.Name(), Message: message, Transient: code.Transient()}
}

func sentinel(c Code) *Error { return &Error{Code: c, Name: c.Name(), Transient: c.Transient()} }

// Sentinels for errors.Is, one per code.
var (
	ErrUnclassified = sentinel(CodeError)
	ErrNoMem        = sentinel(CodeNoMem)
	ErrInvalid      = sentinel(CodeInvalid)
	ErrMisuse       = sentinel(CodeMisuse)
	ErrNotFound     = sentinel(CodeNotFound)
	ErrExists       = sentinel(CodeExists)
	ErrConflict     = sentinel(CodeConflict)
	ErrTransition   = sentinel(CodeTransition)
	ErrGuard        = sentinel(CodeGuard)
	ErrIdemMismatch = sentinel(CodeIdemMismatch)
	ErrInFlight     = sentinel(CodeInFlight)
	ErrStorage      = sentinel(CodeStorage)
	ErrTransport    = sentinel(CodeTransport)
	ErrTimeout      = sentinel(CodeTimeout)
	ErrVersion      = sentinel(CodeVersion)
	ErrNotSupported = sentinel(CodeNotSupported)
	ErrConfig       = sentinel(CodeConfig)
	ErrInvariant    = sentinel(CodeInvariant)
	ErrBufSize      = sentinel(CodeBufSize)
	ErrEnvelope     = sentinel(CodeEnvelope)
	ErrSignature    = sentinel(CodeSignature)
	ErrSigHeader    = sentinel(CodeSigHeader)
	ErrStale        = sentinel(CodeStale)
	ErrUser         = sentinel(CodeUser)
)

// ErrClosed is returned by every call on a closed Engine; it is a misuse.
var ErrClosed = NewError(CodeMisuse, "the engine is closed")

// codeOf is the code a Go adapter's error stands for: the code of an
// *Error in its chain, else CodeUser (never guessed from other types).
func codeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) && e.Code < 0 {
		return e.Code
	}
	return CodeUser
}

func invalid(format string, args ...interface{}) error {
	return NewError(CodeInvalid, fmt.Sprintf(format, args...))
}
