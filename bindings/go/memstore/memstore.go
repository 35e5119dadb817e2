//go:build cgo

// Package memstore is a storage adapter for orderly written in Go: the
// whole store in maps, one transaction at a time. It is the example of
// writing an orderly.Storage in Go, and the one the conformance suite
// runs against in this module's tests; use it in tests and tools. It
// implements the optional interfaces of storage version 3 too
// (orderly.HistoryStorage, ReadTxnStorage, NextDueStorage).
//
// Transactions are exclusive: Begin waits (up to BusyTimeout) while
// another handle's transaction is open, and each write records how to
// undo itself, so a rollback or a crash restores exactly what was there.
package memstore

import (
	"sort"
	"sync"
	"time"

	"orderly.dev/go/orderly"
)

// BusyTimeout is how long Begin waits for another open transaction before
// failing with CodeConflict (the engine retries conflicts).
var BusyTimeout = 5 * time.Second

// Store is the shared state; Open gives handles on it.
type Store struct {
	mu        sync.Mutex
	writer    chan struct{} // holds a token while a transaction is open
	records   map[string]record
	queues    [4]queue
	marks     map[string]mark
	history   map[string]map[uint32]histItem // by order id, then seq
	nextToken uint64
}

type record struct {
	data    []byte
	version uint64
}

type item struct {
	id, leaseToken           uint64
	group                    string
	kind, attempts           uint32
	state                    orderly.ItemState
	payload                  []byte
	created, due, leaseUntil int64
}

type queue struct {
	items  map[uint64]*item
	order  []uint64 // ids in push order; purged ids are skipped, then compacted
	lastID uint64
}

type mark struct {
	fingerprint [16]byte
	expires     int64
	result      []byte
}

// New makes an empty store.
func New() *Store {
	st := &Store{writer: make(chan struct{}, 1)}
	st.Reset()
	return st
}

// Reset wipes the store to empty; call it with no transaction open.
func (st *Store) Reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.records = map[string]record{}
	st.marks = map[string]mark{}
	st.history = map[string]map[uint32]histItem{}
	for i := range st.queues {
		st.queues[i] = queue{items: map[uint64]*item{}}
	}
	st.nextToken = 0
}

// Handle is one connection to a Store: an orderly.Storage.
type Handle struct {
	st   *Store
	open *txn
}

type txn struct {
	h    *Handle
	undo []func()
	dead bool
}

// Open returns a new handle on the store.
func (st *Store) Open() *Handle { return &Handle{st: st} }

// Crash simulates the process dying: the handle's open transaction, if
// any, is undone and released; what was committed stays. The handle stays
// usable, and the lost transaction may still be passed to Rollback.
func (h *Handle) Crash() {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	if t := h.open; t != nil {
		h.discard(t)
	}
}

