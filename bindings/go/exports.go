//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// The trampolines shim.c's vtables and callbacks call. Each recovers a
// panic of the Go code it calls, so none unwinds through C.

//export goStorageBegin
func goStorageBegin(h C.uintptr_t, ctx *C.orderly_ctx, txn *C.uintptr_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	tx, err := b.s.Begin()
	if err != nil {
		return b.fail(ctx, err)
	}
	*txn = C.uintptr_t(cgo.NewHandle(txnBox{tx}))
	return 0
}

//export goStorageCommit
func goStorageCommit(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t) (rc C.int) {
	b := storageOf(h)
	defer cgo.Handle(txn).Delete()
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.s.Commit(txnOf(txn)))
}

//export goStorageRollback
func goStorageRollback(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t) {
	var rc C.int
	b := storageOf(h)
	defer cgo.Handle(txn).Delete()
	defer b.recover(ctx, &rc)
	b.s.Rollback(txnOf(txn))
}

//export goStorageLoad
func goStorageLoad(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, key *C.char, out *C.orderly_buf, version *C.uint64_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	data, v, err := b.s.Load(txnOf(txn), C.GoString(key))
	if err != nil {
		return b.fail(ctx, err)
	}
	if version != nil {
		*version = C.uint64_t(v)
	}
	return bufSet(out, data)
}

//export goStorageSave
func goStorageSave(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, key *C.char, data *C.uint8_t, n C.size_t, expected C.uint64_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.s.Save(txnOf(txn), C.GoString(key), borrowed(data, n), uint64(expected)))
}

//export goStorageScan
func goStorageScan(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, after *C.char, max C.size_t, cb C.orderly_record_cb, ud unsafe.Pointer) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	n, err := b.s.Scan(txnOf(txn), goString(after), int(max), recordCallback(cb, ud))
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageQueuePush
func goStorageQueuePush(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, item *C.orderly_queue_item, id *C.uint64_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	v, err := b.s.QueuePush(txnOf(txn), Queue(q), itemFromC(item))
	if err != nil {
		return b.fail(ctx, err)
	}
	if id != nil {
		*id = C.uint64_t(v)
	}
	return 0
}

//export goStorageQueueClaim
func goStorageQueueClaim(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, now C.int64_t, max C.size_t, maxAttempts C.uint32_t, leaseUntil C.int64_t, token *C.uint64_t, cb C.orderly_item_cb, ud unsafe.Pointer) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	tok, n, err := b.s.QueueClaim(txnOf(txn), Queue(q), fromMS(C.orderly_time_ms(now)), int(max),
		uint32(maxAttempts), fromMS(C.orderly_time_ms(leaseUntil)), itemCallback(cb, ud))
	if token != nil {
		*token = C.uint64_t(tok)
	}
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageQueueFinish
func goStorageQueueFinish(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, id, token C.uint64_t, state C.int, due C.int64_t, attempts C.uint32_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.s.QueueFinish(txnOf(txn), Queue(q), uint64(id), uint64(token),
		ItemState(state), fromMS(C.orderly_time_ms(due)), uint32(attempts)))
}

//export goStorageQueueReset
func goStorageQueueReset(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, id C.uint64_t, state C.int, due C.int64_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.s.QueueReset(txnOf(txn), Queue(q), uint64(id), ItemState(state),
		fromMS(C.orderly_time_ms(due))))
}

//export goStorageQueueGet
func goStorageQueueGet(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, id C.uint64_t, cb C.orderly_item_cb, ud unsafe.Pointer) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.s.QueueGet(txnOf(txn), Queue(q), uint64(id), itemCallback(cb, ud)))
}

