//go:build cgo

package orderly

import "time"

// Queue names one of the storage's three queues.
type Queue int

// The queues of orderly/sys/storage.h.
const (
	QueueOutbox     Queue = 1 // events to publish, ordered per group
	QueueTimers     Queue = 2 // deadlines to fire
	QueueOperations Queue = 3 // operations and their retries
)

// ItemState is a queue row's state.
type ItemState int

// The queue row states.
const (
	ItemReady  ItemState = 0 // waiting for its due time
	ItemLeased ItemState = 1 // claimed by a worker until LeaseUntil
	ItemDone   ItemState = 2 // finished
	ItemDead   ItemState = 3 // exhausted or parked for an operator
)

// AnyState selects rows in every state in QueueScan, ListOutbox and
// ListOperations.
const AnyState ItemState = -1

// QueueItem is one queue row. Payload is borrowed for the call that
// passes it: copy what you keep.
type QueueItem struct {
	ID         uint64
	Group      string // ordering group (an order id); "" = unordered
	Kind       uint32 // core-defined tag, opaque to storage
	State      ItemState
	Attempts   uint32
	Payload    []byte
	Created    time.Time
	Due        time.Time
	LeaseToken uint64
	LeaseUntil time.Time
}

// QueueStats counts a queue's rows as seen at one instant.
type QueueStats struct {
	Ready, Due, Leased, LeaseExpired, Done, Dead uint64
	OldestPending                                time.Time // zero when nothing is pending
}

// IdemRecord is an idempotency mark. Result is borrowed for the call.
type IdemRecord struct {
	Fingerprint [16]byte
	Expires     time.Time
	Result      []byte
}

// Txn is a storage transaction, opaque to the core: whatever Begin returned.
type Txn interface{}

// Storage is the storage vtable of orderly/sys/storage.h written in Go;
// give it to an engine with GoStorage. Every method follows that header's
// contract (doc/conformance.md; the conformance package checks an
// implementation). Return an *Error (NewError(CodeNotFound, ...),
// CodeConflict, CodeExists, CodeInFlight, ...) for the answers the core
// expects; any other error reaches the core as CodeUser and comes back
// from the engine call unchanged, wrapped in an *Error. A panic is
// recovered and reported the same way. Slices passed in are borrowed for
// the call. If the value also has a Close() error method, the engine
// calls it once when it closes (or fails to open). The callbacks passed to Scan, QueueClaim, QueueGet and
// QueueScan return an error to stop: return that error unchanged.
type Storage interface {
	Begin() (Txn, error)
	Commit(tx Txn) error
	Rollback(tx Txn)
	Load(tx Txn, key string) (data []byte, version uint64, err error)
	Save(tx Txn, key string, data []byte, expectedVersion uint64) error
	Scan(tx Txn, after string, max int, fn func(key string, data []byte, version uint64) error) (int, error)
	QueuePush(tx Txn, q Queue, item *QueueItem) (id uint64, err error)
	QueueClaim(tx Txn, q Queue, now time.Time, max int, maxAttempts uint32, leaseUntil time.Time,
		fn func(*QueueItem) error) (token uint64, n int, err error)
	QueueFinish(tx Txn, q Queue, id, token uint64, state ItemState, due time.Time, attempts uint32) error
	QueueReset(tx Txn, q Queue, id uint64, state ItemState, due time.Time) error
	QueueGet(tx Txn, q Queue, id uint64, fn func(*QueueItem) error) error
	QueueScan(tx Txn, q Queue, state ItemState, afterID uint64, max int, fn func(*QueueItem) error) (int, error)
	QueuePurge(tx Txn, q Queue, before time.Time, max int) (int, error)
	QueueStats(tx Txn, q Queue, now time.Time) (QueueStats, error)
	IdemGet(tx Txn, key string, now time.Time) (IdemRecord, error)
	IdemPut(tx Txn, key string, now time.Time, rec IdemRecord) error
	IdemPurge(tx Txn, now time.Time, max int) (int, error)
}

// HistoryItem is one event of an order's history as a storage keeps it:
// the core's payload for (Group, Seq), opaque to storage. Payload is
// borrowed for the call that passes it: copy what you keep.
type HistoryItem struct {
	Group   string // the order id
	Seq     uint32 // the event's number within its order, from 0
	Kind    uint32 // core-defined type tag
	Payload []byte
	Created time.Time // when the command that staged it committed
}

// The optional methods of storage version 3. A Storage that also
// implements any of these interfaces is bridged as a version 3 vtable with
// those slots filled (the others stay empty, as the C contract allows);
// one that implements none is a version 2 storage. Version 3 also promises
// that QueueClaim sees the items its own transaction pushed, after the
// committed ones, in id order.

// HistoryStorage keeps the order history behind Engine.OrderHistory
// (without it OrderHistory fails with ErrNotSupported). HistoryAppend adds
// item inside tx (an *Error with CodeExists when (Group, Seq) is already
// kept); HistoryScan calls fn for up to max items of group with Seq >=
// fromSeq, in Seq order, and returns the count (a transaction reads its
// own appends).
type HistoryStorage interface {
	HistoryAppend(tx Txn, item *HistoryItem) error
	HistoryScan(tx Txn, group string, fromSeq uint32, max int, fn func(*HistoryItem) error) (int, error)
}

// ReadTxnStorage opens transactions the core only reads in (loads, scans,
// queue reads, idempotency reads), ended with Commit or Rollback. They
// must see one committed state throughout and should not wait for or
// block a writer.
type ReadTxnStorage interface {
	BeginRead() (Txn, error)
}

// NextDueStorage tells the engine when a queue next has a claimable item:
// the least Due of its READY items and LeaseUntil of its LEASED ones, due
// or not, counting tx's own pushes; ok false when it has none. The engine
// then skips storage in Pump, Tick and RunOperations until that instant
// (see Engine.Wake).
type NextDueStorage interface {
	QueueNextDue(tx Txn, q Queue) (due time.Time, ok bool, err error)
}

// Header is one message header (ce-id, ce-type, traceparent, ...).
type Header struct {
	Name, Value string
}

// Transport publishes outbox events; give it to an engine with
// GoTransport. Publish returning nil means the broker accepted the
// message. Return NewError(CodeTransport, ...) or CodeTimeout when the
// broker is away (the core retries without counting an attempt); any other
// error counts an attempt. data and headers are borrowed for the call. A
// Close() error method, if present, is called once when the engine closes.
type Transport interface {
	Publish(topic, key string, data []byte, headers []Header) error
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(topic, key string, data []byte, headers []Header) error

// Publish calls f.
func (f TransportFunc) Publish(topic, key string, data []byte, headers []Header) error {
	return f(topic, key, data, headers)
}

// Message is one published event, as ChannelTransport sends it.
type Message struct {
	Topic   string
	Key     string
	Data    []byte
	Headers []Header
}

// ChannelTransport is an example Transport that sends every event to a
// channel. A full channel is a broker away: Publish reports CodeTransport
// instead of blocking the engine, and the core retries later.
type ChannelTransport chan<- Message

// Publish sends a copy of the event to the channel, or fails when it is full.
func (c ChannelTransport) Publish(topic, key string, data []byte, headers []Header) error {
	msg := Message{Topic: topic, Key: key, Data: append([]byte(nil), data...),
		Headers: append([]Header(nil), headers...)}
	select {
	case c <- msg:
		return nil
	default:
		return NewError(CodeTransport, "channel full")
	}
}
