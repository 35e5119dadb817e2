//go:build cgo

package orderly_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"orderly.dev/go/orderly"
	"orderly.dev/go/orderly/memstore"
)

// Ask a machine what an event does, and why it refuses one.
func ExampleMachine_Next() {
	next, err := orderly.Order.Next(orderly.OrderPending, orderly.OrderEvPaymentConfirmed)
	fmt.Println(next, err)

	_, err = orderly.Order.Next(orderly.OrderCompleted, orderly.OrderEvCancel)
	fmt.Println(errors.Is(err, orderly.ErrTransition))
	fmt.Println(err)
	// Output:
	// confirmed <nil>
	// true
	// orderly: ORDERLY_ETRANSITION: event 'cancel' is not allowed in state 'completed' of machine 'order'
}

// Export a machine as a diagram, from the tables the engine runs.
func ExampleMachine_Export() {
	out, _ := orderly.Shipment.Export(orderly.Mermaid)
	fmt.Println(strings.SplitN(out, "\n", 2)[0])
	// Output: stateDiagram-v2
}

// An order's whole life on the in-memory storage, its events published
// to a Go channel.
func ExampleOpen() {
	events := make(chan orderly.Message, 100)
	e, err := orderly.Open(orderly.Options{
		Transport: orderly.GoTransport(orderly.ChannelTransport(events)),
	})
	if err != nil {
		panic(err)
	}
	defer e.Close()

	now := time.UnixMilli(1_700_000_000_000)
	_, err = e.CreateOrder(orderly.OrderSpec{OrderID: "ord-1", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}}, Now: now})
	if err != nil {
		panic(err)
	}
	r, _ := e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.PaymentEvAuthorize, Amount: 2500, Now: now})
	fmt.Println("payment:", orderly.PaymentState(r.From), "->", orderly.PaymentState(r.To), "order:", r.OrderState)

	n, _ := e.Pump(now, 0)
	fmt.Println("published", n, "first:", (<-events).Topic)
	// Output:
	// payment: pending -> authorized order: confirmed
	// published 7 first: orderly.order
}

// Group commands into one storage transaction: committed when the
// function returns nil, rolled back otherwise.
func ExampleEngine_Batch() {
	e, _ := orderly.Open(orderly.Options{Transport: orderly.MemoryTransport(false)})
	defer e.Close()
	err := e.Batch(func() error {
		for _, id := range []string{"a", "b", "c"} {
			if _, err := e.CreateOrder(orderly.OrderSpec{OrderID: id, Currency: "EUR", PaymentMethod: orderly.PayCOD,
				Lines: []orderly.Line{{SKU: 1, Warehouse: 1, Quantity: 1, UnitPrice: 100}}}); err != nil {
				return err
			}
		}
		return nil
	})
	v, _ := e.GetOrder("c")
	fmt.Println(err, v.OrderState, v.PaymentState)
	// Output: <nil> pending cod_pending
}

// The shipped SQLite storage, by name: the state survives the engine.
func ExampleSQLiteStorage() {
	dir, _ := os.MkdirTemp("", "orderly")
	defer os.RemoveAll(dir)
	db := orderly.SQLiteStorage(filepath.Join(dir, "orders.db"), orderly.SQLiteOptions{})

	e, _ := orderly.Open(orderly.Options{Storage: db, Transport: orderly.MemoryTransport(false)})
	_, _ = e.CreateOrder(orderly.OrderSpec{OrderID: "ord-1", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 1, UnitPrice: 999}}})
	_ = e.Close()

	e, _ = orderly.Open(orderly.Options{Storage: db, Transport: orderly.MemoryTransport(false)})
	defer e.Close()
	v, err := e.GetOrder("ord-1")
	fmt.Println(v.OrderState, v.Total, err)
	// Output: pending 999 <nil>
}

// A storage written in Go: memstore is one, and any orderly.Storage
// plugs in the same way.
func ExampleGoStorage() {
	store := memstore.New()
	e, _ := orderly.Open(orderly.Options{
		Storage:   orderly.GoStorage(store.Open()),
		Transport: orderly.MemoryTransport(false),
	})
	defer e.Close()
	r, err := e.CreateOrder(orderly.OrderSpec{OrderID: "ord-1", Currency: "USD", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 7, Warehouse: 1, Quantity: 3, UnitPrice: 500}}})
	fmt.Println(r.OrderState, r.OutboxRows > 0, err)
	// Output: pending true <nil>
}

