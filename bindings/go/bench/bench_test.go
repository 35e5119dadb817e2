//go:build cgo

// Package bench measures the Go binding against the Go state-machine
// libraries a commerce backend uses today, and the engine through cgo.
// Run: go test -bench . -benchmem (in bindings/go/bench).
package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"github.com/qmuntal/stateless"

	"orderly.dev/go/orderly"
)

// One transition per iteration in each library. The peers hold their
// state, so they walk a cycle (pending -payment_confirmed-> confirmed
// -cancel-> pending); orderly's Next is a pure lookup in the order table
// that takes the state in, so it walks pending -> confirmed -> cancelled
// and starts over. Every call includes orderly's cgo crossing.
func BenchmarkTransition(b *testing.B) {
	b.Run("orderly", func(b *testing.B) {
		s := orderly.OrderPending
		for i := 0; i < b.N; i++ {
			ev := orderly.OrderEvPaymentConfirmed
			if s == orderly.OrderConfirmed {
				ev = orderly.OrderEvCancel
			}
			next, err := orderly.Order.Next(s, ev)
			if err != nil {
				b.Fatal(err)
			}
			s = next
			if s == orderly.OrderCancelled {
				s = orderly.OrderPending
			}
		}
	})
	b.Run("looplab-fsm", func(b *testing.B) {
		f := fsm.NewFSM("pending", fsm.Events{
			{Name: "payment_confirmed", Src: []string{"pending"}, Dst: "confirmed"},
			{Name: "cancel", Src: []string{"confirmed"}, Dst: "pending"},
		}, nil)
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			ev := "payment_confirmed"
			if i%2 == 1 {
				ev = "cancel"
			}
			if err := f.Event(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("qmuntal-stateless", func(b *testing.B) {
		sm := stateless.NewStateMachine("pending")
		sm.Configure("pending").Permit("payment_confirmed", "confirmed")
		sm.Configure("confirmed").Permit("cancel", "pending")
		for i := 0; i < b.N; i++ {
			ev := "payment_confirmed"
			if i%2 == 1 {
				ev = "cancel"
			}
			if err := sm.Fire(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The cost of one cgo crossing: the cheapest call, a table query that does
// almost nothing in C.
func BenchmarkCrossing(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if orderly.Order.IsTerminal(orderly.OrderPending) {
			b.Fatal("pending is not terminal")
		}
	}
}

// lifecycle is bench/lifecycle.h's: create, then these 11 commands, 12
// events per order.
var lifecycle = []orderly.Event{
	orderly.PaymentEvAuthorize, orderly.PaymentEvRequestCapture, orderly.PaymentEvCaptureSucceeded,
	orderly.FulfillmentEvStartPicking, orderly.FulfillmentEvPicked, orderly.FulfillmentEvStartPacking,
	orderly.FulfillmentEvPacked, orderly.FulfillmentEvShip, orderly.ShipmentEvPickUp,
	orderly.ShipmentEvDeliver, orderly.OrderEvComplete,
}

// engineEvents drives b.N engine events (creates and commands, 12 per
// order) through cgo on storage, batch commands per storage transaction
// (1 = no batching), and reports events/s.
func engineEvents(b *testing.B, storage orderly.StorageBackend, batch int) {
	e, err := orderly.Open(orderly.Options{Storage: storage, Transport: orderly.MemoryTransport(false)})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	now := time.UnixMilli(1_700_000_000_000)
	line := []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}}
	var id string
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		if batch > 1 && i%batch == 0 {
			if err := e.BeginBatch(); err != nil {
				b.Fatal(err)
			}
		}
		k := i % 12
		if k == 0 {
			id = fmt.Sprintf("ord-%d", i/12)
			_, err = e.CreateOrder(orderly.OrderSpec{OrderID: id, Currency: "EUR", PaymentMethod: orderly.PayCard,
				Lines: line, Now: now})
		} else {
			cmd := orderly.Command{OrderID: id, Event: lifecycle[k-1], Now: now}
			if k == 1 {
				cmd.Amount = 2500
			}
			_, err = e.Apply(cmd)
		}
		if err != nil {
			b.Fatal(err)
		}
		if batch > 1 && (i%batch == batch-1 || i == b.N-1) {
			if err := e.CommitBatch(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
}

// cpuTime is the process's user and system time: on a machine shared with
// other work, events per CPU second is the rate of one core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The engine on the in-memory storage: what the binding adds to the C
// engine (bench/bench_engine.c measures the same workload in C).
func BenchmarkEngine(b *testing.B) {
	b.Run("unbatched", func(b *testing.B) { engineEvents(b, orderly.MemoryStorage(), 1) })
	b.Run("batch-64", func(b *testing.B) { engineEvents(b, orderly.MemoryStorage(), 64) })
	b.Run("batch-256", func(b *testing.B) { engineEvents(b, orderly.MemoryStorage(), 256) })
}

// The engine on SQLite (synchronous NORMAL), where a commit costs a
// journal write and batching amortises it.
func BenchmarkEngineSQLite(b *testing.B) {
	db := func(b *testing.B) orderly.StorageBackend {
		return orderly.SQLiteStorage(filepath.Join(b.TempDir(), "bench.db"), orderly.SQLiteOptions{Sync: orderly.SyncNormal})
	}
	b.Run("unbatched", func(b *testing.B) { engineEvents(b, db(b), 1) })
	b.Run("batch-64", func(b *testing.B) { engineEvents(b, db(b), 64) })
}
