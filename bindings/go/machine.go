//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strings"
	"time"
	"unsafe"
)

// MachineID names one of the six machines (MachineOrder, ...).
type MachineID int

// String is the machine's name ("order").
func (m MachineID) String() string {
	if m > 0 && int(m) < len(machineNames) {
		return machineNames[m]
	}
	return fmt.Sprintf("MachineID(%d)", int(m))
}

// State is what every generated state type (OrderState, ...) is.
type State interface {
	fmt.Stringer
	Machine() MachineID
	ID() int
}

// Event is what every generated event type (OrderEvent, ...) is.
type Event interface {
	fmt.Stringer
	Machine() MachineID
	ID() int
}

// The C handles of the machines, looked up once: they point at static data.
var machinePtrs [C.ORDERLY_MACHINE_COUNT + 1]*C.orderly_machine

func init() {
	for id := 1; id <= C.ORDERLY_MACHINE_COUNT; id++ {
		if C.orderly_machine_by_id(&machinePtrs[id], C.int(id)) < 0 {
			panic(fmt.Sprintf("orderly: machine %d missing from the C library", id))
		}
	}
}

// Machine is one declared state machine with its own state type S and
// event type E. The values Order, Payment, Reservation, Fulfillment,
// Shipment and Return are the six; a Machine is safe for concurrent use.
type Machine[S ~int, E ~int] struct {
	id MachineID
}

func (m Machine[S, E]) ptr() *C.orderly_machine { return machinePtrs[m.id] }

// ID is the machine's pinned id.
func (m Machine[S, E]) ID() MachineID { return m.id }

// Name is the machine's name ("order").
func (m Machine[S, E]) Name() string { return m.id.String() }

// Initial is the state a new instance starts in.
func (m Machine[S, E]) Initial() S { return S(C.orderly_machine_initial(m.ptr())) }

// GuardInput is what a guard looks at when asking a machine directly; a
// zero GuardInput is what Next uses.
type GuardInput struct {
	Now        time.Time
	Deadline   time.Time
	Amount     int64
	Authorized int64
	Captured   int64
	Refunded   int64
	PartsTotal uint32
	PartsDone  uint32
}

// Next is the state event e leads to from state s, the hot path: one
// crossing into C, nothing allocated on success. The error is ErrInvalid
// for an id that is not this machine's, ErrTransition when no row exists
// and ErrGuard when a guard refused, with the reason in its message.
func (m Machine[S, E]) Next(s S, e E) (S, error) {
	r := C.orderly_go_next(m.ptr(), C.int(s), C.int(e))
	if r < 0 {
		return s, m.why(s, e, nil)
	}
	return S(r), nil
}

// NextGuarded is Next with the guard input given.
func (m Machine[S, E]) NextGuarded(s S, e E, in GuardInput) (S, error) {
	var next C.int
	g := in.c()
	if C.orderly_machine_next(&next, m.ptr(), C.int(s), C.int(e), &g, nil) < 0 {
		return s, m.why(s, e, &g)
	}
	return S(next), nil
}

// why reruns a refused step with a context to read the reason.
func (m Machine[S, E]) why(s S, e E, g *C.orderly_guard_input) error {
	var ctx *C.orderly_ctx
	if C.orderly_ctx_new(&ctx, nil) < 0 {
		return sentinel(CodeNoMem)
	}
	defer C.orderly_ctx_free(ctx)
	var next C.int
	rc := C.orderly_machine_next(&next, m.ptr(), C.int(s), C.int(e), g, ctx)
	return ctxError(Code(rc), ctx)
}

func ctxError(code Code, ctx *C.orderly_ctx) *Error {
	err := NewError(code, C.GoString(C.orderly_ctx_errmsg(ctx)))
	return err
}

func (in GuardInput) c() C.orderly_guard_input {
	var g C.orderly_guard_input
	if !in.Now.IsZero() {
		g.now = C.orderly_time_ms(in.Now.UnixMilli())
	}
	if !in.Deadline.IsZero() {
		g.deadline = C.orderly_time_ms(in.Deadline.UnixMilli())
	}
	g.amount = C.int64_t(in.Amount)
	g.authorized = C.int64_t(in.Authorized)
	g.captured = C.int64_t(in.Captured)
	g.refunded = C.int64_t(in.Refunded)
	g.parts_total = C.uint32_t(in.PartsTotal)
	g.parts_done = C.uint32_t(in.PartsDone)
	return g
}

// Can reports whether event e is allowed from state s (guards seeing zeroes).
func (m Machine[S, E]) Can(s S, e E) bool {
	return C.orderly_machine_can(m.ptr(), C.int(s), C.int(e), nil, nil) == 0
}

