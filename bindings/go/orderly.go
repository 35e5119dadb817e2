//go:build cgo

// Package orderly is the Go binding of orderly, the embeddable C library
// that decides the e-commerce order lifecycle (order, payment, stock
// reservation, fulfillment, shipment, return) with a transactional outbox,
// consumer idempotency, compensation and timers.
//
// The package links the installed C library through pkg-config (orderly
// and orderly-sqlite) and needs cgo: without it the package does not
// build. Machines are typed: each machine has its own State and Event
// types generated from the C tables (OrderState, PaymentEvent, ...), and
// Machine values (Order, Payment, ...) answer "what next?" questions.
// An Engine (Open) runs commands and events through the idempotent,
// transactional path, on the shipped in-memory or SQLite storage or on a
// Storage and Transport written in Go.
//
// Errors are *Error values; compare them with errors.Is against the
// sentinels (ErrTransition, ErrNotFound, ...). Times are time.Time and
// durations time.Duration, at millisecond precision.
package orderly

/*
#cgo pkg-config: orderly orderly-sqlite
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"time"
)

//go:generate go run ./internal/gen -o machines_gen.go

// BuiltFor is the C library version this binding was compiled against.
const BuiltFor = C.ORDERLY_VERSION_STRING

// Version is the run-time version of the C library ("0.1.0").
func Version() string { return C.GoString(C.orderly_version_string()) }

// IDMax is the longest order id or idempotency key, in bytes.
const IDMax = C.ORDERLY_ID_MAX

// The hard maxima of the C library loaded at run time, which may allow
// more than the headers this binding was compiled against.
var (
	linesMax = int(C.orderly_lines_max())
	partsMax = int(C.orderly_parts_max())
)

// LinesMax is the most lines an order may have in the C library loaded at
// run time (orderly_lines_max, its hard maximum: Options.MaxLines
// configures an engine at or below it).
func LinesMax() int { return linesMax }

// PartsMax is the most fulfillments (warehouses), shipments and returns an
// order may have, each counted on its own, in the C library loaded at run
// time (orderly_parts_max: Options.MaxParts configures an engine at or
// below it).
func PartsMax() int { return partsMax }

func init() {
	if C.orderly_version_number() < C.ORDERLY_VERSION_NUMBER {
		panic(fmt.Sprintf("orderly: the C library is %s, older than %s this binding was built for",
			Version(), BuiltFor))
	}
}

// ms converts an instant to the C timebase; the zero Time means now.
func ms(t time.Time) C.orderly_time_ms {
	if t.IsZero() {
		t = time.Now()
	}
	return C.orderly_time_ms(t.UnixMilli())
}

// fromMS converts a C instant to a time.Time; 0 stays the zero Time.
func fromMS(v C.orderly_time_ms) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(v))
}

func durMS(d time.Duration) C.int64_t { return C.int64_t(d / time.Millisecond) }
