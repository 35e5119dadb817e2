//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// Never is the policy duration that never lapses (a deadline or the
// idempotency TTL).
const Never = time.Duration(math.MaxInt64)

// Policy holds the engine's durations and limits; DefaultPolicy gives the
// C defaults. Durations are rounded down to milliseconds.
type Policy struct {
	ReservationTTL       time.Duration // stock held before payment
	CODWindow            time.Duration // cash-on-delivery confirmation window
	AuthWindow           time.Duration // card authorization validity
	AutoCompleteAfter    time.Duration // shipped/delivered -> completed
	FulfillmentSLA       time.Duration // pending -> shipped
	AbandonedAfter       time.Duration // pending orders cleaned up
	IdemTTL              time.Duration // idempotency marks kept
	BackoffBase          time.Duration // first retry delay
	BackoffMax           time.Duration // cap on one retry delay
	Lease                time.Duration // queue lease
	Retention            time.Duration // published outbox rows kept
	MaxConflictRetries   uint32
	OutboxMaxAttempts    uint32
	OperationMaxAttempts uint32
	BatchMax             uint32        // items per Pump/Tick batch
	Seed                 uint64        // jitter seed
	ClaimResolution      uint32        // a lost parcel's claim: 1 refund (default), 2 reship, 3 the host decides
	CODCollectionWindow  time.Duration // confirmed COD cash reported collected within it
}

func dur(v C.int64_t) time.Duration {
	if v == math.MaxInt64 {
		return Never
	}
	return time.Duration(v) * time.Millisecond
}

func cdur(d time.Duration) C.int64_t {
	if d == Never {
		return math.MaxInt64
	}
	return durMS(d)
}

// DefaultPolicy is ORDERLY_POLICY_INIT.
func DefaultPolicy() Policy {
	var p C.orderly_policy
	C.orderly_policy_init(&p, C.ORDERLY_POLICY_VERSION)
	return Policy{
		ReservationTTL: dur(p.reservation_ttl), CODWindow: dur(p.cod_window),
		AuthWindow: dur(p.auth_window), AutoCompleteAfter: dur(p.auto_complete_after),
		FulfillmentSLA: dur(p.fulfillment_sla), AbandonedAfter: dur(p.abandoned_after),
		IdemTTL: dur(p.idem_ttl), BackoffBase: dur(p.backoff_base), BackoffMax: dur(p.backoff_max),
		Lease: dur(p.lease), Retention: dur(p.retention),
		MaxConflictRetries: uint32(p.max_conflict_retries), OutboxMaxAttempts: uint32(p.outbox_max_attempts),
		OperationMaxAttempts: uint32(p.operation_max_attempts), BatchMax: uint32(p.batch_max),
		Seed: uint64(p.seed), ClaimResolution: uint32(p.claim_resolution),
		CODCollectionWindow: dur(p.cod_collection_window),
	}
}

func (p *Policy) fill(c *C.orderly_policy) {
	C.orderly_policy_init(c, C.ORDERLY_POLICY_VERSION)
	c.reservation_ttl, c.cod_window = cdur(p.ReservationTTL), cdur(p.CODWindow)
	c.auth_window, c.auto_complete_after = cdur(p.AuthWindow), cdur(p.AutoCompleteAfter)
	c.fulfillment_sla, c.abandoned_after = cdur(p.FulfillmentSLA), cdur(p.AbandonedAfter)
	c.idem_ttl, c.backoff_base, c.backoff_max = cdur(p.IdemTTL), cdur(p.BackoffBase), cdur(p.BackoffMax)
	c.lease, c.retention = cdur(p.Lease), cdur(p.Retention)
	c.max_conflict_retries = C.uint32_t(p.MaxConflictRetries)
	c.outbox_max_attempts = C.uint32_t(p.OutboxMaxAttempts)
	c.operation_max_attempts = C.uint32_t(p.OperationMaxAttempts)
	c.batch_max = C.uint32_t(p.BatchMax)
	c.seed = C.uint64_t(p.Seed)
	c.claim_resolution = C.uint32_t(p.ClaimResolution)
	c.cod_collection_window = cdur(p.CODCollectionWindow)
}

// Topic names one of the engine's topics.
type Topic int

// The topics of orderly/engine.h.
const (
	TopicOrder       Topic = C.ORDERLY_TOPIC_ORDER
	TopicPayment     Topic = C.ORDERLY_TOPIC_PAYMENT
	TopicInventory   Topic = C.ORDERLY_TOPIC_INVENTORY
	TopicFulfillment Topic = C.ORDERLY_TOPIC_FULFILLMENT
	TopicShipment    Topic = C.ORDERLY_TOPIC_SHIPMENT
	TopicReturn      Topic = C.ORDERLY_TOPIC_RETURN
	TopicCommands    Topic = C.ORDERLY_TOPIC_COMMANDS // operations with no executor
)

// String is the topic's default name ("orderly.order"), or "Topic(n)" for
// an unknown one (orderly_topic_default_name); Engine.Topic gives the name
// an engine was configured with.
func (t Topic) String() string {
	if p := C.orderly_topic_default_name(C.int(t)); p != nil {
		return C.GoString(p)
	}
	return fmt.Sprintf("Topic(%d)", int(t))
}

// AlertKind says what an Alert is about.
type AlertKind int

