//go:build cgo

package orderly_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"orderly.dev/go/orderly"
)

var exchangeSteps = []orderly.ReturnEvent{orderly.ReturnEvApprove, orderly.ReturnEvReceive,
	orderly.ReturnEvInspect, orderly.ReturnEvExchange}

// exchanged opens an exchange of lines on the delivered "ord-r" and walks
// it through steps; it gives the exchange's index.
func exchanged(t *testing.T, e *orderly.Engine, lines []orderly.ReturnLine, steps []orderly.ReturnEvent) uint32 {
	t.Helper()
	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: lines, Exchange: true, Now: at(30)})
	if err != nil {
		t.Fatal(err)
	}
	for k, ev := range steps {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-r", Event: ev, Index: idx, Now: at(31 + k)}); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	return idx
}

func TestReplacementIDIsReadableWhileItFits(t *testing.T) {
	for _, c := range []struct {
		id   string
		idx  uint32
		want string
	}{{"ord-r", 0, "ord-r.x0"}, {"ord-r", 7, "ord-r.x7"}} {
		if got, err := orderly.ReplacementID(c.id, c.idx); err != nil || got != c.want {
			t.Errorf("ReplacementID(%q, %d) = %q, %v; want %q", c.id, c.idx, got, err, c.want)
		}
	}
}

func TestReplacementIDOfALongIDIsAFixedLengthHash(t *testing.T) {
	long := strings.Repeat("k", orderly.IDMax)
	a, err := orderly.ReplacementID(long, 0)
	if err != nil || len(a) != 34 || !strings.HasPrefix(a, "x.") || strings.Trim(a[2:], "0123456789abcdef") != "" {
		t.Fatalf("ReplacementID(long, 0) = %q, %v", a, err)
	}
	if again, _ := orderly.ReplacementID(long, 0); again != a {
		t.Fatalf("not stable: %q then %q", a, again)
	}
	if other, _ := orderly.ReplacementID(long, 1); other == a {
		t.Fatalf("returns 0 and 1 share %q", a)
	}
}

func TestReplacementIDRefusesBadOrderIDs(t *testing.T) {
	for _, id := range []string{"", "has space", "nul\x00byte", strings.Repeat("k", orderly.IDMax+1)} {
		if got, err := orderly.ReplacementID(id, 0); !errors.Is(err, orderly.ErrInvalid) || got != "" {
			t.Errorf("ReplacementID(%q) = %q, %v; want ErrInvalid", id, got, err)
		}
	}
}

func TestCompletedExchangeOpensALinkedReplacement(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx := exchanged(t, e, []orderly.ReturnLine{{Line: 0, Quantity: 1}}, exchangeSteps)
	if p, err := e.GetPart("ord-r", orderly.MachineReturn, idx); err != nil || p.Replacement != "ord-r.x0" {
		t.Fatalf("the exchange = %+v, %v", p, err)
	}
	r, err := e.OpenReplacement("ord-r", idx, at(40))
	if err != nil || r.Duplicate || r.OrderState != orderly.OrderPending {
		t.Fatalf("OpenReplacement = %+v, %v", r, err)
	}
	v, err := e.GetOrder("ord-r.x0")
	if err != nil || v.ReplacementOf != "ord-r" || v.OrderState != orderly.OrderPending ||
		v.PaymentState != orderly.PaymentPending || v.PaymentMethod != orderly.PayCard ||
		v.Currency != "EUR" || v.Total != 500 || v.Lines != 1 {
		t.Fatalf("the replacement = %+v, %v", v, err)
	}
	if l, _ := e.GetPart("ord-r.x0", orderly.MachineReservation, 0); l.SKU != 101 || l.Quantity != 1 || l.Reserved != 1 {
		t.Fatalf("its line = %+v", l)
	}
	if o, _ := e.GetOrder("ord-r"); o.ReplacementOf != "" || o.Refunded != 0 {
		t.Fatalf("the original = %+v", o)
	}
}