// Allowed lists the events with at least one row from s (guards not
// evaluated), in id order; nil for a state that is not this machine's.
func (m Machine[S, E]) Allowed(s S) []E {
	var n C.size_t
	if C.orderly_machine_allowed(nil, 0, &n, m.ptr(), C.int(s)) < 0 {
		return nil
	}
	out := make([]E, 0, int(n))
	if n == 0 {
		return out
	}
	ids := make([]C.int, int(n))
	if C.orderly_machine_allowed(&ids[0], n, &n, m.ptr(), C.int(s)) < 0 {
		return nil
	}
	for _, id := range ids {
		out = append(out, E(id))
	}
	return out
}

// IsTerminal reports whether s has no exits.
func (m Machine[S, E]) IsTerminal(s S) bool {
	return C.orderly_machine_is_terminal(m.ptr(), C.int(s)) == 1
}

// IsLate reports whether e arriving in s is an out-of-order event the
// engine ignores (a picked after shipped).
func (m Machine[S, E]) IsLate(s S, e E) bool {
	return C.orderly_machine_is_late(m.ptr(), C.int(s), C.int(e)) == 1
}

// States lists every state in id order.
func (m Machine[S, E]) States() []S {
	var out []S
	for id := 1; id < int(C.orderly_machine_state_limit(m.ptr())); id++ {
		if C.orderly_machine_state_name(m.ptr(), C.int(id)) != nil {
			out = append(out, S(id))
		}
	}
	return out
}

// Events lists every user event (the reserved ones excluded) in id order.
func (m Machine[S, E]) Events() []E {
	var out []E
	for id := int(C.ORDERLY_EVENT_FIRST); id < int(C.orderly_machine_event_limit(m.ptr())); id++ {
		if C.orderly_machine_event_name(m.ptr(), C.int(id)) != nil {
			out = append(out, E(id))
		}
	}
	return out
}

// Transition is one row of a machine's table.
type Transition[S ~int, E ~int] struct {
	From    S
	Event   E
	To      S
	Guard   string   // "" when the row has none
	Effects []string // effect names, in the row's order
}

// Transitions lists the machine's rows in table order.
func (m Machine[S, E]) Transitions() []Transition[S, E] {
	n := int(C.orderly_machine_transition_count(m.ptr()))
	out := make([]Transition[S, E], 0, n)
	for i := 0; i < n; i++ {
		var t C.orderly_transition
		if C.orderly_machine_transition_at(&t, m.ptr(), C.int(i)) < 0 {
			break
		}
		row := Transition[S, E]{From: S(t.from), Event: E(t.event), To: S(t.to)}
		if t.guard != C.ORDERLY_GUARD_NONE {
			row.Guard = C.GoString(C.orderly_guard_name(C.int(t.guard)))
		}
		for _, eff := range unsafe.Slice(t.effects, int(t.n_effects)) {
			row.Effects = append(row.Effects, C.GoString(C.orderly_effect_name(C.int(eff))))
		}
		out = append(out, row)
	}
	return out
}

// Format is an export format for Export.
type Format int

// The export formats.
const (
	DOT     Format = C.ORDERLY_GRAPH_DOT     // Graphviz digraph
	Mermaid Format = C.ORDERLY_GRAPH_MERMAID // Mermaid stateDiagram-v2
	JSON    Format = C.ORDERLY_GRAPH_JSON    // states, events and rows
)

// Export renders the machine's table in format f.
func (m Machine[S, E]) Export(f Format) (string, error) {
	return export(func(h cgo.Handle) C.int {
		return C.orderly_go_export(m.ptr(), C.int(f), C.uintptr_t(h))
	})
}

// ExportChoreography renders the six machines and the reactions between
// them in format f.
func ExportChoreography(f Format) (string, error) {
	return export(func(h cgo.Handle) C.int {
		return C.orderly_go_export_choreography(C.int(f), C.uintptr_t(h))
	})
}

func export(call func(cgo.Handle) C.int) (string, error) {
	var b strings.Builder
	h := cgo.NewHandle(&b)
	defer h.Delete()
	if rc := call(h); rc < 0 {
		return "", NewError(Code(rc), "export failed")
	}
	return b.String(), nil
}

// cStateName and cEventName read the C tables directly (the drift test).
func cStateName(m MachineID, id int) string {
	p := C.orderly_machine_state_name(machinePtrs[m], C.int(id))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func cEventName(m MachineID, id int) string {
	p := C.orderly_machine_event_name(machinePtrs[m], C.int(id))
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func cLimits(m MachineID) (states, events int) {
	return int(C.orderly_machine_state_limit(machinePtrs[m])), int(C.orderly_machine_event_limit(machinePtrs[m]))
}