func (h *Handle) discard(t *txn) {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	t.dead = true
	h.open = nil
	<-h.st.writer
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func at(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

var errLost = orderly.NewError(orderly.CodeStorage, "the transaction is finished or was lost in a crash")

// live locks the store and checks tx; the caller unlocks.
func (h *Handle) live(tx orderly.Txn) (*txn, error) {
	h.st.mu.Lock()
	t, ok := tx.(*txn)
	if !ok || t.dead || t.h != h {
		h.st.mu.Unlock()
		return nil, errLost
	}
	return t, nil
}

func (st *Store) queue(q orderly.Queue) (*queue, error) {
	if q < orderly.QueueOutbox || q > orderly.QueueOperations {
		return nil, orderly.NewError(orderly.CodeInvalid, "no such queue")
	}
	return &st.queues[q], nil
}

func (it *item) public() *orderly.QueueItem {
	return &orderly.QueueItem{ID: it.id, Group: it.group, Kind: it.kind, State: it.state,
		Attempts: it.attempts, Payload: it.payload, Created: at(it.created), Due: at(it.due),
		LeaseToken: it.leaseToken, LeaseUntil: at(it.leaseUntil)}
}

// change records how to restore *it before it is modified.
func (t *txn) change(it *item) {
	prev := *it
	t.undo = append(t.undo, func() { *it = prev })
}

// Begin opens a transaction, waiting for another handle's to end.
func (h *Handle) Begin() (orderly.Txn, error) {
	select {
	case h.st.writer <- struct{}{}:
	case <-time.After(BusyTimeout):
		return nil, orderly.NewError(orderly.CodeConflict, "another transaction stayed open")
	}
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	t := &txn{h: h}
	h.open = t
	return t, nil
}

// Commit keeps the transaction's writes.
func (h *Handle) Commit(tx orderly.Txn) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	t.undo = nil
	t.dead = true
	h.open = nil
	for i := range h.st.queues {
		h.st.queues[i].compact()
	}
	<-h.st.writer
	return nil
}

// Rollback undoes the transaction's writes; a finished or lost one is ignored.
func (h *Handle) Rollback(tx orderly.Txn) {
	t, err := h.live(tx)
	if err != nil {
		return
	}
	defer h.st.mu.Unlock()
	h.discard(t)
}

// Load reads a record.
func (h *Handle) Load(tx orderly.Txn, key string) ([]byte, uint64, error) {
	if _, err := h.live(tx); err != nil {
		return nil, 0, err
	}
	defer h.st.mu.Unlock()
	r, ok := h.st.records[key]
	if !ok {
		return nil, 0, orderly.NewError(orderly.CodeNotFound, "no record "+key)
	}
	return r.data, r.version, nil
}

// Save is compare-and-swap on the record's version.
func (h *Handle) Save(tx orderly.Txn, key string, data []byte, expected uint64) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	prev, ok := h.st.records[key]
	if (!ok && expected != 0) || (ok && prev.version != expected) {
		return orderly.NewError(orderly.CodeConflict, "version mismatch on "+key)
	}
	h.st.records[key] = record{append([]byte(nil), data...), expected + 1}
	t.undo = append(t.undo, func() {
		if ok {
			h.st.records[key] = prev
		} else {
			delete(h.st.records, key)
		}
	})
	return nil
}

