//go:build cgo

package orderly_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"orderly.dev/go/orderly"
	"orderly.dev/go/orderly/memstore"
)

// faulty is a Go storage whose Save fails or panics on demand, and which
// reports when the engine lets go of it.
type faulty struct {
	*memstore.Handle
	saveErr   error
	savePanic bool
	closed    chan struct{}
}

func (f *faulty) Save(tx orderly.Txn, key string, data []byte, expected uint64) error {
	if f.savePanic {
		panic("disk on fire")
	}
	if f.saveErr != nil {
		return f.saveErr
	}
	return f.Handle.Save(tx, key, data, expected)
}

func (f *faulty) Close() error {
	if f.closed != nil {
		close(f.closed)
	}
	return nil
}

func newFaulty() *faulty { return &faulty{Handle: memstore.New().Open()} }

func TestAdapterErrorComesBackAsIs(t *testing.T) {
	f := newFaulty()
	e := open(t, orderly.Options{Storage: orderly.GoStorage(f)})
	errDisk := errors.New("disk full")
	f.saveErr = errDisk
	_, err := e.CreateOrder(spec("ord-1"))
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the adapter's own error inside", err)
	}
	var oe *orderly.Error
	if !errors.As(err, &oe) || !strings.Contains(oe.Message, "disk full") {
		t.Fatalf("got %#v", err)
	}
	f.saveErr = nil
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatalf("after the adapter recovered: %v", err)
	}
}

func TestAdapterCodesMapOneToOne(t *testing.T) {
	f := newFaulty()
	e := open(t, orderly.Options{Storage: orderly.GoStorage(f)})
	f.saveErr = orderly.NewError(orderly.CodeConflict, "someone else won")
	_, err := e.CreateOrder(spec("ord-1"))
	if !errors.Is(err, orderly.ErrConflict) || !err.(*orderly.Error).Temporary() {
		t.Fatalf("got %v, want a temporary ErrConflict after the retries", err)
	}
	if st, _ := e.Stats(); st.ConflictsRetried == 0 {
		t.Fatalf("no conflict was retried: %+v", st)
	}
}

func TestAdapterPanicBecomesAnError(t *testing.T) {
	f := newFaulty()
	e := open(t, orderly.Options{Storage: orderly.GoStorage(f)})
	f.savePanic = true
	_, err := e.CreateOrder(spec("ord-1"))
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	f.savePanic = false
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatalf("the engine is unusable after a recovered panic: %v", err)
	}
}

func TestTransportErrorsAndPanicsCostAnAttempt(t *testing.T) {
	for name, publish := range map[string]orderly.TransportFunc{
		"error": func(string, string, []byte, []orderly.Header) error { return errors.New("rejected") },
		"panic": func(string, string, []byte, []orderly.Header) error { panic("broker bug") },
	} {
		t.Run(name, func(t *testing.T) {
			e := open(t, orderly.Options{Transport: orderly.GoTransport(publish)})
			if _, err := e.CreateOrder(spec("ord-1")); err != nil {
				t.Fatal(err)
			}
			if n, err := e.Pump(at(1), 0); err != nil || n != 0 {
				t.Fatalf("Pump = %d, %v", n, err)
			}
			rows, err := e.ListOutbox(orderly.AnyState, 0, 10)
			if err != nil || len(rows) != 1 || rows[0].Attempts != 1 || rows[0].State != orderly.ItemReady {
				t.Fatalf("outbox %+v, %v", rows, err)
			}
		})
	}
}

