//go:build cgo

package orderly_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"orderly.dev/go/orderly"
	"orderly.dev/go/orderly/conformance"
	"orderly.dev/go/orderly/memstore"
)

// version2 hides every optional method of the storage it wraps: only the
// orderly.Storage methods are promoted from the embedded interface.
type version2 struct{ orderly.Storage }

func TestOrderHistoryListsEventsInOrder(t *testing.T) {
	for name, st := range map[string]orderly.StorageBackend{
		"memory": orderly.MemoryStorage(),
		"go":     orderly.GoStorage(memstore.New().Open()),
		"sqlite": orderly.SQLiteStorage(t.TempDir()+"/h.db", orderly.SQLiteOptions{}),
	} {
		t.Run(name, func(t *testing.T) {
			e := open(t, orderly.Options{Storage: st})
			runLifecycle(t, e, "ord-h")
			h, err := e.OrderHistory("ord-h", 0, 0)
			if err != nil || len(h) < len(lifecycle) {
				t.Fatalf("OrderHistory = %d entries, %v", len(h), err)
			}
			for i, x := range h {
				if x.Seq != uint32(i) || x.OrderID != "ord-h" {
					t.Fatalf("entry %d = %+v", i, x)
				}
			}
			first := h[0]
			if first.Type != "order.status_changed" || first.Machine != orderly.MachineOrder || first.From != "" ||
				first.To != "pending" || first.Amount != 2500 || first.Currency != "EUR" || first.Lines != 1 ||
				!first.Time.Equal(at(0)) {
				t.Fatalf("first entry = %+v", first)
			}
			var env struct{ ID, Type string }
			if err := json.Unmarshal(first.JSON, &env); err != nil || env.ID != first.EventID || env.Type != first.Type {
				t.Fatalf("envelope %s: %v", first.JSON, err)
			}
			if paid := h[1]; paid.Machine != orderly.MachinePayment || paid.From != "pending" ||
				paid.To != "authorized" || paid.Event != "authorize" {
				t.Fatalf("second entry = %+v", paid)
			}
			page, err := e.OrderHistory("ord-h", 3, 2)
			if err != nil || !reflect.DeepEqual(page, h[3:5]) {
				t.Fatalf("OrderHistory from 3, max 2 = %+v, %v", page, err)
			}
			if _, err := e.OrderHistory("nobody", 0, 0); !errors.Is(err, orderly.ErrNotFound) {
				t.Fatalf("an unknown order: %v", err)
			}
			if _, err := e.OrderHistory("ord-h", 0, -1); !errors.Is(err, orderly.ErrInvalid) {
				t.Fatalf("a negative max: %v", err)
			}
		})
	}
	if orderly.HistoryMax != 4096 {
		t.Fatalf("HistoryMax = %d", orderly.HistoryMax)
	}
}

func TestAStorageWithoutOptionalMethodsStillWorks(t *testing.T) {
	e := open(t, orderly.Options{Storage: orderly.GoStorage(version2{memstore.New().Open()})})
	runLifecycle(t, e, "ord-2")
	if v, err := e.GetOrder("ord-2"); err != nil || v.OrderState != orderly.OrderCompleted {
		t.Fatalf("GetOrder = %+v, %v", v, err)
	}
	if n, err := e.Pump(at(30), 0); err != nil || n == 0 {
		t.Fatalf("Pump = %d, %v", n, err)
	}
	if _, err := e.OrderHistory("ord-2", 0, 0); !errors.Is(err, orderly.ErrNotSupported) {
		t.Fatalf("history without HistoryStorage: %v", err)
	}
	if st, _ := e.Stats(); st.TxnReadBegins != 0 {
		t.Fatalf("read transactions without ReadTxnStorage: %+v", st)
	}
}