// Scan walks up to max records with key > after in byte order.
func (h *Handle) Scan(tx orderly.Txn, after string, max int, fn func(string, []byte, uint64) error) (int, error) {
	if _, err := h.live(tx); err != nil {
		return 0, err
	}
	var keys []string
	for k := range h.st.records {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > max {
		keys = keys[:max]
	}
	recs := make([]record, len(keys))
	for i, k := range keys {
		recs[i] = h.st.records[k]
	}
	h.st.mu.Unlock()
	for i, k := range keys {
		if err := fn(k, recs[i].data, recs[i].version); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}

// QueuePush appends a READY item.
func (h *Handle) QueuePush(tx orderly.Txn, q orderly.Queue, in *orderly.QueueItem) (uint64, error) {
	t, err := h.live(tx)
	if err != nil {
		return 0, err
	}
	defer h.st.mu.Unlock()
	qu, err := h.st.queue(q)
	if err != nil {
		return 0, err
	}
	qu.lastID++
	it := &item{id: qu.lastID, group: in.Group, kind: in.Kind, state: orderly.ItemReady,
		payload: append([]byte(nil), in.Payload...), created: ms(in.Created), due: ms(in.Due)}
	qu.items[it.id] = it
	qu.order = append(qu.order, it.id)
	t.undo = append(t.undo, func() { delete(qu.items, it.id) })
	return it.id, nil
}

func pending(s orderly.ItemState) bool { return s == orderly.ItemReady || s == orderly.ItemLeased }

// QueueClaim leases up to max due items in id order, keeping per-group order.
func (h *Handle) QueueClaim(tx orderly.Txn, q orderly.Queue, now time.Time, max int, maxAttempts uint32,
	leaseUntil time.Time, fn func(*orderly.QueueItem) error) (uint64, int, error) {
	t, err := h.live(tx)
	if err != nil {
		return 0, 0, err
	}
	qu, err := h.st.queue(q)
	if err != nil {
		h.st.mu.Unlock()
		return 0, 0, err
	}
	n, until := ms(now), ms(leaseUntil)
	blocked := map[string]bool{}
	var claimed []*orderly.QueueItem
	var token uint64
	for _, id := range qu.order {
		if len(claimed) >= max {
			break
		}
		it := qu.items[id]
		if it == nil || !pending(it.state) {
			continue
		}
		due := (it.state == orderly.ItemReady && it.due <= n) ||
			(it.state == orderly.ItemLeased && it.leaseUntil <= n)
		if it.group != "" && (blocked[it.group] || !due) {
			blocked[it.group] = true
			continue
		}
		if !due {
			continue
		}
		if token == 0 {
			h.st.nextToken++
			token = h.st.nextToken
		}
		from := it.state
		t.change(it)
		it.state, it.leaseToken, it.leaseUntil = orderly.ItemLeased, token, until
		if it.attempts < maxAttempts {
			it.attempts++
		}
		pub := it.public()
		pub.State = from
		claimed = append(claimed, pub)
	}
	h.st.mu.Unlock()
	for i, it := range claimed {
		if err := fn(it); err != nil {
			return token, i, err
		}
	}
	return token, len(claimed), nil
}

// QueueFinish ends a claim fenced by its token.
func (h *Handle) QueueFinish(tx orderly.Txn, q orderly.Queue, id, token uint64, state orderly.ItemState,
	due time.Time, attempts uint32) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	it, err := h.st.find(q, id)
	if err != nil {
		return err
	}
	if it.state != orderly.ItemLeased || it.leaseToken != token {
		return orderly.NewError(orderly.CodeConflict, "stale completion")
	}
	t.change(it)
	it.state, it.due, it.attempts = state, ms(due), attempts
	return nil
}

func (st *Store) find(q orderly.Queue, id uint64) (*item, error) {
	qu, err := st.queue(q)
	if err != nil {
		return nil, err
	}
	it := qu.items[id]
	if it == nil {
		return nil, orderly.NewError(orderly.CodeNotFound, "no such item")
	}
	return it, nil
}

// QueueReset is the operator override of an item's state and due time.
func (h *Handle) QueueReset(tx orderly.Txn, q orderly.Queue, id uint64, state orderly.ItemState, due time.Time) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	it, err := h.st.find(q, id)
	if err != nil {
		return err
	}
	t.change(it)
	it.state, it.due = state, ms(due)
	if state == orderly.ItemReady {
		it.attempts = 0
	}
	return nil
}

// QueueGet passes one item to fn.
func (h *Handle) QueueGet(tx orderly.Txn, q orderly.Queue, id uint64, fn func(*orderly.QueueItem) error) error {
	if _, err := h.live(tx); err != nil {
		return err
	}
	it, err := h.st.find(q, id)
	var pub *orderly.QueueItem
	if err == nil {
		pub = it.public()
	}
	h.st.mu.Unlock()
	if err != nil {
		return err
	}
	return fn(pub)
}

// QueueScan passes up to max items in state (AnyState = all) with id >
// afterID to fn, in id order.
func (h *Handle) QueueScan(tx orderly.Txn, q orderly.Queue, state orderly.ItemState, afterID uint64, max int,
	fn func(*orderly.QueueItem) error) (int, error) {
	if _, err := h.live(tx); err != nil {
		return 0, err
	}
	qu, err := h.st.queue(q)
	if err != nil {
		h.st.mu.Unlock()
		return 0, err
	}
	var out []*orderly.QueueItem
	for _, id := range qu.order {
		if len(out) >= max {
			break
		}
		it := qu.items[id]
		if it != nil && id > afterID && (state == orderly.AnyState || it.state == state) {
			out = append(out, it.public())
		}
	}
	h.st.mu.Unlock()
	for i, it := range out {
		if err := fn(it); err != nil {
			return i, err
		}
	}
	return len(out), nil
}