// The alert kinds of orderly/engine.h.
const (
	AlertDeadLetter         AlertKind = C.ORDERLY_ALERT_DEAD_LETTER
	AlertOperationExhausted AlertKind = C.ORDERLY_ALERT_OPERATION_EXHAUSTED
	AlertStaleCompletion    AlertKind = C.ORDERLY_ALERT_STALE_COMPLETION
	AlertRowParked          AlertKind = C.ORDERLY_ALERT_ROW_PARKED
)

// Alert is raised when something needs an operator.
type Alert struct {
	Kind    AlertKind
	Queue   Queue
	ItemID  uint64
	Group   string // the order id
	Message string
}

// Options configure Open. Storage nil means a fresh MemoryStorage;
// Transport is required. The callbacks run inside the engine call that
// caused them, on its goroutine: they must not call the engine (such a
// call fails with ErrMisuse); a panic in one is re-raised once the engine
// call returned.
type Options struct {
	Storage          StorageBackend
	Transport        TransportBackend
	Roles            []MachineID      // machines this host owns; nil = all six
	Source           string           // CloudEvents source; "" = "orderly"
	Policy           *Policy          // nil = DefaultPolicy()
	Topics           map[Topic]string // topic names; missing = the default name
	MaxEnvelopeBytes int              // 0 = the C default (64 KiB)
	OnWork           func(n int)      // a commit appended n outbox rows: pump soon
	OnAlert          func(Alert)
	Clock            func() time.Time // read by the dispatcher between publishes
	// MaxLines caps the lines of an order: a bigger one is refused at
	// CreateOrder (ErrInvalid), and a command on a stored order with more
	// lines (written by an engine configured higher) with ErrNotSupported.
	// MaxParts caps its fulfillments (warehouses), shipments and returns,
	// each on its own (more warehouses are ErrInvalid, one shipment or
	// return too many ErrInvariant). 0 takes the C library's default for
	// an engine; a negative value or one above the run-time hard maximum,
	// LinesMax() or PartsMax(), is ErrConfig.
	MaxLines, MaxParts int
	// HandOff (ORDERLY_ENGINE_HAND_OFF): a command's own transaction
	// claims the outbox rows it appended, so the next Pump publishes them
	// without a claim transaction; for hosts that pump right after each
	// command (OnWork). See doc/delivery.md.
	HandOff bool
	// Sole (ORDERLY_ENGINE_SOLE, with HandOff): the host promises that no
	// other engine claims from this storage, so acknowledgements of handed
	// rows wait for the next write however long the host is quiet.
	// Breaking the promise costs duplicate publishes, never a lost event.
	Sole bool
	// Replica (ORDERLY_ENGINE_REPLICA): this engine is one replica of a
	// services topology, fed the same ordered input log as every other
	// service (same inputs, same order, same now from the log entry). It
	// accepts every machine's commands whatever Roles; Roles pick only
	// what it writes: the outbox events, operations (Op.Machine) and
	// deadlines of its machines. Its Tick publishes each due deadline as a
	// command on the commands topic, for the host to append to the log
	// and every replica to apply with HandleEvent. See
	// include/orderly/engine.h and doc/topology.md.
	Replica bool
}

// callbacks is what the C callbacks reach through a cgo.Handle. It is
// separate from Engine so that the handle does not keep the Engine alive
// and its finalizer can run.
type callbacks struct {
	opts      Options
	executors map[int]func(Operation) error
	pending   interface{} // a callback's panic, re-raised after the call
}

func (c *callbacks) recoverCallback() {
	if p := recover(); p != nil && c.pending == nil {
		c.pending = p
	}
}

// Engine runs commands and events through orderly's idempotent,
// transactional path. An Engine is used by one goroutine at a time: a
// call made while another runs on the same engine fails with ErrMisuse
// instead of corrupting it. Close releases it; a finalizer closes an
// engine that was dropped without Close, as a safety net only.
type Engine struct {
	busy      int32
	closed    bool
	c         *C.orderly_engine
	call      *C.orderly_go_call
	cb        *callbacks
	self      cgo.Handle
	storage   *adapterBridge
	transport *adapterBridge
	release   []func()
}

var errBusy = NewError(CodeMisuse, "the engine is in use by another call (another goroutine or a callback)")

// Open opens an engine with opts.
func Open(opts Options) (*Engine, error) {
	if opts.Transport == nil {
		return nil, NewError(CodeConfig, "Options.Transport is required")
	}
	if opts.Storage == nil {
		opts.Storage = MemoryStorage()
	}
	e := &Engine{cb: &callbacks{opts: opts, executors: map[int]func(Operation) error{}}}
	st, err := opts.Storage.attachStorage()
	if err != nil {
		return nil, err
	}
	tr, err := opts.Transport.attachTransport()
	if err != nil {
		if st.orphan != nil {
			st.orphan()
		}
		if st.release != nil {
			st.release()
		}
		return nil, err
	}
	e.storage, e.transport = st.bridge, tr.bridge
	for _, a := range []attached{st, tr} {
		if a.release != nil {
			e.release = append(e.release, a.release)
		}
	}
	e.self = cgo.NewHandle(e.cb)
	if err := e.open(&opts, st.storage, tr.transport); err != nil {
		for _, a := range []attached{st, tr} {
			if a.orphan != nil {
				a.orphan()
			}
		}
		e.free()
		return nil, err
	}
	e.call = (*C.orderly_go_call)(C.calloc(1, C.sizeof_orderly_go_call))
	if e.call == nil {
		C.orderly_engine_close(e.c)
		e.free()
		return nil, sentinel(CodeNoMem)
	}
	runtime.SetFinalizer(e, func(e *Engine) { _ = e.Close() })
	return e, nil
}