// Errors carry the code, a message, and whether a retry may help.
func ExampleError() {
	e, _ := orderly.Open(orderly.Options{Transport: orderly.MemoryTransport(false)})
	defer e.Close()
	_, err := e.CancelOrder("no-such-order", "", time.Time{})
	var oe *orderly.Error
	if errors.As(err, &oe) {
		fmt.Println(oe.Name, errors.Is(err, orderly.ErrNotFound), oe.Temporary())
	}
	// Output: ORDERLY_ENOTFOUND true false
}

// A return names the units that came back; the order's history lists
// every event it published.
func ExampleEngine_OpenReturn() {
	e, _ := orderly.Open(orderly.Options{Transport: orderly.MemoryTransport(false)})
	defer e.Close()
	now := time.UnixMilli(1_700_000_000_000)
	_, _ = e.CreateOrder(orderly.OrderSpec{OrderID: "ord-1", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}}, Now: now})
	for _, ev := range []orderly.Event{orderly.PaymentEvAuthorize, orderly.PaymentEvRequestCapture,
		orderly.PaymentEvCaptureSucceeded, orderly.FulfillmentEvStartPicking, orderly.FulfillmentEvPicked,
		orderly.FulfillmentEvStartPacking, orderly.FulfillmentEvPacked, orderly.FulfillmentEvShip,
		orderly.ShipmentEvPickUp, orderly.ShipmentEvDeliver} {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: ev, Amount: 2500, Now: now}); err != nil {
			panic(err)
		}
	}

	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-1",
		Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, Adjustment: -250, Now: now})
	if err != nil {
		panic(err)
	}
	ret, _ := e.GetPart("ord-1", orderly.MachineReturn, idx)
	fmt.Println("return", idx, "of", ret.Quantity, "unit, refunding", ret.Amount)

	history, _ := e.OrderHistory("ord-1", 0, 0)
	last := history[len(history)-1]
	fmt.Println(last.Type, last.Machine, last.To)
	// Output:
	// return 0 of 1 unit, refunding 1000
	// return.status_changed return requested
}

// An exchange takes units back and, once completed, opens a replacement
// order for them; the two orders name each other.
func ExampleEngine_OpenReplacement() {
	e, _ := orderly.Open(orderly.Options{Transport: orderly.MemoryTransport(false)})
	defer e.Close()
	now := time.UnixMilli(1_700_000_000_000)
	_, _ = e.CreateOrder(orderly.OrderSpec{OrderID: "ord-1", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}}, Now: now})
	for _, ev := range []orderly.Event{orderly.PaymentEvAuthorize, orderly.PaymentEvRequestCapture,
		orderly.PaymentEvCaptureSucceeded, orderly.FulfillmentEvStartPicking, orderly.FulfillmentEvPicked,
		orderly.FulfillmentEvStartPacking, orderly.FulfillmentEvPacked, orderly.FulfillmentEvShip,
		orderly.ShipmentEvPickUp, orderly.ShipmentEvDeliver} {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: ev, Amount: 2500, Now: now}); err != nil {
			panic(err)
		}
	}

	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-1",
		Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, Exchange: true, Now: now})
	if err != nil {
		panic(err)
	}
	for _, ev := range []orderly.ReturnEvent{orderly.ReturnEvApprove, orderly.ReturnEvReceive,
		orderly.ReturnEvInspect, orderly.ReturnEvExchange} {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: ev, Index: idx, Now: now}); err != nil {
			panic(err)
		}
	}
	lines, _ := e.ReturnLines("ord-1", idx)
	fmt.Println("exchanged:", lines)

	if _, err := e.OpenReplacement("ord-1", idx, now); err != nil {
		panic(err)
	}
	id, _ := orderly.ReplacementID("ord-1", idx)
	v, _ := e.GetOrder(id)
	fmt.Println(id, "replaces", v.ReplacementOf, v.OrderState, v.Total)
	// Output:
	// exchanged: [{0 1}]
	// ord-1.x0 replaces ord-1 pending 1250
}
