//go:build cgo

package memstore_test

import (
	"bytes"
	"testing"

	"orderly.dev/go/orderly"
	"orderly.dev/go/orderly/conformance"
	"orderly.dev/go/orderly/memstore"
)

// The storage conformance suite holds the Go-written store to the same
// contract as the C adapters, crash workload included.
func TestConformance(t *testing.T) {
	st := memstore.New()
	target := conformance.Target{
		Name:  "memstore",
		Open:  func() (orderly.Storage, error) { return st.Open(), nil },
		Crash: func(s orderly.Storage) error { s.(*memstore.Handle).Crash(); return nil },
		Close: func(s orderly.Storage) {},
		Reset: func() error { st.Reset(); return nil },
	}
	var report bytes.Buffer
	failures, err := conformance.Run(target, conformance.Options{}, &report)
	if err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Fatalf("%d conformance failures:\n%s", failures, report.String())
	}
	if !bytes.Contains(report.Bytes(), []byte("ok 1 - ")) || !bytes.Contains(report.Bytes(), []byte("crash")) {
		t.Fatalf("no TAP report of both parts:\n%s", report.String())
	}
	t.Logf("%d TAP lines, the last: %s", bytes.Count(report.Bytes(), []byte("\n")),
		bytes.TrimSpace(report.Bytes()[bytes.LastIndexByte(bytes.TrimSpace(report.Bytes()), '\n')+1:]))
}