func (e *Engine) open(opts *Options, st *C.orderly_storage, tr *C.orderly_transport) error {
	// Everything the options point at is C memory, freed once open copied it.
	var cstr []unsafe.Pointer
	defer func() {
		for _, p := range cstr {
			C.free(p)
		}
	}()
	cs := func(s string) *C.char {
		p := C.CString(s)
		cstr = append(cstr, unsafe.Pointer(p))
		return p
	}
	o := (*C.orderly_engine_options)(C.calloc(1, C.sizeof_orderly_engine_options))
	cstr = append(cstr, unsafe.Pointer(o))
	C.orderly_engine_options_init(o, C.ORDERLY_ENGINE_OPTIONS_VERSION)
	o.storage, o.transport = st, tr
	if opts.Roles != nil {
		o.roles = 0
		for _, m := range opts.Roles {
			o.roles |= 1 << uint(m)
		}
	}
	if opts.Source != "" {
		o.source = cs(opts.Source)
	}
	if opts.Policy != nil {
		p := (*C.orderly_policy)(C.calloc(1, C.sizeof_orderly_policy))
		cstr = append(cstr, unsafe.Pointer(p))
		opts.Policy.fill(p)
		o.policy = p
	}
	if len(opts.Topics) > 0 {
		n := C.ORDERLY_TOPIC_COUNT + 1
		arr := (*[C.ORDERLY_TOPIC_COUNT + 1]*C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		cstr = append(cstr, unsafe.Pointer(arr))
		for t, name := range opts.Topics {
			if t < 1 || int(t) >= n {
				return invalid("Options.Topics: no topic %d", int(t))
			}
			arr[t] = cs(name)
		}
		o.topics = &arr[0]
		o.n_topics = C.size_t(n)
	}
	o.max_envelope_bytes = C.size_t(opts.MaxEnvelopeBytes)
	if opts.HandOff {
		o.flags |= C.ORDERLY_ENGINE_HAND_OFF
	}
	if opts.Sole {
		o.flags |= C.ORDERLY_ENGINE_SOLE
	}
	if opts.Replica {
		o.flags |= C.ORDERLY_ENGINE_REPLICA
	}
	if opts.MaxLines < 0 || opts.MaxLines > LinesMax() {
		return NewError(CodeConfig, fmt.Sprintf("Options.MaxLines %d is not 0..%d", opts.MaxLines, LinesMax()))
	}
	if opts.MaxParts < 0 || opts.MaxParts > PartsMax() {
		return NewError(CodeConfig, fmt.Sprintf("Options.MaxParts %d is not 0..%d", opts.MaxParts, PartsMax()))
	}
	o.max_lines = C.uint32_t(opts.MaxLines)
	o.max_parts = C.uint32_t(opts.MaxParts)
	flags := 0
	if opts.OnWork != nil {
		flags |= C.ORDERLY_GO_ON_WORK
	}
	if opts.OnAlert != nil {
		flags |= C.ORDERLY_GO_ON_ALERT
	}
	if opts.Clock != nil {
		flags |= C.ORDERLY_GO_CLOCK
	}
	var ctx *C.orderly_ctx
	if rc := C.orderly_ctx_new(&ctx, nil); rc < 0 {
		return sentinel(CodeNoMem)
	}
	defer C.orderly_ctx_free(ctx)
	if rc := C.orderly_go_open(&e.c, o, C.uintptr_t(e.self), C.int(flags), ctx); rc < 0 {
		err := ctxError(Code(rc), ctx)
		for _, b := range []*adapterBridge{e.storage, e.transport} {
			if b != nil && err.Err == nil {
				err.Err = b.take(err.Code)
			}
		}
		return err
	}
	return nil
}

// free releases what Close releases once the C engine is gone.
func (e *Engine) free() {
	for _, f := range e.release {
		f()
	}
	e.release = nil
	if e.self != 0 {
		e.self.Delete()
		e.self = 0
	}
	C.orderly_go_call_free(e.call)
	e.call = nil
}

// Close closes the engine and the storage and transport it opened. A
// second Close returns nil; any other call after Close returns ErrClosed.
func (e *Engine) Close() error {
	if !atomic.CompareAndSwapInt32(&e.busy, 0, 1) {
		return errBusy
	}
	defer atomic.StoreInt32(&e.busy, 0)
	if e.closed {
		return nil
	}
	e.closed = true
	runtime.SetFinalizer(e, nil)
	C.orderly_engine_close(e.c)
	e.c = nil
	e.free()
	return nil
}

// enter claims the engine for one call; exit gives it back.
func (e *Engine) enter() error {
	if !atomic.CompareAndSwapInt32(&e.busy, 0, 1) {
		return errBusy
	}
	if e.closed {
		atomic.StoreInt32(&e.busy, 0)
		return ErrClosed
	}
	if e.storage != nil {
		e.storage.kept = nil
	}
	if e.transport != nil {
		e.transport.kept = nil
	}
	return nil
}

func (e *Engine) exit() {
	p := e.cb.pending
	e.cb.pending = nil
	atomic.StoreInt32(&e.busy, 0)
	if p != nil {
		panic(p)
	}
}

// fail builds the error of a failed call: code, the engine's message, and
// the Go adapter's own error when that is what failed.
func (e *Engine) fail(rc C.int) error {
	code := Code(rc)
	err := NewError(code, C.GoString(C.orderly_engine_errmsg(e.c)))
	err.Native = int64(C.orderly_ctx_native(C.orderly_engine_ctx(e.c)))
	for _, b := range []*adapterBridge{e.storage, e.transport} {
		if b != nil && err.Err == nil {
			err.Err = b.take(code)
		}
	}
	return err
}

// setID copies s into a C buffer of the call, checked like the C side
// would, since a NUL or an overlong id cannot cross as a C string.
func setID(dst *[C.ORDERLY_ID_MAX + 1]C.char, field, s string) error {
	if len(s) > IDMax {
		return invalid("%s is %d bytes, over the limit of %d", field, len(s), IDMax)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalid("%s contains a NUL byte", field)
	}
	b := (*[C.ORDERLY_ID_MAX + 1]byte)(unsafe.Pointer(dst))
	n := copy(b[:], s)
	b[n] = 0
	return nil
}

func (e *Engine) ids(orderID, idemKey string) (C.int, error) {
	if err := setID(&e.call.order_id, "order id", orderID); err != nil {
		return 0, err
	}
	if idemKey == "" {
		return 0, nil
	}
	if err := setID(&e.call.idem_key, "idempotency key", idemKey); err != nil {
		return 0, err
	}
	return 1, nil
}

// Result is what a command did.
type Result struct {
	Machine    MachineID  // the machine addressed
	Event      int        // the event id
	From, To   int        // the machine's state before and after (equal when late)
	OrderState OrderState // the order's state after
	Late       bool       // ignored as an out-of-order event
	Duplicate  bool       // a redelivery: this is the stored first result
	OutboxRows uint32     // events appended
	Operations uint32     // operations recorded
	Version    uint64     // aggregate version after
}

func resultOf(r *C.orderly_result) Result {
	return Result{
		Machine: MachineID(r.machine), Event: int(r.event), From: int(r.from), To: int(r.to),
		OrderState: OrderState(r.order_state), Late: r.late != 0, Duplicate: r.duplicate != 0,
		OutboxRows: uint32(r.outbox_rows), Operations: uint32(r.operations), Version: uint64(r.version),
	}
}

func (e *Engine) done(rc C.int) (Result, error) {
	if rc < 0 {
		return Result{}, e.fail(rc)
	}
	return resultOf(&e.call.res), nil
}

// PaymentMethod is how an order is paid.
type PaymentMethod int

// The payment methods.
const (
	PayCard PaymentMethod = C.ORDERLY_PAY_CARD // authorize, then capture
	PayCOD  PaymentMethod = C.ORDERLY_PAY_COD  // cash on delivery
)

// Line is one order line, reserved in one warehouse.
type Line struct {
	SKU       uint64
	Warehouse uint32
	Quantity  uint32 // 1..1,000,000
	UnitPrice int64  // minor units
}

// OrderSpec describes an order to create.
type OrderSpec struct {
	OrderID       string
	Currency      string // ISO 4217
	PaymentMethod PaymentMethod
	Lines         []Line // 1..the engine's MaxLines
	HasPromotion  bool
	LoyaltyPoints int64
	IdemKey       string    // "" = derived from the request
	Now           time.Time // zero = time.Now()
}

// CreateOrder creates an order (orderly_engine_create_order).
func (e *Engine) CreateOrder(spec OrderSpec) (Result, error) {
	if err := e.enter(); err != nil {
		return Result{}, err
	}
	defer e.exit()
	has, err := e.ids(spec.OrderID, spec.IdemKey)
	if err != nil {
		return Result{}, err
	}
	if len(spec.Lines) > LinesMax() {
		return Result{}, invalid("an order has at most %d lines, not %d", LinesMax(), len(spec.Lines))
	}
	if len(spec.Currency) != 3 || strings.IndexByte(spec.Currency, 0) >= 0 {
		return Result{}, invalid("currency %q is not three letters", spec.Currency)
	}
	c := e.call
	for i := 0; i < 3; i++ {
		c.currency[i] = C.char(spec.Currency[i])
	}
	c.currency[3] = 0
	if C.orderly_go_call_lines(c, C.size_t(len(spec.Lines))) < 0 {
		return Result{}, sentinel(CodeNoMem)
	}
	if len(spec.Lines) > 0 {
		lines := unsafe.Slice(c.lines, len(spec.Lines))
		for i, l := range spec.Lines {
			lines[i] = C.orderly_line{sku: C.uint64_t(l.SKU), warehouse: C.uint32_t(l.Warehouse),
				quantity: C.uint32_t(l.Quantity), unit_price: C.int64_t(l.UnitPrice)}
		}
	}
	c.spec.payment_method = C.int(spec.PaymentMethod)
	c.spec.n_lines = C.size_t(len(spec.Lines))
	c.spec.has_promotion = 0
	if spec.HasPromotion {
		c.spec.has_promotion = 1
	}
	c.spec.loyalty_points = C.int64_t(spec.LoyaltyPoints)
	c.spec.now = ms(spec.Now)
	return e.done(C.orderly_go_create(e.c, c, has))
}

// Command is a state-machine event addressed to one part of an order.
// The event names its machine (PaymentEvAuthorize is the payment's).
type Command struct {
	OrderID string
	Event   Event
	Index   uint32    // the reservation, fulfillment, shipment or return; 0 for order and payment
	Amount  int64     // read by events that move money
	IdemKey string    // the event id or request key; "" = derived from the command
	Now     time.Time // zero = time.Now()
}

// Apply applies one command (orderly_engine_apply).
func (e *Engine) Apply(cmd Command) (Result, error) {
	if err := e.enter(); err != nil {
		return Result{}, err
	}
	defer e.exit()
	if cmd.Event == nil {
		return Result{}, invalid("Command.Event is nil")
	}
	has, err := e.ids(cmd.OrderID, cmd.IdemKey)
	if err != nil {
		return Result{}, err
	}
	c := e.call
	c.cmd.machine = C.int(cmd.Event.Machine())
	c.cmd.event = C.int(cmd.Event.ID())
	c.cmd.index = C.uint32_t(cmd.Index)
	c.cmd.amount = C.int64_t(cmd.Amount)
	c.cmd.now = ms(cmd.Now)
	return e.done(C.orderly_go_apply(e.c, c, has))
}

func (e *Engine) shorthand(orderID, idemKey string, now time.Time,
	fn func(*C.orderly_engine, *C.orderly_go_call, C.int) C.int) (Result, error) {
	if err := e.enter(); err != nil {
		return Result{}, err
	}
	defer e.exit()
	has, err := e.ids(orderID, idemKey)
	if err != nil {
		return Result{}, err
	}
	e.call.cmd.now = ms(now)
	return e.done(fn(e.c, e.call, has))
}

// CancelOrder cancels an order (orderly_engine_cancel_order).
func (e *Engine) CancelOrder(orderID, idemKey string, now time.Time) (Result, error) {
	return e.shorthand(orderID, idemKey, now, func(en *C.orderly_engine, c *C.orderly_go_call, has C.int) C.int {
		return C.orderly_go_cancel(en, c, has)
	})
}

// RequestCapture asks the payment to capture (orderly_engine_request_capture).
func (e *Engine) RequestCapture(orderID, idemKey string, now time.Time) (Result, error) {
	return e.shorthand(orderID, idemKey, now, func(en *C.orderly_engine, c *C.orderly_go_call, has C.int) C.int {
		return C.orderly_go_request_capture(en, c, has)
	})
}

// ReturnLine is the units of one order line a return takes back.
type ReturnLine struct {
	Line     uint32 // the order line, 0-based as created
	Quantity uint32 // 1..what was delivered and no other live return claims
}

// ReturnSpec describes a return (or an exchange) to open.
type ReturnSpec struct {
	OrderID string
	Lines   []ReturnLine // 1..the engine's MaxLines, each order line at most once
	// Added to the lines' value to give the amount refunded: negative for
	// a restocking fee kept, positive for what the host refunds besides;
	// |Adjustment| is at most the lines' value.
	Adjustment int64
	Exchange   bool      // an exchange refunds and restocks nothing
	IdemKey    string    // "" = derived from the request
	Now        time.Time // zero = time.Now()
}

// OpenReturn opens a return (or an exchange) of the units spec names on
// a delivered order and gives its index (orderly_engine_open_return_lines).
// Its amount is the units' value plus spec.Adjustment, and completing it
// restocks exactly those units. ErrInvalid for a bad line, quantity or
// adjustment; ErrInvariant when the units or the amount exceed what the
// order can still give back.
func (e *Engine) OpenReturn(spec ReturnSpec) (uint32, Result, error) {
	if len(spec.Lines) > LinesMax() {
		return 0, Result{}, invalid("a return names at most %d lines, not %d", LinesMax(), len(spec.Lines))
	}
	if err := e.enter(); err != nil {
		return 0, Result{}, err
	}
	defer e.exit()
	has, err := e.ids(spec.OrderID, spec.IdemKey)
	if err != nil {
		return 0, Result{}, err
	}
	c := e.call
	if C.orderly_go_call_rlines(c, C.size_t(len(spec.Lines))) < 0 {
		return 0, Result{}, sentinel(CodeNoMem)
	}
	if len(spec.Lines) > 0 {
		rlines := unsafe.Slice(c.rlines, len(spec.Lines))
		for i, l := range spec.Lines {
			rlines[i] = C.orderly_return_line{line: C.uint32_t(l.Line), quantity: C.uint32_t(l.Quantity)}
		}
	}
	c.ret.n_lines = C.size_t(len(spec.Lines))
	c.ret.adjustment = C.int64_t(spec.Adjustment)
	c.ret.exchange = 0
	if spec.Exchange {
		c.ret.exchange = 1
	}
	c.ret.now = ms(spec.Now)
	r, err := e.done(C.orderly_go_open_return_lines(e.c, c, has))
	return uint32(c.index), r, err
}

// OpenReturnAmount opens a return of amount minor units that names no
// lines, so completing it restocks nothing (orderly_engine_open_return).
//
// Deprecated: use OpenReturn with the lines that came back.
func (e *Engine) OpenReturnAmount(orderID string, amount int64, exchange bool, idemKey string,
	now time.Time) (uint32, Result, error) {
	var idx uint32
	r, err := e.shorthand(orderID, idemKey, now, func(en *C.orderly_engine, c *C.orderly_go_call, has C.int) C.int {
		c.cmd.amount = C.int64_t(amount)
		x := C.int(0)
		if exchange {
			x = 1
		}
		rc := C.orderly_go_open_return(en, c, x, has)
		idx = uint32(c.index)
		return rc
	})
	return idx, r, err
}

// ReplacementID is the id of the replacement order that exchange
// returnIndex of orderID opens (orderly_replacement_id):
// "<orderID>.x<returnIndex>" when that fits in IDMax bytes, else "x." and
// 32 hex digits of a hash of the two. Hosts name none of their own orders
// in these forms. ErrInvalid for an order id that is empty, over IDMax
// bytes, or not printable ASCII.
func ReplacementID(orderID string, returnIndex uint32) (string, error) {
	if len(orderID) > IDMax || strings.IndexByte(orderID, 0) >= 0 {
		return "", invalid("order id %q is not 1..%d printable bytes", orderID, IDMax)
	}
	var out [C.ORDERLY_ID_MAX + 1]C.char
	id := C.CString(orderID)
	defer C.free(unsafe.Pointer(id))
	if rc := C.orderly_replacement_id(&out[0], id, C.uint32_t(returnIndex)); rc < 0 {
		return "", invalid("order id %q is not 1..%d printable bytes", orderID, IDMax)
	}
	return C.GoString(&out[0]), nil
}

// OpenReplacement opens the replacement order of an exchange
// (orderly_engine_open_replacement): return returnIndex of orderID, opened
// as an exchange and completed, gets a new order with id
// ReplacementID(orderID, returnIndex), created pending as CreateOrder
// creates one (its stock reserved, its payment pending for the host to
// settle), holding the exchanged units of each line at their price, in the
// original's currency and payment method. The replacement's
// OrderView.ReplacementOf names the original and the exchange's
// PartView.Replacement names the replacement.
//
// Opening it again (a redelivered order.replacement_requested) returns the
// first result with Duplicate set and never opens a second order;
// ErrExists once that idempotency mark has lapsed. ErrNotFound for no such
// order or return; ErrTransition when the return is not an exchange, not
// completed, or names no lines (a money-only exchange).
func (e *Engine) OpenReplacement(orderID string, returnIndex uint32, now time.Time) (Result, error) {
	return e.shorthand(orderID, "", now, func(en *C.orderly_engine, c *C.orderly_go_call, _ C.int) C.int {
		c.res = C.orderly_result{size: C.sizeof_orderly_result}
		return C.orderly_engine_open_replacement(en, &c.order_id[0], C.uint32_t(returnIndex), c.cmd.now, &c.res)
	})
}

func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// HandleEvent handles a CloudEvents JSON envelope from another service
// (orderly_engine_handle_event).
func (e *Engine) HandleEvent(envelope []byte, now time.Time) (Result, error) {
	if err := e.enter(); err != nil {
		return Result{}, err
	}
	defer e.exit()
	e.call.res = C.orderly_result{size: C.sizeof_orderly_result}
	return e.done(C.orderly_engine_handle_event(e.c, bytesPtr(envelope), C.size_t(len(envelope)),
		ms(now), &e.call.res))
}

// HandleWebhook verifies a payment provider's signed webhook, then handles
// its payload as an envelope (orderly_engine_handle_webhook).
func (e *Engine) HandleWebhook(secret []byte, signatureHeader string, payload []byte,
	tolerance time.Duration, now time.Time) (Result, error) {
	if err := e.enter(); err != nil {
		return Result{}, err
	}
	defer e.exit()
	sig := C.CString(signatureHeader)
	defer C.free(unsafe.Pointer(sig))
	e.call.res = C.orderly_result{size: C.sizeof_orderly_result}
	return e.done(C.orderly_engine_handle_webhook(e.c, bytesPtr(secret), C.size_t(len(secret)), sig,
		bytesPtr(payload), C.size_t(len(payload)), C.int64_t(tolerance/time.Second), ms(now), &e.call.res))
}

// BeginBatch groups the following commands into one storage transaction
// (orderly_engine_begin_batch); CommitBatch or RollbackBatch ends it.
func (e *Engine) BeginBatch() error {
	return e.simple(func() C.int { return C.orderly_engine_begin_batch(e.c) })
}

// CommitBatch commits the open batch.
func (e *Engine) CommitBatch() error {
	return e.simple(func() C.int { return C.orderly_engine_commit_batch(e.c) })
}

// RollbackBatch discards the open batch, if any.
func (e *Engine) RollbackBatch() error {
	return e.simple(func() C.int { C.orderly_engine_rollback_batch(e.c); return 0 })
}

// Batch runs fn inside a batch: committed when fn returns nil, rolled
// back when it returns an error or panics.
func (e *Engine) Batch(fn func() error) (err error) {
	if err := e.BeginBatch(); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = e.RollbackBatch()
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	committed = true
	if err := e.CommitBatch(); err != nil {
		_ = e.RollbackBatch()
		return err
	}
	return nil
}

func (e *Engine) simple(fn func() C.int) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	if rc := fn(); rc < 0 {
		return e.fail(rc)
	}
	return nil
}

