//go:build cgo

package orderly_test

import (
	"fmt"
	"testing"
	"time"

	"orderly.dev/go/orderly"
)

var t0 = time.UnixMilli(1_700_000_000_000)

// at is t0 plus n seconds: engine tests pass time in, never read a clock.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// lifecycle is the order's happy path after creation: the one bench/
// drives too (bench/lifecycle.h).
var lifecycle = []orderly.Event{
	orderly.PaymentEvAuthorize,
	orderly.PaymentEvRequestCapture,
	orderly.PaymentEvCaptureSucceeded,
	orderly.FulfillmentEvStartPicking,
	orderly.FulfillmentEvPicked,
	orderly.FulfillmentEvStartPacking,
	orderly.FulfillmentEvPacked,
	orderly.FulfillmentEvShip,
	orderly.ShipmentEvPickUp,
	orderly.ShipmentEvDeliver,
	orderly.OrderEvComplete,
}

func spec(id string) orderly.OrderSpec {
	return orderly.OrderSpec{OrderID: id, Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}}, Now: at(0)}
}

// runLifecycle creates an order and drives it to completed.
func runLifecycle(tb testing.TB, e *orderly.Engine, id string) {
	tb.Helper()
	if _, err := e.CreateOrder(spec(id)); err != nil {
		tb.Fatalf("create %s: %v", id, err)
	}
	for k, ev := range lifecycle {
		cmd := orderly.Command{OrderID: id, Event: ev, Now: at(k + 1)}
		if k == 0 {
			cmd.Amount = 2500
		}
		if _, err := e.Apply(cmd); err != nil {
			tb.Fatalf("%s %s.%s: %v", id, ev.Machine(), ev, err)
		}
	}
}

func open(tb testing.TB, opts orderly.Options) *orderly.Engine {
	tb.Helper()
	if opts.Transport == nil {
		opts.Transport = orderly.MemoryTransport(false)
	}
	e, err := orderly.Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

func mustCode(tb testing.TB, err error, want *orderly.Error) *orderly.Error {
	tb.Helper()
	oe, ok := err.(*orderly.Error)
	if !ok {
		tb.Fatalf("got %v (%T), want an *orderly.Error %s", err, err, want.Name)
	}
	if oe.Code != want.Code {
		tb.Fatalf("got %v, want %s", err, want.Name)
	}
	return oe
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ord-%d", i)
	}
	return out
}