func TestStatsCountStorageTransactions(t *testing.T) {
	e := open(t, orderly.Options{Storage: orderly.GoStorage(memstore.New().Open())})
	if _, err := e.CreateOrder(spec("ord-s")); err != nil {
		t.Fatal(err)
	}
	before, _ := e.Stats()
	if before.TxnBegins != 1 || before.TxnCommits != 1 || before.TxnRollbacks != 0 {
		t.Fatalf("after one command: %+v", before)
	}
	if _, err := e.GetOrder("ord-s"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(orderly.Command{OrderID: "ord-s", Event: orderly.OrderEvComplete, Now: at(1)}); !errors.Is(err, orderly.ErrTransition) {
		t.Fatalf("complete a pending order: %v", err)
	}
	st, _ := e.Stats()
	if st.TxnReadBegins != before.TxnReadBegins+1 || st.TxnBegins != st.TxnCommits+st.TxnRollbacks || st.TxnRollbacks == 0 {
		t.Fatalf("after a read and a rejected command: %+v", st)
	}
}

func TestHandOffPublishesWithoutAClaimTransaction(t *testing.T) {
	cost := map[bool][2]uint64{}
	for _, handOff := range []bool{false, true} {
		e := open(t, orderly.Options{HandOff: handOff})
		if _, err := e.CreateOrder(spec("ord-1")); err != nil {
			t.Fatal(err)
		}
		h, _ := e.Health(at(0), 0, 0)
		before, _ := e.Stats()
		if n, err := e.Pump(at(1), 0); err != nil || n != 1 {
			t.Fatalf("Pump = %d, %v", n, err)
		}
		after, _ := e.Stats()
		cost[handOff] = [2]uint64{h.OutboxLeased, after.TxnBegins - before.TxnBegins}
	}
	if cost[true][0] != 1 || cost[false][0] != 0 || cost[true][1] >= cost[false][1] {
		t.Fatalf("(leased after the command, transactions of the pump) = %v", cost)
	}
}

func TestSoleAcksWaitOutAQuietHour(t *testing.T) {
	e := open(t, orderly.Options{HandOff: true, Sole: true})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Pump(at(1), 0); err != nil || n != 1 {
		t.Fatalf("Pump = %d, %v", n, err)
	}
	before, _ := e.Stats()
	hour := at(3600)
	if n, err := e.Pump(hour, 0); err != nil || n != 0 {
		t.Fatalf("Pump after an hour = %d, %v", n, err)
	}
	if st, _ := e.Stats(); st.TxnBegins != before.TxnBegins {
		t.Fatalf("a quiet pump opened %d transactions", st.TxnBegins-before.TxnBegins)
	}
	if h, _ := e.Health(hour, 0, 0); h.OutboxLeaseExpired != 1 {
		t.Fatalf("the published row should still be leased: %+v", h)
	}
	before, _ = e.Stats() // Health read in a transaction of its own
	s2 := spec("ord-2")
	s2.Now = hour
	if _, err := e.CreateOrder(s2); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.Stats(); st.TxnBegins != before.TxnBegins+1 || st.TxnAckWrites != 0 {
		t.Fatalf("the acks should ride on the command: %+v", st)
	}
	if h, _ := e.Health(hour, 0, 0); h.OutboxLeaseExpired != 0 {
		t.Fatalf("acks not written by the command: %+v", h)
	}
}

func TestWakeSeesRowsWrittenBehindTheEnginesBack(t *testing.T) {
	st := memstore.New()
	a := open(t, orderly.Options{Storage: orderly.GoStorage(st.Open())})
	b := open(t, orderly.Options{Storage: orderly.GoStorage(st.Open())})
	if n, err := a.Pump(at(0), 0); err != nil || n != 0 {
		t.Fatalf("a's first pump = %d, %v", n, err)
	}
	if _, err := b.CreateOrder(spec("ord-w")); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Pump(at(1), 0); err != nil || n != 0 {
		t.Fatalf("a knows nothing is due, yet pumped %d, %v", n, err)
	}
	if err := a.Wake(); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Pump(at(2), 0); err != nil || n != 1 {
		t.Fatalf("a's pump after Wake = %d, %v", n, err)
	}
	_ = a.Close()
	if err := a.Wake(); !errors.Is(err, orderly.ErrClosed) {
		t.Fatalf("Wake after Close: %v", err)
	}
}

// lateNextDue answers one millisecond late: the version 3 conformance
// case must catch it.
type lateNextDue struct{ *memstore.Handle }

func (l lateNextDue) QueueNextDue(tx orderly.Txn, q orderly.Queue) (time.Time, bool, error) {
	due, ok, err := l.Handle.QueueNextDue(tx, q)
	return due.Add(time.Millisecond), ok, err
}

func TestConformanceHoldsOptionalMethodsToTheContract(t *testing.T) {
	st := memstore.New()
	target := conformance.Target{
		Name:  "late next due",
		Open:  func() (orderly.Storage, error) { return lateNextDue{st.Open()}, nil },
		Crash: func(s orderly.Storage) error { s.(lateNextDue).Crash(); return nil },
		Close: func(s orderly.Storage) {},
		Reset: func() error { st.Reset(); return nil },
	}
	var report bytes.Buffer
	failures, err := conformance.Run(target, conformance.Options{Parts: conformance.Contract, Filter: "next_due"}, &report)
	if err != nil || failures != 1 || !bytes.Contains(report.Bytes(), []byte("earliest claimable instant")) {
		t.Fatalf("%d failures, %v:\n%s", failures, err, report.String())
	}
}

// explosive panics in the optional method it is told to.
type explosive struct {
	*memstore.Handle
	method string
}

func (x explosive) boom(m string) {
	if x.method == m {
		panic("bug in " + m)
	}
}

func (x explosive) HistoryAppend(tx orderly.Txn, it *orderly.HistoryItem) error {
	x.boom("HistoryAppend")
	return x.Handle.HistoryAppend(tx, it)
}

func (x explosive) HistoryScan(tx orderly.Txn, g string, from uint32, max int, fn func(*orderly.HistoryItem) error) (int, error) {
	x.boom("HistoryScan")
	return x.Handle.HistoryScan(tx, g, from, max, fn)
}

func (x explosive) BeginRead() (orderly.Txn, error) {
	x.boom("BeginRead")
	return x.Handle.BeginRead()
}

func (x explosive) QueueNextDue(tx orderly.Txn, q orderly.Queue) (time.Time, bool, error) {
	x.boom("QueueNextDue")
	return x.Handle.QueueNextDue(tx, q)
}

func TestAPanicInAnOptionalMethodComesBackAsAnError(t *testing.T) {
	for _, m := range []string{"HistoryAppend", "HistoryScan", "BeginRead", "QueueNextDue"} {
		t.Run(m, func(t *testing.T) {
			e := open(t, orderly.Options{Storage: orderly.GoStorage(explosive{memstore.New().Open(), m})})
			_, err := e.CreateOrder(spec("ord-p"))
			if err == nil {
				_, err = e.OrderHistory("ord-p", 0, 0)
			}
			if err == nil {
				_, err = e.GetOrder("ord-p")
			}
			if err == nil {
				_, err = e.Pump(at(1), 0)
			}
			if !errors.Is(err, orderly.ErrUser) || !strings.Contains(err.Error(), "bug in "+m) {
				t.Fatalf("got %v, want the panic in %s as an error", err, m)
			}
		})
	}
}