// OrderView is an order's current state.
type OrderView struct {
	OrderState                              OrderState
	PaymentState                            PaymentState
	PaymentMethod                           PaymentMethod
	Currency                                string
	Total, Authorized, Captured, Refunded   int64
	Lines, Fulfillments, Shipments, Returns uint32
	Created                                 time.Time
	Version                                 uint64
	// ReplacementOf is the order this one replaces, when OpenReplacement
	// opened it for an exchange of that order; else "".
	ReplacementOf string
}

// GetOrder reads an order (orderly_engine_get_order); ErrNotFound when unknown.
func (e *Engine) GetOrder(orderID string) (OrderView, error) {
	var v OrderView
	err := e.withID(orderID, func() C.int {
		var c C.orderly_order_view
		c.size = C.sizeof_orderly_order_view
		rc := C.orderly_engine_get_order(e.c, &e.call.order_id[0], &c)
		v = OrderView{OrderState: OrderState(c.order_state), PaymentState: PaymentState(c.payment_state),
			PaymentMethod: PaymentMethod(c.payment_method), Currency: C.GoString(&c.currency[0]),
			Total: int64(c.total), Authorized: int64(c.authorized), Captured: int64(c.captured),
			Refunded: int64(c.refunded), Lines: uint32(c.n_lines), Fulfillments: uint32(c.n_fulfillments),
			Shipments: uint32(c.n_shipments), Returns: uint32(c.n_returns), Created: fromMS(c.created),
			Version: uint64(c.version), ReplacementOf: C.GoString(&c.replacement_of[0])}
		return rc
	})
	return v, err
}

