//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"
)

func (e *Engine) step(fn func(*C.size_t) C.int) (int, error) {
	var n C.size_t
	err := e.simple(func() C.int { return fn(&n) })
	return int(n), err
}

// Pump publishes up to max outbox events (0 = the policy's batch) and
// returns how many were published (orderly_engine_pump).
func (e *Engine) Pump(now time.Time, max int) (int, error) {
	return e.step(func(n *C.size_t) C.int { return C.orderly_engine_pump(e.c, ms(now), C.size_t(max), n) })
}

// Purge deletes up to max published events past the retention (orderly_engine_purge).
func (e *Engine) Purge(now time.Time, max int) (int, error) {
	return e.step(func(n *C.size_t) C.int { return C.orderly_engine_purge(e.c, ms(now), C.size_t(max), n) })
}

// Tick fires up to max due timers and returns how many changed state
// (orderly_engine_tick).
func (e *Engine) Tick(now time.Time, max int) (int, error) {
	return e.step(func(n *C.size_t) C.int { return C.orderly_engine_tick(e.c, ms(now), C.size_t(max), n) })
}

// RunOperations runs up to max due operations through their executors
// (orderly_engine_run_operations).
func (e *Engine) RunOperations(now time.Time, max int) (int, error) {
	return e.step(func(n *C.size_t) C.int {
		return C.orderly_engine_run_operations(e.c, ms(now), C.size_t(max), n)
	})
}

// OutboxRow is one outbox row, as an operator sees it.
type OutboxRow struct {
	ID       uint64
	OrderID  string
	Type     string // CloudEvents type
	Topic    string
	EventID  string // what consumers dedupe by; "" for an undecodable row
	State    ItemState
	Attempts uint32
	Created  time.Time
	Due      time.Time
}

// ListOutbox lists up to max outbox rows in state (AnyState = all) with id
// above afterID (orderly_engine_list_outbox).
func (e *Engine) ListOutbox(state ItemState, afterID uint64, max int) ([]OutboxRow, error) {
	var rows []OutboxRow
	h := cgo.NewHandle(&rows)
	defer h.Delete()
	err := e.simple(func() C.int {
		return C.orderly_go_list_outbox(e.c, C.int(state), C.uint64_t(afterID), C.size_t(max), C.uintptr_t(h))
	})
	return rows, err
}

// Op is an operation type (compensation.h).
type Op int

// The operation types; hosts define their own from OpHost upwards.
const (
	OpReleaseReservations Op = C.ORDERLY_OP_RELEASE_RESERVATIONS
	OpVoidAuthorization   Op = C.ORDERLY_OP_VOID_AUTHORIZATION
	OpRefund              Op = C.ORDERLY_OP_REFUND
	OpCapture             Op = C.ORDERLY_OP_CAPTURE
	OpRestock             Op = C.ORDERLY_OP_RESTOCK
	OpRevertPromotion     Op = C.ORDERLY_OP_REVERT_PROMOTION
	OpRestoreLoyalty      Op = C.ORDERLY_OP_RESTORE_LOYALTY
	OpCancelShipment      Op = C.ORDERLY_OP_CANCEL_SHIPMENT
	OpCancelCODClaim      Op = C.ORDERLY_OP_CANCEL_COD_CLAIM
	OpReship              Op = C.ORDERLY_OP_RESHIP // send a lost parcel's lines again
	OpHost                Op = C.ORDERLY_OP_HOST
)

// String is the op's name ("refund").
func (o Op) String() string { return goString(C.orderly_op_name(C.int(o))) }

// Machine is the machine that owns the op (orderly_op_machine): the one
// service whose Replica engine records it. Host-defined ops belong to the
// order; an unknown op gives 0.
func (o Op) Machine() MachineID {
	m := C.orderly_op_machine(C.int(o))
	if m < 0 {
		return 0
	}
	return MachineID(m)
}

// OpLine is one reservation an operation touches.
type OpLine struct {
	SKU       uint64
	Warehouse uint32
	Quantity  uint32
}

// Operation is one recorded call to the outside world.
type Operation struct {
	ID          uint64
	Op          Op
	OrderID     string
	Key         string // the idempotency key to pass to the outside system
	Index       uint32
	Amount      int64
	Lines       []OpLine
	Attempts    uint32
	State       ItemState
	MaxAttempts uint32
}

func operationFromC(op *C.orderly_operation_view) Operation {
	o := Operation{ID: uint64(op.id), Op: Op(op.op), OrderID: goString(op.order_id), Key: goString(op.key),
		Index: uint32(op.index), Amount: int64(op.amount), Attempts: uint32(op.attempts),
		State: ItemState(op.state), MaxAttempts: uint32(op.max_attempts)}
	if n := int(op.n_lines); n > 0 {
		sku := unsafe.Slice(op.sku, n)
		wh := unsafe.Slice(op.warehouse, n)
		q := unsafe.Slice(op.quantity, n)
		for i := 0; i < n; i++ {
			o.Lines = append(o.Lines, OpLine{uint64(sku[i]), uint32(wh[i]), uint32(q[i])})
		}
	}
	return o
}

