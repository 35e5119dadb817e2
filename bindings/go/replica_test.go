//go:build cgo

package orderly_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"orderly.dev/go/orderly"
)

// A replica of the warehouse writes the reservation deadline as a command;
// fed to every replica, it brings each where the reference's own tick went.
func TestReplicasApplyTheOwnersDeadlineCommand(t *testing.T) {
	var sent []struct {
		topic string
		data  []byte
	}
	capture := orderly.GoTransport(orderly.TransportFunc(func(topic, key string, data []byte, _ []orderly.Header) error {
		sent = append(sent, struct {
			topic string
			data  []byte
		}{topic, append([]byte(nil), data...)})
		return nil
	}))
	ref := open(t, orderly.Options{Storage: orderly.MemoryStorage()})
	order := open(t, orderly.Options{Storage: orderly.MemoryStorage(), Replica: true,
		Roles: []orderly.MachineID{orderly.MachineOrder}})
	warehouse := open(t, orderly.Options{Storage: orderly.MemoryStorage(), Transport: capture,
		Replica: true, Roles: []orderly.MachineID{orderly.MachineReservation}})
	for _, e := range []*orderly.Engine{ref, order, warehouse} {
		if _, err := e.CreateOrder(spec("ord-r")); err != nil {
			t.Fatal(err)
		}
	}
	due := t0.Add(16 * time.Minute)
	if _, err := ref.Tick(due, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := order.Tick(due, 0); n != 0 || err != nil {
		t.Fatalf("the order's tick = %d, %v: the TTL is the warehouse's", n, err)
	}
	if n, err := warehouse.Tick(due, 0); n != 1 || err != nil {
		t.Fatalf("the warehouse's tick = %d, %v", n, err)
	}
	if _, err := warehouse.Pump(due, 0); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].topic != "orderly.commands" {
		t.Fatalf("published %+v", sent)
	}
	var env struct {
		Type, Subject string
		Data          struct {
			OrderID string `json:"order_id"`
			Index   int
		}
	}
	if err := json.Unmarshal(sent[0].data, &env); err != nil || env.Type != "reservation.expire" ||
		env.Subject != "ord-r" || env.Data.OrderID != "ord-r" || env.Data.Index != 0 {
		t.Fatalf("envelope %s: %v", sent[0].data, err)
	}
	want, err := ref.GetOrder("ord-r")
	if err != nil || want.OrderState != orderly.OrderCancelled {
		t.Fatalf("reference: %+v, %v", want, err)
	}
	for _, e := range []*orderly.Engine{order, warehouse} {
		if r, err := e.HandleEvent(sent[0].data, due); err != nil || r.Duplicate {
			t.Fatalf("deadline command: %+v, %v", r, err)
		}
		if r, err := e.HandleEvent(sent[0].data, due.Add(time.Minute)); err != nil || !r.Duplicate {
			t.Fatalf("redelivered: %+v, %v", r, err)
		}
		got, err := e.GetOrder("ord-r")
		if err != nil || got.OrderState != want.OrderState || got.PaymentState != want.PaymentState ||
			got.Version != want.Version {
			t.Fatalf("replica holds %+v (%v), the reference %+v", got, err, want)
		}
	}
}

func TestRolesGateInputsOnlyWithoutReplica(t *testing.T) {
	plain := open(t, orderly.Options{Storage: orderly.MemoryStorage(),
		Roles: []orderly.MachineID{orderly.MachinePayment}})
	rep := open(t, orderly.Options{Storage: orderly.MemoryStorage(), Replica: true,
		Roles: []orderly.MachineID{orderly.MachinePayment}})
	for _, e := range []*orderly.Engine{plain, rep} {
		if _, err := e.CreateOrder(spec("ord-p")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := plain.CancelOrder("ord-p", "", at(1)); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("a plain payment engine cancelled an order: %v", err)
	}
	if r, err := rep.CancelOrder("ord-p", "", at(1)); err != nil || r.OrderState != orderly.OrderCancelled {
		t.Fatalf("the replica: %+v, %v", r, err)
	}
}

func TestOpMachineNamesTheOwner(t *testing.T) {
	want := map[orderly.Op]orderly.MachineID{
		orderly.OpReleaseReservations: orderly.MachineReservation,
		orderly.OpRestock:             orderly.MachineReservation,
		orderly.OpVoidAuthorization:   orderly.MachinePayment,
		orderly.OpRefund:              orderly.MachinePayment,
		orderly.OpCapture:             orderly.MachinePayment,
		orderly.OpRevertPromotion:     orderly.MachineOrder,
		orderly.OpRestoreLoyalty:      orderly.MachineOrder,
		orderly.OpCancelShipment:      orderly.MachineShipment,
		orderly.OpCancelCODClaim:      orderly.MachineShipment,
		orderly.OpReship:              orderly.MachineShipment,
		orderly.OpHost + 2:            orderly.MachineOrder,
		0:                             0,
	}
	for op, m := range want {
		if got := op.Machine(); got != m {
			t.Fatalf("%d.Machine() = %d, want %d", op, got, m)
		}
	}
}