func TestOpenReplacementAgainIsADuplicate(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx := exchanged(t, e, []orderly.ReturnLine{{Line: 0, Quantity: 2}}, exchangeSteps)
	if _, err := e.OpenReplacement("ord-r", idx, at(40)); err != nil {
		t.Fatal(err)
	}
	first, _ := e.GetOrder("ord-r.x0")
	r, err := e.OpenReplacement("ord-r", idx, at(41))
	if err != nil || !r.Duplicate {
		t.Fatalf("again = %+v, %v", r, err)
	}
	if v, _ := e.GetOrder("ord-r.x0"); v.Version != first.Version || v.Total != 1000 {
		t.Fatalf("the replacement moved: %+v, was %+v", v, first)
	}
	if _, err := e.GetOrder("ord-r.x1"); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("a second replacement: %v", err)
	}
}

func TestOpenReplacementRefusals(t *testing.T) {
	e := delivered(t, orderly.Options{})
	pending := exchanged(t, e, []orderly.ReturnLine{{Line: 0, Quantity: 1}}, exchangeSteps[:3])
	if _, err := e.OpenReplacement("ord-r", pending, at(40)); !errors.Is(err, orderly.ErrTransition) ||
		!strings.Contains(err.Error(), "not a completed exchange") {
		t.Fatalf("an exchange not yet completed: %v", err)
	}
	if p, _ := e.GetPart("ord-r", orderly.MachineReturn, pending); p.Replacement != "" {
		t.Fatalf("an uncompleted exchange names %q", p.Replacement)
	}
	money, _, err := e.OpenReturnAmount("ord-r", 100, true, "", at(50))
	if err != nil {
		t.Fatal(err)
	}
	for k, ev := range exchangeSteps {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-r", Event: ev, Index: money, Now: at(51 + k)}); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	if _, err := e.OpenReplacement("ord-r", money, at(60)); !errors.Is(err, orderly.ErrTransition) ||
		!strings.Contains(err.Error(), "names no lines") {
		t.Fatalf("a money-only exchange: %v", err)
	}
	cases := []struct {
		name, id string
		idx      uint32
		want     error
	}{
		{"no such return", "ord-r", 9, orderly.ErrNotFound},
		{"no such order", "nope", 0, orderly.ErrNotFound},
		{"an empty id", "", 0, orderly.ErrInvalid},
		{"an id over IDMax", strings.Repeat("k", orderly.IDMax+1), 0, orderly.ErrInvalid},
	}
	for _, c := range cases {
		if _, err := e.OpenReplacement(c.id, c.idx, at(60)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestARefundedReturnOpensNoReplacement(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, Now: at(30)})
	if err != nil {
		t.Fatal(err)
	}
	for k, ev := range []orderly.ReturnEvent{orderly.ReturnEvApprove, orderly.ReturnEvReceive,
		orderly.ReturnEvInspect, orderly.ReturnEvRefund, orderly.ReturnEvComplete} {
		if _, err := e.Apply(orderly.Command{OrderID: "ord-r", Event: ev, Index: idx, Amount: 500, Now: at(31 + k)}); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	if _, err := e.OpenReplacement("ord-r", idx, at(40)); !errors.Is(err, orderly.ErrTransition) {
		t.Fatalf("a refunded return: %v", err)
	}
}

func TestReturnLinesListsWhatTheReturnNamesInLineOrder(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Now: at(30),
		Lines: []orderly.ReturnLine{{Line: 1, Quantity: 1}, {Line: 0, Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.ReturnLines("ord-r", idx)
	want := []orderly.ReturnLine{{Line: 0, Quantity: 2}, {Line: 1, Quantity: 1}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReturnLines = %+v, %v; want %+v", got, err, want)
	}
}

func TestReturnLinesOfAReturnByAmountIsEmpty(t *testing.T) {
	e := delivered(t, orderly.Options{})
	idx, _, err := e.OpenReturnAmount("ord-r", 500, false, "", at(30))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.ReturnLines("ord-r", idx); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ReturnLines = %#v, %v; want an empty slice", got, err)
	}
}

func TestReturnLinesRefusals(t *testing.T) {
	e := delivered(t, orderly.Options{})
	got, err := e.ReturnLines("ord-r", 0)
	if !errors.Is(err, orderly.ErrNotFound) || got != nil || !strings.Contains(err.Error(), "no return") {
		t.Fatalf("no such return: %v, %v", got, err)
	}
	if _, err := e.ReturnLines("nope", 0); !errors.Is(err, orderly.ErrNotFound) {
		t.Fatalf("no such order: %v", err)
	}
	if _, err := e.ReturnLines(strings.Repeat("k", orderly.IDMax+1), 0); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("an id over IDMax: %v", err)
	}
	_ = e.Close()
	if _, err := e.ReturnLines("ord-r", 0); !errors.Is(err, orderly.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestReturnLinesInsideABatchSeesTheBatch(t *testing.T) {
	e := delivered(t, orderly.Options{})
	err := e.Batch(func() error {
		idx, _, err := e.OpenReturn(orderly.ReturnSpec{OrderID: "ord-r", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, Now: at(30)})
		if err != nil {
			return err
		}
		got, err := e.ReturnLines("ord-r", idx)
		if err == nil && !reflect.DeepEqual(got, []orderly.ReturnLine{{Line: 0, Quantity: 1}}) {
			err = fmt.Errorf("ReturnLines in the batch = %+v", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bigDelivered creates and delivers "big", an order of n one-unit lines
// in one warehouse.
func bigDelivered(t *testing.T, e *orderly.Engine, n int) {
	t.Helper()
	lines := make([]orderly.Line, n)
	for i := range lines {
		lines[i] = orderly.Line{SKU: uint64(1000 + i), Warehouse: 1, Quantity: 1, UnitPrice: 10}
	}
	if _, err := e.CreateOrder(orderly.OrderSpec{OrderID: "big", Currency: "EUR", PaymentMethod: orderly.PayCard,
		Lines: lines, Now: at(0)}); err != nil {
		t.Fatal(err)
	}
	for k, ev := range lifecycle[:len(lifecycle)-1] {
		cmd := orderly.Command{OrderID: "big", Event: ev, Now: at(k + 1)}
		if k == 0 {
			cmd.Amount = int64(10 * n)
		}
		if _, err := e.Apply(cmd); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
}

// PartView.Lines holds a bit for the first 32 order lines only; ReturnLines
// walks every line, so a return of as many lines as the library allows (up
// to 40 here) comes back whole, and so does its replacement.
func TestReturnLinesReadsPastTheFirst32Lines(t *testing.T) {
	n := orderly.LinesMax()
	if n > 40 {
		n = 40
	}
	e := open(t, orderly.Options{MaxLines: n})
	bigDelivered(t, e, n)
	spec := orderly.ReturnSpec{OrderID: "big", Exchange: true, Now: at(30)}
	want := make([]orderly.ReturnLine, n)
	for i := 0; i < n; i++ {
		spec.Lines = append(spec.Lines, orderly.ReturnLine{Line: uint32(n - 1 - i), Quantity: 1})
		want[i] = orderly.ReturnLine{Line: uint32(i), Quantity: 1}
	}
	idx, _, err := e.OpenReturn(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.ReturnLines("big", idx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReturnLines = %+v, %v", got, err)
	}
	if p, _ := e.GetPart("big", orderly.MachineReturn, idx); len(p.Lines) != smaller(n, 32) {
		t.Fatalf("PartView.Lines has %d lines, want %d", len(p.Lines), smaller(n, 32))
	}
	for k, ev := range exchangeSteps {
		if _, err := e.Apply(orderly.Command{OrderID: "big", Event: ev, Index: idx, Now: at(31 + k)}); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
	}
	if _, err := e.OpenReplacement("big", idx, at(40)); err != nil {
		t.Fatal(err)
	}
	id, _ := orderly.ReplacementID("big", idx)
	if v, err := e.GetOrder(id); err != nil || int(v.Lines) != n {
		t.Fatalf("the replacement = %+v, %v", v, err)
	}
}

func smaller(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// An engine configured at the hard maximum takes an order that big, and
// the binding refuses a bigger one before it reaches C.
func TestTheMaximaComeFromTheLibrary(t *testing.T) {
	if orderly.LinesMax() < 1 || orderly.PartsMax() < 1 {
		t.Fatalf("LinesMax() = %d, PartsMax() = %d", orderly.LinesMax(), orderly.PartsMax())
	}
	n := orderly.LinesMax()
	e := open(t, orderly.Options{MaxLines: n})
	s := orderly.OrderSpec{OrderID: "full", Currency: "EUR", PaymentMethod: orderly.PayCard, Now: at(0)}
	for i := 0; i <= n; i++ {
		s.Lines = append(s.Lines, orderly.Line{SKU: uint64(i + 1), Warehouse: 1, Quantity: 1, UnitPrice: 10})
	}
	if _, err := e.CreateOrder(s); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("LinesMax()+1 lines: %v", err)
	}
	s.Lines = s.Lines[:n]
	if _, err := e.CreateOrder(s); err != nil {
		t.Fatalf("LinesMax() lines: %v", err)
	}
	if v, _ := e.GetOrder("full"); int(v.Lines) != n {
		t.Fatalf("the order has %d lines, want %d", v.Lines, n)
	}
}

func TestMaxPartsCapsWarehousesAndReturns(t *testing.T) {
	e := open(t, orderly.Options{MaxParts: 1})
	two := spec("ord-2")
	two.Lines = append(two.Lines, orderly.Line{SKU: 43, Warehouse: 8, Quantity: 1, UnitPrice: 100})
	if _, err := e.CreateOrder(two); !errors.Is(err, orderly.ErrInvalid) {
		t.Fatalf("two warehouses on MaxParts 1: %v", err)
	}
	bigDelivered(t, e, 1)
	first := orderly.ReturnSpec{OrderID: "big", Lines: []orderly.ReturnLine{{Line: 0, Quantity: 1}}, IdemKey: "r-1", Now: at(30)}
	if _, _, err := e.OpenReturn(first); err != nil {
		t.Fatal(err)
	}
	second := first
	second.IdemKey = "r-2"
	if _, _, err := e.OpenReturn(second); !errors.Is(err, orderly.ErrInvariant) {
		t.Fatalf("a second return on MaxParts 1: %v", err)
	}
	for _, o := range []orderly.Options{{MaxParts: -1}, {MaxParts: orderly.PartsMax() + 1}, {MaxLines: -1}} {
		o.Transport = orderly.MemoryTransport(false)
		if _, err := orderly.Open(o); !errors.Is(err, orderly.ErrConfig) {
			t.Errorf("Open(MaxLines %d, MaxParts %d): %v, want ErrConfig", o.MaxLines, o.MaxParts, err)
		}
	}
}

// An order written by an engine configured higher is refused, with
// nothing written, by one configured lower on the same store.
func TestAnOrderOverAnEnginesMaxLinesIsNotSupportedThere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	wide := open(t, orderly.Options{Storage: orderly.SQLiteStorage(path, orderly.SQLiteOptions{Sync: orderly.SyncNormal})})
	s := spec("ord-w")
	s.Lines = append(s.Lines, orderly.Line{SKU: 43, Warehouse: 7, Quantity: 1, UnitPrice: 100})
	if _, err := wide.CreateOrder(s); err != nil {
		t.Fatal(err)
	}
	_ = wide.Close()
	narrow := open(t, orderly.Options{Storage: orderly.SQLiteStorage(path, orderly.SQLiteOptions{Sync: orderly.SyncNormal}), MaxLines: 1})
	_, err := narrow.Apply(orderly.Command{OrderID: "ord-w", Event: orderly.PaymentEvAuthorize, Amount: 2600, Now: at(1)})
	if !errors.Is(err, orderly.ErrNotSupported) || !strings.Contains(err.Error(), "max_lines") {
		t.Fatalf("a command on a wider order: %v", err)
	}
	_ = narrow.Close()
	wide = open(t, orderly.Options{Storage: orderly.SQLiteStorage(path, orderly.SQLiteOptions{Sync: orderly.SyncNormal})})
	if v, err := wide.GetOrder("ord-w"); err != nil || v.PaymentState != orderly.PaymentPending || v.Version != 1 {
		t.Fatalf("the refused command wrote: %+v, %v", v, err)
	}
}

func TestTopicStringIsItsDefaultName(t *testing.T) {
	if s := orderly.TopicPayment.String(); s != "orderly.payment" {
		t.Fatalf("TopicPayment.String() = %q", s)
	}
	if s := orderly.Topic(99).String(); s != "Topic(99)" {
		t.Fatalf("Topic(99).String() = %q", s)
	}
}
