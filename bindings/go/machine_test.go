//go:build cgo

package orderly_test

import (
	"errors"
	"strings"
	"testing"

	"orderly.dev/go/orderly"
)

func TestNextFollowsTheTable(t *testing.T) {
	next, err := orderly.Order.Next(orderly.OrderPending, orderly.OrderEvPaymentConfirmed)
	if err != nil || next != orderly.OrderConfirmed {
		t.Fatalf("pending + payment_confirmed = %v, %v; want confirmed", next, err)
	}
	if next.String() != "confirmed" || next.Machine() != orderly.MachineOrder {
		t.Fatalf("String %q Machine %v", next, next.Machine())
	}
}

func TestNextRefusalCarriesCodeAndReason(t *testing.T) {
	_, err := orderly.Order.Next(orderly.OrderCompleted, orderly.OrderEvCancel)
	if !errors.Is(err, orderly.ErrTransition) {
		t.Fatalf("got %v, want ErrTransition", err)
	}
	oe := mustCode(t, err, orderly.ErrTransition)
	if !strings.Contains(oe.Message, "'cancel' is not allowed in state 'completed'") || oe.Temporary() {
		t.Fatalf("message %q temporary %v", oe.Message, oe.Temporary())
	}
	if _, err := orderly.Order.Next(orderly.OrderState(99), orderly.OrderEvCancel); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad state: %v, want ErrInvalid", err)
	}
}

func TestNextGuardedEvaluatesGuards(t *testing.T) {
	in := orderly.GuardInput{Now: at(0), Deadline: at(60), Amount: 100, Authorized: 100}
	next, err := orderly.Payment.NextGuarded(orderly.PaymentAuthorized, orderly.PaymentEvRequestCapture, in)
	if err != nil || next != orderly.PaymentCaptureRequested {
		t.Fatalf("capturable: %v, %v", next, err)
	}
	// Past the authorization's deadline the other guarded row wins.
	in.Now = at(61)
	next, err = orderly.Payment.NextGuarded(orderly.PaymentAuthorized, orderly.PaymentEvRequestCapture, in)
	if err != nil || next != orderly.PaymentAuthorizationExpired {
		t.Fatalf("past deadline: %v, %v", next, err)
	}
	// A full refund of a capture takes the refund_full row.
	in = orderly.GuardInput{Amount: 100, Captured: 100}
	next, err = orderly.Payment.NextGuarded(orderly.PaymentCaptured, orderly.PaymentEvRefund, in)
	if err != nil || next != orderly.PaymentRefunded {
		t.Fatalf("refund_full: %v, %v", next, err)
	}
	// A refund of nothing satisfies neither refund guard.
	in.Amount = 0
	if _, err = orderly.Payment.NextGuarded(orderly.PaymentCaptured, orderly.PaymentEvRefund, in); !errors.Is(err, orderly.ErrGuard) {
		t.Fatalf("refund of 0: %v, want ErrGuard", err)
	}
	rows := 0
	for _, row := range orderly.Payment.Transitions() {
		if row.Guard == "capturable" && row.From == orderly.PaymentAuthorized {
			rows++
		}
	}
	if rows != 1 {
		t.Fatalf("Transitions lists %d capturable rows from authorized, want 1", rows)
	}
}

func TestQueriesAnswerFromTheTable(t *testing.T) {
	if !orderly.Order.Can(orderly.OrderPending, orderly.OrderEvCancel) ||
		orderly.Order.Can(orderly.OrderCompleted, orderly.OrderEvCancel) {
		t.Fatal("Can disagrees with the table")
	}
	if !orderly.Order.IsTerminal(orderly.OrderCancelled) || orderly.Order.IsTerminal(orderly.OrderPending) {
		t.Fatal("IsTerminal disagrees")
	}
	allowed := orderly.Order.Allowed(orderly.OrderPending)
	found := false
	for _, ev := range allowed {
		found = found || ev == orderly.OrderEvPaymentConfirmed
	}
	if !found || orderly.Order.Allowed(orderly.OrderState(99)) != nil {
		t.Fatalf("Allowed(pending) = %v", allowed)
	}
	if orderly.Order.Initial() != orderly.OrderPending || orderly.Order.Name() != "order" {
		t.Fatal("initial state or name")
	}
	if !orderly.Fulfillment.IsLate(orderly.FulfillmentShipped, orderly.FulfillmentEvPicked) {
		t.Fatal("picked after shipped is late")
	}
	if len(orderly.Order.States()) != 12 || len(orderly.Shipment.Events()) == 0 {
		t.Fatalf("States %v Events %v", orderly.Order.States(), orderly.Shipment.Events())
	}
}

func TestExportRendersEachFormat(t *testing.T) {
	for f, want := range map[orderly.Format]string{
		orderly.DOT: "digraph", orderly.Mermaid: "stateDiagram-v2", orderly.JSON: "\"states\""} {
		out, err := orderly.Payment.Export(f)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("format %d: %v, %.60q", f, err, out)
		}
	}
	if _, err := orderly.Payment.Export(orderly.Format(9)); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad format: %v", err)
	}
	if out, err := orderly.ExportChoreography(orderly.DOT); err != nil || !strings.Contains(out, "digraph") {
		t.Fatalf("choreography: %v", err)
	}
}

func TestStringsOfUnknownIDs(t *testing.T) {
	if s := orderly.OrderState(99).String(); s != "OrderState(99)" {
		t.Fatal(s)
	}
	if s := orderly.MachineID(9).String(); s != "MachineID(9)" {
		t.Fatal(s)
	}
	if orderly.OpRefund.String() != "refund" || orderly.CodeGuard.Name() != "ORDERLY_EGUARD" {
		t.Fatal("op or code names")
	}
}

func TestVersionIsAtLeastTheBuiltOne(t *testing.T) {
	if orderly.Version() != orderly.BuiltFor {
		t.Fatalf("library %s, built for %s", orderly.Version(), orderly.BuiltFor)
	}
}
