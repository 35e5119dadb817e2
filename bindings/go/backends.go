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

// attached is a storage or transport vtable ready for an engine: release
// runs after the engine closed (or failed to open), and bridge is set for
// Go-written adapters.
type attached struct {
	storage   *C.orderly_storage
	transport *C.orderly_transport
	bridge    *adapterBridge
	release   func()
	orphan    func() // frees a Go adapter's vtable the engine never took
}

// StorageBackend is where an engine keeps its state: MemoryStorage,
// SQLiteStorage, or GoStorage for a Storage written in Go.
type StorageBackend interface {
	attachStorage() (attached, error)
}

// TransportBackend is where an engine publishes: MemoryTransport, or
// GoTransport for a Transport written in Go (ChannelTransport, ...).
type TransportBackend interface {
	attachTransport() (attached, error)
}

type memoryStorage struct{}

// MemoryStorage is the shipped in-memory storage, fresh for each engine
// opened with it (for tests and benchmarks: nothing survives Close).
func MemoryStorage() StorageBackend { return memoryStorage{} }

func (memoryStorage) attachStorage() (attached, error) {
	var s *C.orderly_storage
	if rc := C.orderly_memory_storage_new(&s, nil); rc < 0 {
		return attached{}, NewError(Code(rc), "memory storage")
	}
	return attached{storage: s, release: func() { C.orderly_memory_storage_free(s) }}, nil
}

// Sync is SQLite's durability level.
type Sync int

// The durability levels of orderly/sys/sqlite.h.
const (
	SyncFull   Sync = C.ORDERLY_SQLITE_SYNC_FULL   // a commit survives a power cut
	SyncNormal Sync = C.ORDERLY_SQLITE_SYNC_NORMAL // a commit survives a process kill
)

// SQLiteOptions are the shipped SQLite storage's options; the zero value
// is the C defaults (create the file, 5 s busy timeout, SyncFull).
type SQLiteOptions struct {
	NoCreate    bool          // fail with ErrNotFound when the file is missing
	BusyTimeout time.Duration // 0 = 5 s
	Sync        Sync
	ReadOnly    bool // inspection only: every write fails with ErrMisuse
}

type sqliteStorage struct {
	path string
	opts SQLiteOptions
}

// SQLiteStorage is the shipped SQLite storage (liborderly-sqlite) on the
// database file at path, opened when the engine opens and closed after it.
func SQLiteStorage(path string, opts SQLiteOptions) StorageBackend {
	return sqliteStorage{path, opts}
}

func (s sqliteStorage) attachStorage() (attached, error) {
	o := C.orderly_sqlite_options{version: C.ORDERLY_SQLITE_OPTIONS_VERSION, create: 1,
		busy_timeout_ms: 5000, synchronous: C.int(s.opts.Sync)}
	if s.opts.NoCreate {
		o.create = 0
	}
	if s.opts.BusyTimeout > 0 {
		o.busy_timeout_ms = C.int(s.opts.BusyTimeout / time.Millisecond)
	}
	if s.opts.ReadOnly {
		o.read_only = 1
	}
	var ctx *C.orderly_ctx
	if rc := C.orderly_ctx_new(&ctx, nil); rc < 0 {
		return attached{}, NewError(Code(rc), "context")
	}
	defer C.orderly_ctx_free(ctx)
	path := C.CString(s.path)
	defer C.free(unsafe.Pointer(path))
	var st *C.orderly_storage
	if rc := C.orderly_sqlite_storage_open(&st, path, &o, ctx); rc < 0 {
		return attached{}, ctxError(Code(rc), ctx)
	}
	return attached{storage: st, release: func() { C.orderly_sqlite_storage_close(st) }}, nil
}

type goStorage struct{ s Storage }

// GoStorage gives an engine a Storage written in Go.
func GoStorage(s Storage) StorageBackend { return goStorage{s} }

func (g goStorage) attachStorage() (attached, error) {
	b := &storageBridge{s: g.s}
	optional := 0
	if hs, ok := g.s.(HistoryStorage); ok {
		b.history = hs
		optional |= C.ORDERLY_GO_HISTORY
	}
	if rs, ok := g.s.(ReadTxnStorage); ok {
		b.read = rs
		optional |= C.ORDERLY_GO_BEGIN_READ
	}
	if ns, ok := g.s.(NextDueStorage); ok {
		b.nextDue = ns
		optional |= C.ORDERLY_GO_NEXT_DUE
	}
	h := cgo.NewHandle(b)
	st := C.orderly_go_storage_new(C.uintptr_t(h), C.int(optional))
	if st == nil {
		h.Delete()
		return attached{}, sentinel(CodeNoMem)
	}
	// The engine's close calls destroy, which frees st and the handle.
	return attached{storage: st, bridge: &b.adapterBridge, orphan: func() {
		if !b.destroyed {
			C.orderly_go_storage_free(st)
		}
	}}, nil
}

type memoryTransport struct{ keep bool }

// MemoryTransport is the shipped in-memory transport: every publish is
// accepted, and kept in memory only when keep is true (a bench or a test
// that only counts wants false).
func MemoryTransport(keep bool) TransportBackend { return memoryTransport{keep} }

func (m memoryTransport) attachTransport() (attached, error) {
	var t *C.orderly_transport
	if rc := C.orderly_memory_transport_new(&t, nil); rc < 0 {
		return attached{}, NewError(Code(rc), "memory transport")
	}
	if !m.keep {
		C.orderly_memory_transport_keep(t, 0)
	}
	return attached{transport: t, release: func() { C.orderly_memory_transport_free(t) }}, nil
}

type goTransport struct{ t Transport }

// GoTransport gives an engine a Transport written in Go.
func GoTransport(t Transport) TransportBackend { return goTransport{t} }

func (g goTransport) attachTransport() (attached, error) {
	b := &transportBridge{t: g.t}
	h := cgo.NewHandle(b)
	t := C.orderly_go_transport_new(C.uintptr_t(h))
	if t == nil {
		h.Delete()
		return attached{}, sentinel(CodeNoMem)
	}
	return attached{transport: t, bridge: &b.adapterBridge, orphan: func() {
		if !b.destroyed {
			C.orderly_go_transport_free(t)
		}
	}}, nil
}

// CStorage wraps s in a C orderly_storage vtable, for C code that takes
// one (the conformance package, a C host linked into the same program).
// free releases the vtable; do not call it once an engine took the
// vtable, since the engine's close releases it through destroy.
func CStorage(s Storage) (vtable unsafe.Pointer, free func(), err error) {
	a, err := goStorage{s}.attachStorage()
	if err != nil {
		return nil, nil, err
	}
	return unsafe.Pointer(a.storage), a.orphan, nil
}
