//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"time"
	"unsafe"
)

// adapterBridge keeps what a Go adapter failed with, so the engine call
// that saw the code can return the Go error itself.
type adapterBridge struct {
	kept      error
	destroyed bool // the vtable's destroy ran: its handle is gone
}

// fail records err for the core: its code, its message and its Native
// code (when it is an *Error) in ctx, and err itself on the Go side.
func (b *adapterBridge) fail(ctx *C.orderly_ctx, err error) C.int {
	code := codeOf(err)
	b.kept = err
	msg := C.CString(err.Error())
	defer C.free(unsafe.Pointer(msg))
	var native int64
	var oe *Error
	if errors.As(err, &oe) {
		native = oe.Native
	}
	return C.orderly_ctx_set_error(ctx, C.int(code), C.int64_t(native), msg)
}

// result is fail for a non-nil error, 0 otherwise.
func (b *adapterBridge) result(ctx *C.orderly_ctx, err error) C.int {
	if err != nil {
		return b.fail(ctx, err)
	}
	return 0
}

// recover turns a panic in a Go adapter into CodeUser, so that it never
// unwinds through C. Deferred by every trampoline.
func (b *adapterBridge) recover(ctx *C.orderly_ctx, rc *C.int) {
	if p := recover(); p != nil {
		*rc = b.fail(ctx, &Error{Code: CodeUser, Name: CodeUser.Name(),
			Message: fmt.Sprint("panic in Go adapter: ", p), Err: fmt.Errorf("panic: %v", p)})
	}
}

// take returns and forgets the kept error when it explains code.
func (b *adapterBridge) take(code Code) error {
	err := b.kept
	b.kept = nil
	if err != nil && codeOf(err) == code {
		return err
	}
	return nil
}

type storageBridge struct {
	adapterBridge
	s       Storage
	history HistoryStorage // the optional version 3 methods, nil when absent
	read    ReadTxnStorage
	nextDue NextDueStorage
}

type transportBridge struct {
	adapterBridge
	t Transport
}

func storageOf(h C.uintptr_t) *storageBridge { return cgo.Handle(h).Value().(*storageBridge) }

func txnOf(h C.uintptr_t) Txn { return cgo.Handle(h).Value().(txnBox).tx }

// txnBox lets a nil Txn live in a handle.
type txnBox struct{ tx Txn }

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// borrowed views C memory as a slice for the duration of a call.
func borrowed(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

func bufSet(buf *C.orderly_buf, data []byte) C.int {
	if len(data) == 0 {
		return C.orderly_buf_set(buf, nil, 0)
	}
	return C.orderly_buf_set(buf, (*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)))
}

func itemFromC(it *C.orderly_queue_item) *QueueItem {
	return &QueueItem{
		ID: uint64(it.id), Group: goString(it.group), Kind: uint32(it.kind),
		State: ItemState(it.state), Attempts: uint32(it.attempts),
		Payload: borrowed(it.payload, it.payload_len), Created: fromMS(it.created),
		Due: fromMS(it.due), LeaseToken: uint64(it.lease_token), LeaseUntil: fromMS(it.lease_until),
	}
}

func tms(t time.Time) C.orderly_time_ms {
	if t.IsZero() {
		return 0
	}
	return C.orderly_time_ms(t.UnixMilli())
}

// itemCallback calls the core's callback with a C copy of a Go item.
func itemCallback(cb C.orderly_item_cb, ud unsafe.Pointer) func(*QueueItem) error {
	return func(item *QueueItem) error {
		group := C.CString(item.Group)
		defer C.free(unsafe.Pointer(group))
		var payload unsafe.Pointer
		if len(item.Payload) > 0 {
			payload = C.CBytes(item.Payload)
			defer C.free(payload)
		}
		c := (*C.orderly_queue_item)(C.calloc(1, C.sizeof_orderly_queue_item))
		defer C.free(unsafe.Pointer(c))
		c.id = C.uint64_t(item.ID)
		c.group = group
		c.kind = C.uint32_t(item.Kind)
		c.state = C.uint32_t(item.State)
		c.attempts = C.uint32_t(item.Attempts)
		c.payload = (*C.uint8_t)(payload)
		c.payload_len = C.size_t(len(item.Payload))
		c.created = tms(item.Created)
		c.due = tms(item.Due)
		c.lease_token = C.uint64_t(item.LeaseToken)
		c.lease_until = tms(item.LeaseUntil)
		if rc := C.orderly_go_item_cb(cb, c, ud); rc < 0 {
			return NewError(Code(rc), "stopped by the core's callback")
		}
		return nil
	}
}

// historyCallback calls the core's callback with a C copy of a Go item.
func historyCallback(cb C.orderly_history_cb, ud unsafe.Pointer) func(*HistoryItem) error {
	return func(item *HistoryItem) error {
		group := C.CString(item.Group)
		defer C.free(unsafe.Pointer(group))
		var payload unsafe.Pointer
		if len(item.Payload) > 0 {
			payload = C.CBytes(item.Payload)
			defer C.free(payload)
		}
		c := (*C.orderly_history_item)(C.calloc(1, C.sizeof_orderly_history_item))
		defer C.free(unsafe.Pointer(c))
		c.group = group
		c.seq = C.uint32_t(item.Seq)
		c.kind = C.uint32_t(item.Kind)
		c.payload = (*C.uint8_t)(payload)
		c.payload_len = C.size_t(len(item.Payload))
		c.created = tms(item.Created)
		if rc := C.orderly_go_history_cb(cb, c, ud); rc < 0 {
			return NewError(Code(rc), "stopped by the core's callback")
		}
		return nil
	}
}

func recordCallback(cb C.orderly_record_cb, ud unsafe.Pointer) func(string, []byte, uint64) error {
	return func(key string, data []byte, version uint64) error {
		k := C.CString(key)
		defer C.free(unsafe.Pointer(k))
		var p unsafe.Pointer
		if len(data) > 0 {
			p = C.CBytes(data)
			defer C.free(p)
		}
		if rc := C.orderly_go_record_cb(cb, k, (*C.uint8_t)(p), C.size_t(len(data)), C.uint64_t(version), ud); rc < 0 {
			return NewError(Code(rc), "stopped by the core's callback")
		}
		return nil
	}
}

func count(b *adapterBridge, ctx *C.orderly_ctx, n int, err error) C.int {
	if err != nil {
		return b.fail(ctx, err)
	}
	return C.int(n)
}
