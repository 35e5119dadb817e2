//go:build cgo

package orderly_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"orderly.dev/go/orderly"
	"orderly.dev/go/orderly/memstore"
)

func TestLifecycleOnMemoryStorage(t *testing.T) {
	events := make(chan orderly.Message, 64)
	e := open(t, orderly.Options{Transport: orderly.GoTransport(orderly.ChannelTransport(events))})
	runLifecycle(t, e, "ord-1")
	v, err := e.GetOrder("ord-1")
	if err != nil || v.OrderState != orderly.OrderCompleted || v.PaymentState != orderly.PaymentCaptured ||
		v.Total != 2500 || v.Captured != 2500 || v.Currency != "EUR" {
		t.Fatalf("GetOrder = %+v, %v", v, err)
	}
	part, err := e.GetPart("ord-1", orderly.MachineShipment, 0)
	if err != nil || orderly.ShipmentState(part.State) != orderly.ShipmentDelivered {
		t.Fatalf("GetPart = %+v, %v", part, err)
	}
	n, err := e.Pump(at(30), 0)
	if err != nil || n == 0 || len(events) != n {
		t.Fatalf("Pump = %d, %v; %d on the channel", n, err, len(events))
	}
	msg := <-events
	if msg.Key != "ord-1" || !strings.HasPrefix(msg.Topic, "orderly.") || len(msg.Headers) == 0 {
		t.Fatalf("first message %+v", msg)
	}
	rows, err := e.ListOutbox(orderly.ItemDone, 0, 100)
	if err != nil || len(rows) != n || rows[0].OrderID != "ord-1" || rows[0].EventID == "" {
		t.Fatalf("ListOutbox = %d rows, %v", len(rows), err)
	}
	st, err := e.Stats()
	if err != nil || st.Applied != uint64(len(lifecycle)+1) {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	h, err := e.Health(at(30), 0, 0)
	if err != nil || !h.Ready || h.PublishedTotal != uint64(n) {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	m, err := e.Metrics(at(30))
	if err != nil || len(m) == 0 {
		t.Fatalf("Metrics = %v, %v", m, err)
	}
}

func TestLifecycleOnGoStorage(t *testing.T) {
	e := open(t, orderly.Options{Storage: orderly.GoStorage(memstore.New().Open())})
	runLifecycle(t, e, "ord-go")
	if v, err := e.GetOrder("ord-go"); err != nil || v.OrderState != orderly.OrderCompleted {
		t.Fatalf("GetOrder = %+v, %v", v, err)
	}
	if _, err := e.GetOrder("nope"); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestSQLiteStorageByName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	e, err := orderly.Open(orderly.Options{Storage: orderly.SQLiteStorage(path, orderly.SQLiteOptions{Sync: orderly.SyncNormal}),
		Transport: orderly.MemoryTransport(false)})
	if err != nil {
		t.Fatal(err)
	}
	runLifecycle(t, e, "ord-sql")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open(t, orderly.Options{Storage: orderly.SQLiteStorage(path, orderly.SQLiteOptions{NoCreate: true})})
	if v, err := e.GetOrder("ord-sql"); err != nil || v.OrderState != orderly.OrderCompleted {
		t.Fatalf("after reopening: %+v, %v", v, err)
	}
	_, err = orderly.Open(orderly.Options{Storage: orderly.SQLiteStorage(filepath.Join(t.TempDir(), "missing.db"),
		orderly.SQLiteOptions{NoCreate: true}), Transport: orderly.MemoryTransport(false)})
	if !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestRejectedCommandsKeepTheirCode(t *testing.T) {
	e := open(t, orderly.Options{})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	_, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.ShipmentEvDeliver, Now: at(1)})
	if !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("a shipment that does not exist: %v", err)
	}
	_, err = e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.OrderEvComplete, Now: at(1)})
	oe := mustCode(t, err, orderly.ErrTransition)
	if oe.Message == "" || oe.Temporary() {
		t.Fatalf("%+v", oe)
	}
	if _, err := e.Apply(orderly.Command{OrderID: strings.Repeat("x", 65), Event: orderly.OrderEvCancel}); !errors.Is(err, orderly.ErrInvalid) ||
		!strings.Contains(err.Error(), "order id is 65 bytes") {
		t.Fatalf("long id: %v", err)
	}
	if _, err := e.Apply(orderly.Command{OrderID: "a\x00b", Event: orderly.OrderEvCancel}); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("NUL in id: %v", err)
	}
	if _, err := e.Apply(orderly.Command{OrderID: "ord-1"}); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("no event: %v", err)
	}
	if _, err := e.CreateOrder(orderly.OrderSpec{OrderID: "x", Currency: "EURO"}); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("bad currency: %v", err)
	}
}