// SetExecutor registers fn to run operations of type op (nil removes it);
// fn returns nil when done, an error to retry later. Operations without
// an executor are published to the commands topic instead.
func (e *Engine) SetExecutor(op Op, fn func(Operation) error) error {
	return e.simple(func() C.int {
		on := C.int(0)
		if fn != nil {
			on = 1
		}
		rc := C.orderly_go_set_executor(e.c, C.int(op), C.uintptr_t(e.self), on)
		if rc == 0 {
			if fn != nil {
				e.cb.executors[int(op)] = fn
			} else {
				delete(e.cb.executors, int(op))
			}
		}
		return rc
	})
}

// SetOpAttempts sets the attempts after which op is parked (0 = declared).
func (e *Engine) SetOpAttempts(op Op, n uint32) error {
	return e.simple(func() C.int { return C.orderly_engine_set_op_attempts(e.c, C.int(op), C.uint32_t(n)) })
}

// ListOperations lists up to max operations in state (AnyState = all)
// with id above afterID.
func (e *Engine) ListOperations(state ItemState, afterID uint64, max int) ([]Operation, error) {
	var ops []Operation
	h := cgo.NewHandle(&ops)
	defer h.Delete()
	err := e.simple(func() C.int {
		return C.orderly_go_list_operations(e.c, C.int(state), C.uint64_t(afterID), C.size_t(max), C.uintptr_t(h))
	})
	return ops, err
}

// InspectOperation reads one operation; ErrNotFound when absent.
func (e *Engine) InspectOperation(id uint64) (Operation, error) {
	var ops []Operation
	h := cgo.NewHandle(&ops)
	defer h.Delete()
	err := e.simple(func() C.int { return C.orderly_go_inspect_operation(e.c, C.uint64_t(id), C.uintptr_t(h)) })
	if err != nil || len(ops) == 0 {
		return Operation{}, err
	}
	return ops[0], nil
}

// ReplayOperation puts a parked operation back to run at now with a
// fresh attempt budget.
func (e *Engine) ReplayOperation(id uint64, now time.Time) error {
	return e.simple(func() C.int { return C.orderly_engine_replay_operation(e.c, C.uint64_t(id), ms(now)) })
}

// Health is a snapshot of the background work.
type Health struct {
	OutboxPending, OutboxLeased, OutboxLeaseExpired, OutboxDead uint64
	OutboxOldestAge                                             time.Duration
	OperationsPending, OperationsExhausted, TimersDue           uint64
	LateIgnored, DuplicatesSuppressed, IdemBusy, IdemMismatch   uint64
	StaleCompletions, LeasesExpiredTotal                        uint64
	PublishedTotal, RedeliveredTotal, RowsParkedTotal           uint64
	Ready                                                       bool
	TransportOutage                                             time.Duration
}

// Health takes a snapshot as of now; maxBacklog and maxAge of 0 are the
// defaults (100 events, 5 minutes) that decide Ready.
func (e *Engine) Health(now time.Time, maxBacklog uint64, maxAge time.Duration) (Health, error) {
	var h Health
	err := e.simple(func() C.int {
		var c C.orderly_health
		c.size = C.sizeof_orderly_health
		rc := C.orderly_engine_health(e.c, ms(now), C.uint64_t(maxBacklog), durMS(maxAge), &c)
		h = Health{OutboxPending: uint64(c.outbox_pending), OutboxLeased: uint64(c.outbox_leased),
			OutboxLeaseExpired: uint64(c.outbox_lease_expired), OutboxDead: uint64(c.outbox_dead),
			OutboxOldestAge:   time.Duration(c.outbox_oldest_age_ms) * time.Millisecond,
			OperationsPending: uint64(c.operations_pending), OperationsExhausted: uint64(c.operations_exhausted),
			TimersDue: uint64(c.timers_due), LateIgnored: uint64(c.late_ignored),
			DuplicatesSuppressed: uint64(c.duplicates_suppressed), IdemBusy: uint64(c.idem_busy),
			IdemMismatch: uint64(c.idem_mismatch), StaleCompletions: uint64(c.stale_completions),
			LeasesExpiredTotal: uint64(c.leases_expired_total), PublishedTotal: uint64(c.published_total),
			RedeliveredTotal: uint64(c.redelivered_total), RowsParkedTotal: uint64(c.rows_parked_total),
			Ready: c.ready != 0, TransportOutage: time.Duration(c.transport_outage_ms) * time.Millisecond}
		return rc
	})
	return h, err
}

// Metrics takes a health snapshot as named figures ("orderly_outbox_pending").
func (e *Engine) Metrics(now time.Time) (map[string]float64, error) {
	m := map[string]float64{}
	h := cgo.NewHandle(m)
	defer h.Delete()
	err := e.simple(func() C.int { return C.orderly_go_metrics(e.c, ms(now), C.uintptr_t(h)) })
	return m, err
}