// PartView is one part of an order: a reservation, fulfillment, shipment or return.
//
// A reservation is one order line, and its unit counts say where the
// line's units are: Shipped <= Quantity; Delivered + Lost + BackAtOrigin
// <= Shipped; Returned <= Delivered; Restocked <= Returned + BackAtOrigin.
// A return's Quantity is its units over the order lines in Lines.
type PartView struct {
	Machine      MachineID
	Index        uint32
	State        int // a state of Machine (ReservationState, ...)
	SKU          uint64
	Warehouse    uint32
	Quantity     uint32
	Amount       int64
	Since        time.Time
	Reserved     uint32 // held in the warehouse
	Shipped      uint32
	Delivered    uint32
	Lost         uint32
	BackAtOrigin uint32
	Returned     uint32 // received back by returns not rejected
	Restocked    uint32
	Shipment     uint32 // the shipment carrying the line, once shipped
	Refunded     int64  // the line's share of the order's refunds
	// Lines is, for a return, the order lines it names among the first 32
	// only; ReturnLines reads every line of any order, with its units.
	Lines []uint32
	// Replacement is, for a completed exchange, the id of its replacement
	// order (ReplacementID), whether OpenReplacement opened it yet or not;
	// else "".
	Replacement string
}

func lineBits(mask C.uint32_t) []uint32 {
	var out []uint32
	for i := uint32(0); i < 32; i++ {
		if mask>>i&1 != 0 {
			out = append(out, i)
		}
	}
	return out
}

