//go:build cgo

package orderly

import "testing"

// The generated constants and names must be the C library's: this fails
// when a table changed and go generate was not rerun.
func TestGeneratedTablesMatchTheLibrary(t *testing.T) {
	if len(genStateNames) != len(machinePtrs)-1 {
		t.Fatalf("generated %d machines, the library has %d", len(genStateNames), len(machinePtrs)-1)
	}
	for m, names := range genStateNames {
		states, events := cLimits(m)
		if len(names) != states || len(genEventNames[m]) != events {
			t.Fatalf("%v: generated %d states and %d events, the library has %d and %d (run go generate)",
				m, len(names), len(genEventNames[m]), states, events)
		}
		for id, name := range names {
			if got := cStateName(m, id); got != name {
				t.Errorf("%v state %d: generated %q, library %q", m, id, name, got)
			}
		}
		for id, name := range genEventNames[m] {
			if got := cEventName(m, id); got != name {
				t.Errorf("%v event %d: generated %q, library %q", m, id, name, got)
			}
		}
	}
}