//export goStorageQueueScan
func goStorageQueueScan(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q, state C.int, after C.uint64_t, max C.size_t, cb C.orderly_item_cb, ud unsafe.Pointer) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	n, err := b.s.QueueScan(txnOf(txn), Queue(q), ItemState(state), uint64(after), int(max), itemCallback(cb, ud))
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageQueuePurge
func goStorageQueuePurge(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, before C.int64_t, max C.size_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	n, err := b.s.QueuePurge(txnOf(txn), Queue(q), fromMS(C.orderly_time_ms(before)), int(max))
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageQueueStats
func goStorageQueueStats(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, now C.int64_t, out *C.orderly_queue_stats) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	st, err := b.s.QueueStats(txnOf(txn), Queue(q), fromMS(C.orderly_time_ms(now)))
	if err != nil {
		return b.fail(ctx, err)
	}
	out.ready = C.uint64_t(st.Ready)
	out.due = C.uint64_t(st.Due)
	out.leased = C.uint64_t(st.Leased)
	out.lease_expired = C.uint64_t(st.LeaseExpired)
	out.done = C.uint64_t(st.Done)
	out.dead = C.uint64_t(st.Dead)
	out.oldest_pending = tms(st.OldestPending)
	return 0
}

//export goStorageIdemGet
func goStorageIdemGet(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, key *C.char, now C.int64_t, out *C.orderly_idem_record, result *C.orderly_buf) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	rec, err := b.s.IdemGet(txnOf(txn), C.GoString(key), fromMS(C.orderly_time_ms(now)))
	if err != nil {
		return b.fail(ctx, err)
	}
	if rc := bufSet(result, rec.Result); rc < 0 {
		return rc
	}
	for i, v := range rec.Fingerprint {
		out.fingerprint[i] = C.uint8_t(v)
	}
	out.expires = tms(rec.Expires)
	out.result = C.orderly_buf_data(result)
	out.result_len = C.size_t(len(rec.Result))
	return 0
}

//export goStorageIdemPut
func goStorageIdemPut(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, key *C.char, now C.int64_t, rec *C.orderly_idem_record) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	r := IdemRecord{Expires: fromMS(rec.expires), Result: borrowed(rec.result, rec.result_len)}
	for i := range r.Fingerprint {
		r.Fingerprint[i] = byte(rec.fingerprint[i])
	}
	return b.result(ctx, b.s.IdemPut(txnOf(txn), C.GoString(key), fromMS(C.orderly_time_ms(now)), r))
}

//export goStorageIdemPurge
func goStorageIdemPurge(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, now C.int64_t, max C.size_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	n, err := b.s.IdemPurge(txnOf(txn), fromMS(C.orderly_time_ms(now)), int(max))
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageBeginRead
func goStorageBeginRead(h C.uintptr_t, ctx *C.orderly_ctx, txn *C.uintptr_t) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	tx, err := b.read.BeginRead()
	if err != nil {
		return b.fail(ctx, err)
	}
	*txn = C.uintptr_t(cgo.NewHandle(txnBox{tx}))
	return 0
}

//export goStorageHistoryAppend
func goStorageHistoryAppend(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, item *C.orderly_history_item) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	return b.result(ctx, b.history.HistoryAppend(txnOf(txn), &HistoryItem{
		Group: goString(item.group), Seq: uint32(item.seq), Kind: uint32(item.kind),
		Payload: borrowed(item.payload, item.payload_len), Created: fromMS(item.created)}))
}

//export goStorageHistoryScan
func goStorageHistoryScan(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, group *C.char, from C.uint32_t, max C.size_t, cb C.orderly_history_cb, ud unsafe.Pointer) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	n, err := b.history.HistoryScan(txnOf(txn), goString(group), uint32(from), int(max), historyCallback(cb, ud))
	return count(&b.adapterBridge, ctx, n, err)
}

//export goStorageQueueNextDue
func goStorageQueueNextDue(h C.uintptr_t, ctx *C.orderly_ctx, txn C.uintptr_t, q C.int, due *C.orderly_time_ms) (rc C.int) {
	b := storageOf(h)
	defer b.recover(ctx, &rc)
	at, ok, err := b.nextDue.QueueNextDue(txnOf(txn), Queue(q))
	if err != nil {
		return b.fail(ctx, err)
	}
	if !ok {
		return b.fail(ctx, NewError(CodeNotFound, "nothing pending"))
	}
	*due = tms(at)
	return 0
}

//export goHistoryEntry
func goHistoryEntry(h C.uintptr_t, v *C.orderly_history_entry) C.int {
	rows := cgo.Handle(h).Value().(*[]HistoryEntry)
	*rows = append(*rows, historyEntryFromC(v))
	return 0
}