// GetPart reads one part of an order (orderly_engine_get_part).
func (e *Engine) GetPart(orderID string, m MachineID, index uint32) (PartView, error) {
	var v PartView
	err := e.withID(orderID, func() C.int {
		var c C.orderly_part_view
		c.size = C.sizeof_orderly_part_view
		rc := C.orderly_engine_get_part(e.c, &e.call.order_id[0], C.int(m), C.uint32_t(index), &c)
		v = PartView{Machine: MachineID(c.machine), Index: uint32(c.index), State: int(c.state),
			SKU: uint64(c.sku), Warehouse: uint32(c.warehouse), Quantity: uint32(c.quantity),
			Amount: int64(c.amount), Since: fromMS(c.since), Reserved: uint32(c.reserved),
			Shipped: uint32(c.shipped), Delivered: uint32(c.delivered), Lost: uint32(c.lost),
			BackAtOrigin: uint32(c.back_at_origin), Returned: uint32(c.returned),
			Restocked: uint32(c.restocked), Shipment: uint32(c.shipment),
			Refunded: int64(c.refunded), Lines: lineBits(c.lines),
			Replacement: C.GoString(&c.replacement[0])}
		return rc
	})
	return v, err
}

// ReturnLines lists the order lines return index of an order names, in
// order-line order, each with the return's units of it: what OpenReturn
// was given (orderly_engine_get_return_lines: counted, then read whole).
// Unlike PartView.Lines it reads every line of any order. An empty slice
// for a return opened by amount (OpenReturnAmount); ErrNotFound for no
// such order or return. Inside an open batch it reads what the batch sees.
func (e *Engine) ReturnLines(orderID string, index uint32) ([]ReturnLine, error) {
	lines := []ReturnLine{}
	err := e.withID(orderID, func() C.int {
		c := e.call
		var n C.size_t
		rc := C.orderly_engine_get_return_lines(e.c, &c.order_id[0], C.uint32_t(index), nil, 0, &n)
		if rc != 0 || n == 0 {
			return rc
		}
		// C.orderly_return_line holds no Go pointer: C may write a Go slice of them
		buf := make([]C.orderly_return_line, int(n))
		if rc = C.orderly_engine_get_return_lines(e.c, &c.order_id[0], C.uint32_t(index), &buf[0], n,
			&n); rc != 0 {
			return rc
		}
		for _, l := range buf {
			lines = append(lines, ReturnLine{Line: uint32(l.line), Quantity: uint32(l.quantity)})
		}
		return 0
	})
	if err != nil {
		return nil, err
	}
	return lines, nil
}

