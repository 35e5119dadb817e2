//go:build cgo

// Package conformance runs orderly's storage conformance suite
// (liborderly-conformance, doc/conformance.md) against a Storage written
// in Go, so a Go adapter author gets the same proof a C author gets: the
// contract of every vtable method, and a workload crashed at every storage
// call through a real engine.
package conformance

/*
#cgo pkg-config: orderly-conformance
#include "shim.h"
*/
import "C"

import (
	"errors"
	"io"
	"runtime/cgo"
	"sync"
	"unsafe"

	"orderly.dev/go/orderly"
)

// Target says how the suite reaches one kind of store.
type Target struct {
	Name string // shown in the report

	// Open opens a handle on the store, creating it when absent; what
	// earlier handles committed is there.
	Open func() (orderly.Storage, error)
	// Crash simulates the process dying with s open: every transaction
	// open on s is lost, every commit survives; s stays usable, and a
	// transaction lost this way may still be passed to Rollback.
	Crash func(s orderly.Storage) error
	// Close releases a handle with no transaction open.
	Close func(s orderly.Storage)
	// Reset wipes the store to empty, with no handle open.
	Reset func() error
}

// Parts selects what runs.
type Parts uint

// The suite's parts.
const (
	Contract Parts = C.ORDERLY_CONFORMANCE_CONTRACT // one case per rule of the vtable
	Crash    Parts = C.ORDERLY_CONFORMANCE_CRASH    // the crashed workload
	All      Parts = C.ORDERLY_CONFORMANCE_ALL
)

// Options narrow a run; the zero value runs everything.
type Options struct {
	Parts         Parts
	Filter        string // only tests whose name contains this
	KnownFailures string // comma-separated test names reported as TODO
}

type handle struct {
	s    orderly.Storage
	free func()
}

type run struct {
	t       Target
	mu      sync.Mutex
	handles map[unsafe.Pointer]handle // the suite's open handles, by vtable
}

// Run runs the suite and writes its TAP report to report. It returns the
// number of failed tests (0: the adapter conforms). The suite is not
// thread-safe: run one at a time.
func Run(t Target, opts Options, report io.Writer) (int, error) {
	if t.Open == nil || t.Crash == nil || t.Close == nil || t.Reset == nil {
		return 0, errors.New("conformance: Target needs Open, Crash, Close and Reset")
	}
	r := &run{t: t, handles: map[unsafe.Pointer]handle{}}
	h := cgo.NewHandle(r)
	defer h.Delete()
	name := C.CString(t.Name)
	defer C.free(unsafe.Pointer(name))
	var filter, known *C.char
	if opts.Filter != "" {
		filter = C.CString(opts.Filter)
		defer C.free(unsafe.Pointer(filter))
	}
	if opts.KnownFailures != "" {
		known = C.CString(opts.KnownFailures)
		defer C.free(unsafe.Pointer(known))
	}
	var out *C.char
	var n C.size_t
	failures := C.orderly_go_conformance_run(C.uintptr_t(h), name, C.uint(opts.Parts), filter, known, &out, &n)
	if out != nil {
		_, werr := report.Write(C.GoBytes(unsafe.Pointer(out), C.int(n)))
		C.free(unsafe.Pointer(out))
		if werr != nil {
			return 0, werr
		}
	}
	if failures < 0 {
		return 0, orderly.NewError(orderly.Code(failures), "the suite could not run")
	}
	return int(failures), nil
}

func runOf(h C.uintptr_t) *run { return cgo.Handle(h).Value().(*run) }

func code(err error) C.int {
	var e *orderly.Error
	if errors.As(err, &e) {
		return C.int(e.Code)
	}
	return C.int(orderly.CodeUser)
}

//export goConfOpen
func goConfOpen(h C.uintptr_t, out **C.orderly_storage) C.int {
	r := runOf(h)
	s, err := r.t.Open()
	if err != nil {
		return code(err)
	}
	vt, free, err := orderly.CStorage(s)
	if err != nil {
		r.t.Close(s)
		return code(err)
	}
	r.mu.Lock()
	r.handles[vt] = handle{s, free}
	r.mu.Unlock()
	*out = (*C.orderly_storage)(vt)
	return 0
}

func (r *run) get(s *C.orderly_storage) handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handles[unsafe.Pointer(s)]
}

//export goConfCrash
func goConfCrash(h C.uintptr_t, s *C.orderly_storage) C.int {
	r := runOf(h)
	if err := r.t.Crash(r.get(s).s); err != nil {
		return code(err)
	}
	return 0
}

//export goConfClose
func goConfClose(h C.uintptr_t, s *C.orderly_storage) {
	r := runOf(h)
	hd := r.get(s)
	r.mu.Lock()
	delete(r.handles, unsafe.Pointer(s))
	r.mu.Unlock()
	r.t.Close(hd.s)
	hd.free()
}

//export goConfReset
func goConfReset(h C.uintptr_t) C.int {
	if err := runOf(h).t.Reset(); err != nil {
		return code(err)
	}
	return 0
}