func TestBrokerAwayCostsNoAttempt(t *testing.T) {
	full := make(chan orderly.Message) // unbuffered, never read: always full
	e := open(t, orderly.Options{Transport: orderly.GoTransport(orderly.ChannelTransport(full))})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Pump(at(1), 0); err != nil || n != 0 {
		t.Fatalf("Pump = %d, %v", n, err)
	}
	h, err := e.Health(at(2), 0, 0)
	if rows, _ := e.ListOutbox(orderly.AnyState, 0, 10); err != nil || rows[0].Attempts != 0 || h.TransportOutage == 0 {
		t.Fatalf("a full channel is an outage, not a refusal: %+v, %+v", rows, h)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	f := newFaulty()
	f.closed = make(chan struct{})
	e, err := orderly.Open(orderly.Options{Storage: orderly.GoStorage(f), Transport: orderly.MemoryTransport(false)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.closed:
	default:
		t.Fatal("Close did not release the Go storage")
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.CreateOrder(spec("ord-1")); !errors.Is(err, orderly.ErrClosed) || !errors.Is(err, orderly.ErrMisuse) {
		t.Fatalf("use after close: %v", err)
	}
	if _, err := e.Pump(at(1), 0); err != orderly.ErrClosed {
		t.Fatalf("Pump after close: %v", err)
	}
	if e.Topic(orderly.TopicOrder) != "" || e.LastError() != orderly.ErrClosed {
		t.Fatal("Topic or Error after close")
	}
}

func TestFinalizerClosesADroppedEngine(t *testing.T) {
	f := newFaulty()
	f.closed = make(chan struct{})
	func() {
		e, err := orderly.Open(orderly.Options{Storage: orderly.GoStorage(f), Transport: orderly.MemoryTransport(false)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.CreateOrder(spec("ord-1")); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		runtime.GC()
		select {
		case <-f.closed:
			return
		default:
			runtime.Gosched()
		}
	}
	t.Fatal("the finalizer never closed the dropped engine")
}

func TestFailedOpenReleasesTheGoAdapters(t *testing.T) {
	f := newFaulty()
	f.closed = make(chan struct{})
	p := orderly.DefaultPolicy()
	p.BatchMax = 0
	_, err := orderly.Open(orderly.Options{Storage: orderly.GoStorage(f), Transport: orderly.MemoryTransport(false), Policy: &p})
	if !errors.Is(err, orderly.ErrConfig) {
		t.Fatalf("batch_max 0: %v", err)
	}
	select {
	case <-f.closed:
	default:
		t.Fatal("the failed open kept the Go storage")
	}
}

func TestCallbackCallingTheEngineIsRefused(t *testing.T) {
	var e *orderly.Engine
	var inner error
	e = open(t, orderly.Options{OnWork: func(int) { _, inner = e.Pump(at(1), 0) }})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(inner, orderly.ErrMisuse) {
		t.Fatalf("a call from inside a callback: %v", inner)
	}
}

func TestCallbackPanicSurfacesAfterTheCall(t *testing.T) {
	e := open(t, orderly.Options{OnWork: func(int) { panic("host bug") }})
	func() {
		defer func() {
			if p := recover(); p != "host bug" {
				t.Fatalf("recovered %v", p)
			}
		}()
		_, _ = e.CreateOrder(spec("ord-1"))
		t.Fatal("no panic")
	}()
	if _, err := e.GetOrder("ord-1"); err != nil {
		t.Fatalf("the engine after a callback panic: %v", err)
	}
}

func TestTwoGoroutinesNeverShareACall(t *testing.T) {
	e := open(t, orderly.Options{})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_, err := e.GetOrder("ord-1")
				if err != nil && !errors.Is(err, orderly.ErrMisuse) {
					t.Errorf("GetOrder: %v", err)
					return
				}
				if err != nil {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d of 2000 concurrent calls refused", refused)
}

func TestAlertAndClockReachGo(t *testing.T) {
	var alerts []orderly.Alert
	clockCalls := 0
	p := orderly.DefaultPolicy()
	p.OutboxMaxAttempts = 1
	refuse := orderly.TransportFunc(func(topic, _ string, _ []byte, _ []orderly.Header) error {
		if strings.HasSuffix(topic, ".dlq") {
			return nil
		}
		return errors.New("schema rejected")
	})
	e := open(t, orderly.Options{Policy: &p, Transport: orderly.GoTransport(refuse),
		OnAlert: func(a orderly.Alert) { alerts = append(alerts, a) },
		Clock:   func() time.Time { clockCalls++; return at(1) }})
	if _, err := e.CreateOrder(spec("ord-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pump(at(1), 0); err != nil {
		t.Fatal(err)
	}
	if len(alerts) == 0 || alerts[0].Kind != orderly.AlertDeadLetter || alerts[0].Group != "ord-1" ||
		alerts[0].Queue != orderly.QueueOutbox {
		t.Fatalf("alerts %+v", alerts)
	}
	if clockCalls == 0 {
		t.Fatal("the dispatcher never read the Go clock")
	}
	if rows, _ := e.ListOutbox(orderly.ItemDead, 0, 10); len(rows) == 0 {
		t.Fatal("no dead row")
	}
}

func TestAdapterNativeCodeReachesTheCaller(t *testing.T) {
	f := newFaulty()
	e := open(t, orderly.Options{Storage: orderly.GoStorage(f)})
	f.saveErr = &orderly.Error{Code: orderly.CodeStorage, Name: orderly.CodeStorage.Name(), Message: "disk gone", Native: 28}
	_, err := e.CreateOrder(spec("ord-1"))
	var oe *orderly.Error
	if !errors.As(err, &oe) || oe.Code != orderly.CodeStorage || oe.Native != 28 {
		t.Fatalf("got %#v, want ErrStorage with Native 28", err)
	}
	if last := e.LastError(); !errors.As(last, &oe) || oe.Native != 28 {
		t.Fatalf("LastError() = %#v", last)
	}
	f.saveErr = nil
	if _, err := e.GetOrder("nope"); !errors.As(err, &oe) || oe.Native != 0 {
		t.Fatalf("an engine refusal carries Native %d", oe.Native)
	}
}