func (e *Engine) withID(orderID string, fn func() C.int) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	if _, err := e.ids(orderID, ""); err != nil {
		return err
	}
	if rc := fn(); rc < 0 {
		return e.fail(rc)
	}
	return nil
}

// Stats are the engine's counters since Open. The Txn counters are the
// storage transactions the engine opened and ended, every entry point
// included: each begin ends in one commit or rollback, and TxnReadBegins
// (read-only ones, on a storage with BeginRead) are among TxnBegins.
type Stats struct {
	Applied, Rejected, Duplicates, LateIgnored, IdemBusy, IdemMismatch uint64
	ConflictsRetried, OutboxAppended, OperationsRecorded               uint64
	TxnBegins, TxnCommits, TxnRollbacks, TxnReadBegins                 uint64
	// TxnAckWrites: write transactions that only wrote hand-off
	// acknowledgements; DeadlinesCancelled: timer rows a command finished
	// because no part waits on them any more.
	TxnAckWrites, DeadlinesCancelled uint64
}

// Stats reads the counters (orderly_engine_get_stats).
func (e *Engine) Stats() (Stats, error) {
	var s Stats
	err := e.simple(func() C.int {
		var c C.orderly_engine_stats
		c.size = C.sizeof_orderly_engine_stats
		rc := C.orderly_engine_get_stats(e.c, &c)
		s = Stats{uint64(c.applied), uint64(c.rejected), uint64(c.duplicates), uint64(c.late_ignored),
			uint64(c.idem_busy), uint64(c.idem_mismatch), uint64(c.conflicts_retried),
			uint64(c.outbox_appended), uint64(c.operations_recorded), uint64(c.txn_begins),
			uint64(c.txn_commits), uint64(c.txn_rollbacks), uint64(c.txn_read_begins),
			uint64(c.txn_ack_writes), uint64(c.deadlines_cancelled)}
		return rc
	})
	return s, err
}

