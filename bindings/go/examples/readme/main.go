package main

import (
	"errors"
	"fmt"
	"time"

	"orderly.dev/go/orderly"
)

func main() {
	// What does a confirmed payment do to a pending order?
	next, _ := orderly.Order.Next(orderly.OrderPending, orderly.OrderEvPaymentConfirmed)
	fmt.Println("pending + payment_confirmed ->", next)

	// An engine on the in-memory storage, publishing to a Go channel.
	events := make(chan orderly.Message, 16)
	e, err := orderly.Open(orderly.Options{
		Transport: orderly.GoTransport(orderly.ChannelTransport(events)),
	})
	if err != nil {
		panic(err)
	}
	defer e.Close()

	now := time.Now()
	if _, err := e.CreateOrder(orderly.OrderSpec{
		OrderID: "ord-1", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: []orderly.Line{{SKU: 42, Warehouse: 7, Quantity: 2, UnitPrice: 1250}},
		Now:   now,
	}); err != nil {
		panic(err)
	}
	r, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.PaymentEvAuthorize,
		Amount: 2500, Now: now})
	fmt.Println("authorized; the order is", r.OrderState, err)

	// A confirmed order cannot complete yet; the error says why.
	_, err = e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.OrderEvComplete, Now: now})
	if errors.Is(err, orderly.ErrTransition) {
		fmt.Println("rejected:", err)
	}

	n, _ := e.Pump(now, 0)
	fmt.Println("published", n, "events, the first to", (<-events).Topic)
}