func TestDuplicatesAndLateEvents(t *testing.T) {
	e := open(t, orderly.Options{})
	runLifecycle(t, e, "ord-1")
	cmd := orderly.Command{OrderID: "ord-1", Event: orderly.FulfillmentEvPicked, IdemKey: "evt-late", Now: at(50)}
	r, err := e.Apply(cmd)
	if err != nil || !r.Late {
		t.Fatalf("picked after shipped: %+v, %v", r, err)
	}
	if _, err := e.CreateOrder(spec("ord-2")); err != nil {
		t.Fatal(err)
	}
	cmd = orderly.Command{OrderID: "ord-2", Event: orderly.PaymentEvAuthorize, Amount: 2500, IdemKey: "evt-1", Now: at(51)}
	first, err := e.Apply(cmd)
	if err != nil || first.Duplicate {
		t.Fatalf("authorize: %+v, %v", first, err)
	}
	r, err = e.Apply(cmd)
	if err != nil || !r.Duplicate || r.To != first.To || r.Version != first.Version {
		t.Fatalf("the same key again: %+v, %v", r, err)
	}
	cmd.Event = orderly.PaymentEvDecline
	if _, err := e.Apply(cmd); !errors.Is(err, orderly.ErrIdemMismatch) {
		t.Fatalf("key reused for another command: %v", err)
	}
}

