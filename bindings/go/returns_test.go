//go:build cgo

package orderly_test

import (
	"errors"
	"reflect"
	"testing"

	"orderly.dev/go/orderly"
)

// delivered opens an engine with a delivered two-line order "ord-r":
// line 0 is 2 units at 500, line 1 one unit at 1000, each in its own
// warehouse (so in its own shipment).
func delivered(t *testing.T, opts orderly.Options) *orderly.Engine {
	t.Helper()
	e := open(t, opts)
	s := orderly.OrderSpec{OrderID: "ord-r", Currency: "EUR", PaymentMethod: orderly.PayCard, Now: at(0),
		Lines: []orderly.Line{{SKU: 101, Warehouse: 1, Quantity: 2, UnitPrice: 500},
			{SKU: 202, Warehouse: 2, Quantity: 1, UnitPrice: 1000}}}
	if _, err := e.CreateOrder(s); err != nil {
		t.Fatal(err)
	}
	cmds := []orderly.Command{
		{Event: orderly.PaymentEvAuthorize, Amount: 2000},
		{Event: orderly.PaymentEvRequestCapture},
		{Event: orderly.PaymentEvCaptureSucceeded},
	}
	for i := uint32(0); i < 2; i++ {
		for _, ev := range []orderly.Event{orderly.FulfillmentEvStartPicking, orderly.FulfillmentEvPicked,
			orderly.FulfillmentEvStartPacking, orderly.FulfillmentEvPacked, orderly.FulfillmentEvShip,
			orderly.ShipmentEvPickUp, orderly.ShipmentEvDeliver} {
			cmds = append(cmds, orderly.Command{Event: ev, Index: i})
		}
	}
	for k, c := range cmds {
		c.OrderID, c.Now = "ord-r", at(k+1)
		if _, err := e.Apply(c); err != nil {
			t.Fatalf("%s: %v", c.Event, err)
		}
	}
	if v, _ := e.GetOrder("ord-r"); v.OrderState != orderly.OrderDelivered {
		t.Fatalf("ord-r is %v, want delivered", v.OrderState)
	}
	return e
}

func TestOpenReturnNamesLinesAndIsWorthThem(t *testing.T) {
	e := delivered(t, orderly.Options{})
	spec := orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, Now: at(30)}
	idx, r, err := e.OpenReturn(spec)
	if err != nil || idx != 0 || r.Machine != orderly.MachineReturn || orderly.ReturnState(r.To) != orderly.ReturnRequested {
		t.Fatalf("OpenReturn = %d, %+v, %v", idx, r, err)
	}
	p, err := e.GetPart("ord-r", orderly.MachineReturn, idx)
	if err != nil || p.Amount != 500 || p.Quantity != 1 || !reflect.DeepEqual(p.Lines, []uint32{0}) {
		t.Fatalf("return part = %+v, %v", p, err)
	}
	if idx, r, err := e.OpenReturn(spec); err != nil || idx != 0 || !r.Duplicate {
		t.Fatalf("the same request again = %d, %+v, %v", idx, r, err)
	}
}

func TestOpenReturnAdjustmentAndExchange(t *testing.T) {
	e := delivered(t, orderly.Options{})
	fee, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 1, Quantity: 1}},
		Adjustment: -100, IdemKey: "r-fee", Now: at(30)})
	if p, _ := e.GetPart("ord-r", orderly.MachineReturn, fee); err != nil || p.Amount != 900 {
		t.Fatalf("a return with a restocking fee = %+v, %v", p, err)
	}
	ex, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 2}},
		Exchange: true, IdemKey: "r-ex", Now: at(31)})
	if err != nil || ex != 1 {
		t.Fatalf("an exchange = %d, %v", ex, err)
	}
}

func TestOpenReturnRefusals(t *testing.T) {
	e := delivered(t, orderly.Options{})
	cases := []struct {
		name string
		spec orderly.ReturnSpec
		want error
	}{
		{"an unknown line", orderly.ReturnSpec{Lines: []orderly.ReturnLine{{Line: 5, Quantity: 1}}}, orderly.ErrInvalid},
		{"a line named twice", orderly.ReturnSpec{Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}, {Line: 0, Quantity: 1}}}, orderly.ErrInvalid},
		{"no lines", orderly.ReturnSpec{}, orderly.ErrInvalid},
		{"zero units", orderly.ReturnSpec{Lines: []orderly.ReturnLine{{Line: 0}}}, orderly.ErrInvalid},
		{"a fee past the value", orderly.ReturnSpec{Lines: []orderly.ReturnLine{{Line: 1, Quantity: 1}}, Adjustment: -1001}, orderly.ErrInvalid},
		{"more units than delivered", orderly.ReturnSpec{Lines: []orderly.ReturnLine{{Line: 0, Quantity: 3}}}, orderly.ErrInvariant},
		{"too many lines", orderly.ReturnSpec{Lines: make([]orderly.ReturnLine, orderly.LinesMax()+1)}, orderly.ErrInvalid},
	}
	for _, c := range cases {
		c.spec.OrderID, c.spec.Now = "ord-r", at(30)
		if _, _, err := e.OpenReturn(c.spec); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestOpenReturnAmountStillWorks(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx, _, err := e.OpenReturnAmount("ord-r", 700, false, "", at(30))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := e.GetPart("ord-r", orderly.MachineReturn, idx); p.Amount != 700 || len(p.Lines) != 0 {
		t.Fatalf("an amount-only return = %+v", p)
	}
}

func TestPartViewCountsUnitsPerLine(t *testing.T) {
	e := delivered(t, orderly.Options{})
	l0, err := e.GetPart("ord-r", orderly.MachineReservation, 0)
	if err != nil || l0.Quantity != 2 || l0.Shipped != 2 || l0.Delivered != 2 || l0.Reserved != 0 ||
		l0.Lost != 0 || l0.BackAtOrigin != 0 || l0.Returned != 0 || l0.Restocked != 0 || l0.Refunded != 0 {
		t.Fatalf("line 0 = %+v, %v", l0, err)
	}
	if l1, _ := e.GetPart("ord-r", orderly.MachineReservation, 1); l1.Shipment != 1 {
		t.Fatalf("line 1 = %+v, want it in shipment 1", l1)
	}
	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 2}}, Now: at(30)})
	if err != nil {
		t.Fatal(err)
	}
	for k, ev := range []orderly.ReturnEvent{orderly.ReturnEvApprove, orderly.ReturnEvReceive, orderly.ReturnEvInspect, orderly.ReturnEvRefund} {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-r", Event: ev, Index: idx, Amount: 1000, Now: at(31 + k)}); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	if l0, _ = e.GetPart("ord-r", orderly.MachineReservation, 0); l0.Returned != 2 || l0.Refunded != 1000 {
		t.Fatalf("line 0 after its return = %+v", l0)
	}
}