// HistoryMax is how many events of one order its history keeps.
const HistoryMax = C.ORDERLY_HISTORY_MAX

// HistoryEntry is one event of an order's history, as it was published.
type HistoryEntry struct {
	Seq      uint32 // the event's number within its order, from 0, gapless
	OrderID  string
	Type     string // CloudEvents type, e.g. "inventory.stock.committed"
	EventID  string // the id consumers saw
	Time     time.Time
	Machine  MachineID // whose part moved; 0 when none
	Index    uint32    // which part
	From, To string    // state names; "" when not a transition
	Event    string    // event name; "" when not a transition
	Amount   int64     // minor units
	Currency string    // "" for an event that carries no money
	Lines    uint32    // lines it carried
	JSON     []byte    // the CloudEvents envelope, as published
}

func machineByName(name string) MachineID {
	for i, n := range machineNames {
		if i > 0 && n == name {
			return MachineID(i)
		}
	}
	return 0
}

func historyEntryFromC(v *C.orderly_history_entry) HistoryEntry {
	return HistoryEntry{Seq: uint32(v.seq), OrderID: goString(v.order_id), Type: goString(v._type),
		EventID: goString(v.event_id), Time: fromMS(v.time), Machine: machineByName(goString(v.machine)),
		Index: uint32(v.index), From: goString(v.from), To: goString(v.to), Event: goString(v.event),
		Amount: int64(v.amount), Currency: goString(v.currency), Lines: uint32(v.n_lines),
		JSON: C.GoBytes(unsafe.Pointer(v.json), C.int(v.json_len))}
}

// OrderHistory lists up to max (0 = all) events of an order with Seq >=
// fromSeq, in the order they were produced (orderly_engine_order_history).
// ErrNotFound for an unknown order; ErrNotSupported when the storage keeps
// no history (a Go storage that is not a HistoryStorage).
func (e *Engine) OrderHistory(orderID string, fromSeq uint32, max int) ([]HistoryEntry, error) {
	if max < 0 {
		return nil, invalid("max is negative")
	}
	var rows []HistoryEntry
	h := cgo.NewHandle(&rows)
	defer h.Delete()
	err := e.withID(orderID, func() C.int {
		return C.orderly_go_order_history(e.c, &e.call.order_id[0], C.uint32_t(fromSeq), C.size_t(max),
			C.uintptr_t(h))
	})
	return rows, err
}

// Wake makes the next Pump, Tick and RunOperations look at the store
// (orderly_engine_wake): call it after rows were written behind this
// engine's back (another process or engine on the same store), since on a
// storage that answers QueueNextDue the engine otherwise trusts the due
// times it knows. ErrClosed after Close.
func (e *Engine) Wake() error {
	return e.simple(func() C.int { C.orderly_engine_wake(e.c); return 0 })
}

// Topic is the configured name of topic t ("" for an unknown one).
func (e *Engine) Topic(t Topic) string {
	if e.enter() != nil {
		return ""
	}
	defer e.exit()
	return goString(C.orderly_engine_topic(e.c, C.int(t)))
}

// TopicID resolves a topic name a host subscribes to; ErrConfig for an
// empty or unknown one.
func (e *Engine) TopicID(name string) (Topic, error) {
	var t C.int
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	err := e.simple(func() C.int { return C.orderly_engine_topic_id(&t, e.c, n) })
	return Topic(t), err
}

// LastError is the engine's last failure, as an *Error (nil when none).
func (e *Engine) LastError() error {
	if e.enter() != nil {
		return ErrClosed
	}
	defer e.exit()
	if rc := C.orderly_engine_errcode(e.c); rc < 0 {
		err := NewError(Code(rc), C.GoString(C.orderly_engine_errmsg(e.c)))
		err.Native = int64(C.orderly_ctx_native(C.orderly_engine_ctx(e.c)))
		return err
	}
	return nil
}

// String names the engine for logs.
func (e *Engine) String() string { return fmt.Sprintf("orderly.Engine(%p)", e) }