// QueuePurge deletes up to max DONE items finished at or before before.
func (h *Handle) QueuePurge(tx orderly.Txn, q orderly.Queue, before time.Time, max int) (int, error) {
	t, err := h.live(tx)
	if err != nil {
		return 0, err
	}
	defer h.st.mu.Unlock()
	qu, err := h.st.queue(q)
	if err != nil {
		return 0, err
	}
	b, n := ms(before), 0
	for _, id := range qu.order {
		if n >= max {
			break
		}
		it := qu.items[id]
		if it != nil && it.state == orderly.ItemDone && it.due <= b {
			delete(qu.items, id)
			t.undo = append(t.undo, func() { qu.items[it.id] = it })
			n++
		}
	}
	return n, nil
}

// compact drops purged ids from the order list (at commit, so that no
// undo needs them).
func (qu *queue) compact() {
	if len(qu.order) < 2*len(qu.items)+64 {
		return
	}
	kept := qu.order[:0]
	for _, id := range qu.order {
		if qu.items[id] != nil {
			kept = append(kept, id)
		}
	}
	qu.order = kept
}

// QueueStats counts the queue's items as seen at now.
func (h *Handle) QueueStats(tx orderly.Txn, q orderly.Queue, now time.Time) (orderly.QueueStats, error) {
	var s orderly.QueueStats
	if _, err := h.live(tx); err != nil {
		return s, err
	}
	defer h.st.mu.Unlock()
	qu, err := h.st.queue(q)
	if err != nil {
		return s, err
	}
	n := ms(now)
	var oldest int64
	for _, it := range qu.items {
		switch it.state {
		case orderly.ItemReady:
			s.Ready++
			if it.due <= n {
				s.Due++
			}
		case orderly.ItemLeased:
			if it.leaseUntil > n {
				s.Leased++
			} else {
				s.LeaseExpired++
			}
		case orderly.ItemDone:
			s.Done++
		case orderly.ItemDead:
			s.Dead++
		}
		if pending(it.state) && (oldest == 0 || it.created < oldest) {
			oldest = it.created
		}
	}
	s.OldestPending = at(oldest)
	return s, nil
}

// IdemGet reads the unexpired mark for key.
func (h *Handle) IdemGet(tx orderly.Txn, key string, now time.Time) (orderly.IdemRecord, error) {
	if _, err := h.live(tx); err != nil {
		return orderly.IdemRecord{}, err
	}
	defer h.st.mu.Unlock()
	m, ok := h.st.marks[key]
	if !ok || m.expires <= ms(now) {
		return orderly.IdemRecord{}, orderly.NewError(orderly.CodeNotFound, "no mark "+key)
	}
	return orderly.IdemRecord{Fingerprint: m.fingerprint, Expires: at(m.expires), Result: m.result}, nil
}

// IdemPut inserts a mark unless an unexpired one exists.
func (h *Handle) IdemPut(tx orderly.Txn, key string, now time.Time, rec orderly.IdemRecord) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	prev, ok := h.st.marks[key]
	if ok && prev.expires > ms(now) {
		return orderly.NewError(orderly.CodeExists, "mark "+key+" exists")
	}
	h.st.marks[key] = mark{rec.Fingerprint, ms(rec.Expires), append([]byte(nil), rec.Result...)}
	t.undo = append(t.undo, func() {
		if ok {
			h.st.marks[key] = prev
		} else {
			delete(h.st.marks, key)
		}
	})
	return nil
}

// IdemPurge deletes up to max marks expired at now.
func (h *Handle) IdemPurge(tx orderly.Txn, now time.Time, max int) (int, error) {
	t, err := h.live(tx)
	if err != nil {
		return 0, err
	}
	defer h.st.mu.Unlock()
	n, cut := 0, ms(now)
	for k, m := range h.st.marks {
		if n >= max {
			break
		}
		if m.expires <= cut {
			k, m := k, m
			delete(h.st.marks, k)
			t.undo = append(t.undo, func() { h.st.marks[k] = m })
			n++
		}
	}
	return n, nil
}

var _ orderly.Storage = (*Handle)(nil)