//export goStorageDestroy
func goStorageDestroy(h C.uintptr_t) {
	b := storageOf(h)
	b.destroyed = true
	cgo.Handle(h).Delete()
	closeAdapter(b.s)
}

//export goTransportPublish
func goTransportPublish(h C.uintptr_t, ctx *C.orderly_ctx, topic, key *C.char, data *C.uint8_t, n C.size_t, headers *C.orderly_header, nh C.size_t) (rc C.int) {
	b := cgo.Handle(h).Value().(*transportBridge)
	defer b.recover(ctx, &rc)
	var hs []Header
	if nh > 0 {
		for _, hd := range unsafe.Slice(headers, int(nh)) {
			hs = append(hs, Header{Name: goString(hd.name), Value: goString(hd.value)})
		}
	}
	return b.result(ctx, b.t.Publish(C.GoString(topic), C.GoString(key), borrowed(data, n), hs))
}

//export goTransportDestroy
func goTransportDestroy(h C.uintptr_t) {
	b := cgo.Handle(h).Value().(*transportBridge)
	b.destroyed = true
	cgo.Handle(h).Delete()
	closeAdapter(b.t)
}

// closeAdapter calls an adapter's Close method, if it has one, when the
// engine lets go of it; a panic there is dropped rather than unwinding
// through C (Close has nowhere to report it).
func closeAdapter(a interface{}) {
	if c, ok := a.(interface{ Close() error }); ok {
		defer func() { _ = recover() }()
		_ = c.Close()
	}
}

func callbacksOf(h C.uintptr_t) *callbacks { return cgo.Handle(h).Value().(*callbacks) }

//export goEngineWork
func goEngineWork(h C.uintptr_t, n C.size_t) {
	e := callbacksOf(h)
	defer e.recoverCallback()
	e.opts.OnWork(int(n))
}

//export goEngineAlert
func goEngineAlert(h C.uintptr_t, a *C.orderly_alert) {
	e := callbacksOf(h)
	defer e.recoverCallback()
	e.opts.OnAlert(Alert{Kind: AlertKind(a.kind), Queue: Queue(a.queue), ItemID: uint64(a.item_id),
		Group: goString(a.group), Message: goString(a.message)})
}

//export goEngineClock
func goEngineClock(h C.uintptr_t) (now C.int64_t) {
	e := callbacksOf(h)
	defer e.recoverCallback()
	return C.int64_t(e.opts.Clock().UnixMilli())
}

//export goExecutor
func goExecutor(h C.uintptr_t, op *C.orderly_operation_view) (rc C.int) {
	e := callbacksOf(h)
	defer func() {
		if p := recover(); p != nil {
			rc = C.int(CodeUser)
		}
	}()
	fn := e.executors[int(op.op)]
	if fn == nil {
		return C.int(CodeNotFound)
	}
	if err := fn(operationFromC(op)); err != nil {
		return C.int(codeOf(err))
	}
	return 0
}

//export goOutboxRow
func goOutboxRow(h C.uintptr_t, row *C.orderly_outbox_view) C.int {
	rows := cgo.Handle(h).Value().(*[]OutboxRow)
	*rows = append(*rows, OutboxRow{
		ID: uint64(row.id), OrderID: goString(row.order_id), Type: goString(row._type),
		Topic: goString(row.topic), EventID: goString(row.event_id), State: ItemState(row.state),
		Attempts: uint32(row.attempts), Created: fromMS(row.created), Due: fromMS(row.due),
	})
	return 0
}

//export goOperationRow
func goOperationRow(h C.uintptr_t, op *C.orderly_operation_view) C.int {
	ops := cgo.Handle(h).Value().(*[]Operation)
	*ops = append(*ops, operationFromC(op))
	return 0
}

//export goMetric
func goMetric(h C.uintptr_t, name *C.char, v C.double) {
	m := cgo.Handle(h).Value().(map[string]float64)
	m[C.GoString(name)] = float64(v)
}

//export goWrite
func goWrite(h C.uintptr_t, data *C.char, n C.size_t) C.int {
	w := cgo.Handle(h).Value().(interface{ Write([]byte) (int, error) })
	if _, err := w.Write(borrowed((*C.uint8_t)(unsafe.Pointer(data)), n)); err != nil {
		return C.int(CodeError)
	}
	return 0
}