func TestCancelRunsTheExecutor(t *testing.T) {
	var alerts []orderly.Alert
	e := open(t, orderly.Options{OnAlert: func(a orderly.Alert) { alerts = append(alerts, a) }})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	var ran []orderly.Operation
	if err := e.SetExecutor(orderly.OpReleaseReservations, func(op orderly.Operation) error {
		ran = append(ran, op)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r, err := e.CancelOrder("ord-1", "", at(1))
	if err != nil || r.OrderState != orderly.OrderCancelled || r.Operations == 0 {
		t.Fatalf("CancelOrder = %+v, %v", r, err)
	}
	ops, err := e.ListOperations(orderly.AnyState, 0, 10)
	if err != nil || len(ops) == 0 {
		t.Fatalf("ListOperations = %v, %v", ops, err)
	}
	if n, err := e.RunOperations(at(2), 0); err != nil || n == 0 || len(ran) == 0 {
		t.Fatalf("RunOperations = %d, %v; ran %d", n, err, len(ran))
	}
	op := ran[0]
	if op.OrderID != "ord-1" || len(op.Lines) != 1 || op.Lines[0].SKU != 42 || len(op.Key) != 32 {
		t.Fatalf("operation %+v", op)
	}
	got, err := e.InspectOperation(op.ID)
	if err != nil || got.State != orderly.ItemDone {
		t.Fatalf("InspectOperation = %+v, %v", got, err)
	}
	if err := e.ReplayOperation(op.ID, at(3)); !errors.Is(err, orderly.ErrMisuse) {
		t.Fatalf("replaying a done operation: %v", err)
	}
	if _, err := e.InspectOperation(9999); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("unknown operation: %v", err)
	}
	if err := e.SetOpAttempts(orderly.OpRefund, 3); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 0 {
		t.Fatalf("alerts %v", alerts)
	}
}

func TestCaptureReturnAndTimers(t *testing.T) {
	e := open(t, orderly.Options{})
	runLifecycle(t, e, "ord-1")
	// A completed order takes no return; a delivered one does.
	one := []orderly.ReturnLine{{Line: 0, Quantity: 1}}
	if _, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-1", Lines: one, Now: at(20)}); !errors.Is(err, orderly.ErrTransition) {
		t.Fatalf("a return on a completed order: %v", err)
	}
	if _, err := e.CreateOrder(spec("ord-d")); err != nil {
		t.Fatal(err)
	}
	for k, ev := range lifecycle[:len(lifecycle)-1] {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-d", Event: ev, Amount: map[bool]int64{true: 2500}[k == 0], Now: at(k + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	idx, r, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-d", Lines: one, Now: at(20)})
	if err != nil || idx != 0 || r.Machine != orderly.MachineReturn || orderly.ReturnState(r.To) != orderly.ReturnRequested {
		t.Fatalf("OpenReturn = %d, %+v, %v", idx, r, err)
	}
	three := []orderly.ReturnLine{{Line: 0, Quantity: 3}}
	if _, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-d", Lines: three, Now: at(21)}); !errors.Is(err, orderly.ErrInvariant) {
		t.Fatalf("a return of more units than were delivered: %v", err)
	}
	if _, err := e.CreateOrder(spec("ord-2")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(orderly.Command{OrderID: "ord-2", Event: orderly.PaymentEvAuthorize, Amount: 2500, Now: at(1)}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.RequestCapture("ord-2", "", at(2)); err != nil || r.Machine != orderly.MachinePayment {
		t.Fatalf("RequestCapture = %+v, %v", r, err)
	}
	if _, err := e.CreateOrder(spec("ord-3")); err != nil {
		t.Fatal(err)
	}
	// Three hours on, the unpaid order's reservation TTL and abandonment fired.
	if n, err := e.Tick(at(3*3600), 0); err != nil || n == 0 {
		t.Fatalf("Tick = %d, %v", n, err)
	}
	if v, _ := e.GetOrder("ord-3"); v.OrderState == orderly.OrderPending {
		t.Fatalf("ord-3 still pending after its timers: %v", v.OrderState)
	}
	if _, err := e.Pump(at(4*3600), 0); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Purge(at(4*3600), 0); err != nil || n != 0 {
		t.Fatalf("Purge before the retention = %d, %v", n, err)
	}
}

func TestHandleEventAndWebhook(t *testing.T) {
	events := make(chan orderly.Message, 64)
	producer := open(t, orderly.Options{Transport: orderly.GoTransport(orderly.ChannelTransport(events))})
	if _, err := producer.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := producer.Pump(at(1), 0); err != nil || len(events) == 0 {
		t.Fatalf("pump: %v", err)
	}
	consumer := open(t, orderly.Options{})
	_, err := consumer.HandleEvent((<-events).Data, at(2))
	if err == nil {
		t.Fatal("the consumer has no such order, and order events are not commands")
	}
	if _, err := consumer.HandleEvent([]byte("{"), at(2)); !errors.Is(err, orderly.ErrEnvelope) {
		t.Fatalf("bad envelope: %v", err)
	}
	secret := []byte("whsec")
	payload := []byte(`{"specversion":"1.0","id":"evt-1","source":"psp","type":"payment.authorize","subject":"ord-1","data":{"amount":2500}}`)
	sig, err := orderly.SignWebhook(secret, payload, at(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := orderly.VerifyWebhook(secret, sig, payload, 300e9, at(3)); err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	r, err := producer.HandleWebhook(secret, sig, payload, 300e9, at(3))
	if err != nil || r.Machine != orderly.MachinePayment || orderly.PaymentState(r.To) != orderly.PaymentAuthorized {
		t.Fatalf("HandleWebhook = %+v, %v", r, err)
	}
	if _, err := producer.HandleWebhook([]byte("other"), sig, payload, 300e9, at(3)); !errors.Is(err, orderly.ErrSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestBatchCommitsOrRollsBack(t *testing.T) {
	e := open(t, orderly.Options{})
	if err := e.Batch(func() error {
		for _, id := range ids(3) {
			if _, err := e.CreateOrder(spec(id)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.GetOrder("ord-2"); err != nil {
		t.Fatalf("committed batch: %v", err)
	}
	boom := errors.New("boom")
	err := e.Batch(func() error {
		if _, err := e.CreateOrder(spec("ord-rolled")); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Batch returned %v", err)
	}
	if _, err := e.GetOrder("ord-rolled"); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("rolled-back order: %v", err)
	}
	if err := e.BeginBatch(); err != nil {
		t.Fatal(err)
	}
	if err := e.BeginBatch(); !errors.Is(err, orderly.ErrMisuse) {
		t.Fatalf("nested batch: %v", err)
	}
	if _, err := e.Pump(at(1), 0); !errors.Is(err, orderly.ErrMisuse) {
		t.Fatalf("pump inside a batch: %v", err)
	}
	if err := e.RollbackBatch(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsAndTopics(t *testing.T) {
	if _, err := orderly.Open(orderly.Options{}); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("no transport: %v", err)
	}
	p := orderly.DefaultPolicy()
	if p.ReservationTTL.Minutes() != 15 || p.BatchMax != 256 {
		t.Fatalf("DefaultPolicy = %+v", p)
	}
	p.IdemTTL = 1
	if _, err := orderly.Open(orderly.Options{Policy: &p, Transport: orderly.MemoryTransport(false)}); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("an idempotency TTL shorter than the retries: %v", err)
	}
	if _, err := orderly.Open(orderly.Options{Transport: orderly.MemoryTransport(false), MaxLines: orderly.LinesMax() + 1}); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("MaxLines over LinesMax: %v", err)
	}
	small := open(t, orderly.Options{MaxLines: 1, MaxParts: 1})
	two := spec("ord-2")
	two.Lines = append(two.Lines, orderly.Line{SKU: 43, Warehouse: 7, Quantity: 1, UnitPrice: 100})
	if _, err := small.CreateOrder(two); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("two lines on an engine of MaxLines 1: %v", err)
	}
	if _, err := small.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	p = orderly.DefaultPolicy()
	p.IdemTTL = orderly.Never
	e := open(t, orderly.Options{Policy: &p, Source: "shop", Roles: []orderly.MachineID{orderly.MachineOrder, orderly.MachinePayment},
		Topics: map[orderly.Topic]string{orderly.TopicPayment: "pay.events"}})
	if e.Topic(orderly.TopicPayment) != "pay.events" || e.Topic(orderly.TopicOrder) != "orderly.order" {
		t.Fatalf("topics %q %q", e.Topic(orderly.TopicPayment), e.Topic(orderly.TopicOrder))
	}
	if id, err := e.TopicID("pay.events"); err != nil || id != orderly.TopicPayment {
		t.Fatalf("TopicID = %v, %v", id, err)
	}
	if _, err := e.TopicID("nope"); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("unknown topic: %v", err)
	}
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(orderly.Command{OrderID: "ord-1", Event: orderly.ShipmentEvPickUp, Now: at(1)}); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("a machine outside the roles: %v", err)
	}
	if err := e.LastError(); !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("LastError() = %v", err)
	}
}
