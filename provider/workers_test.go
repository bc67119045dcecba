package provider

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOnWorkerReturnsResultsAndError(t *testing.T) {
	out, err := onWorker(func() (int, error) { return 42, nil })
	if out != 42 || err != nil {
		t.Fatalf("got %d, %v", out, err)
	}
	boom := errors.New("boom")
	out, err = onWorker(func() (int, error) { return 7, boom })
	if out != 7 || err != boom {
		t.Fatalf("got %d, %v", out, err)
	}
}

func TestOnWorkerRaisesPanicInCaller(t *testing.T) {
	defer func() {
		if v := recover(); v != "bad response" {
			t.Fatalf("recovered %v, want the call's panic", v)
		}
		// The worker survived its job's panic and still serves calls.
		if out, err := onWorker(func() (string, error) { return "ok", nil }); out != "ok" || err != nil {
			t.Fatalf("after a panic: %q, %v", out, err)
		}
	}()
	_, _ = onWorker(func() (int, error) { panic("bad response") })
	t.Fatal("onWorker returned after its call panicked")
}

// Calls run on a kept worker: sequential calls reuse one goroutine, and
// after a burst of concurrent calls at most maxIdleWorkers stay waiting.
func TestOnWorkerKeepsABoundedPool(t *testing.T) {
	base := runtime.NumGoroutine()
	for range 1000 {
		if _, err := onWorker(func() (int, error) { return 0, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := runtime.NumGoroutine(); n > base+1 {
		t.Fatalf("%d goroutines after 1,000 sequential calls, started with %d", n, base)
	}
	release := make(chan struct{})
	var wg sync.WaitGroup
	var running atomic.Int32
	const burst = 3 * maxIdleWorkers
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = onWorker(func() (int, error) { running.Add(1); <-release; return 0, nil })
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() < burst && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // every call on a worker of its own
	}
	if running.Load() != burst {
		t.Fatalf("%d of %d concurrent calls ran at once", running.Load(), burst)
	}
	close(release)
	wg.Wait()
	for time.Now().Before(deadline) {
		if runtime.NumGoroutine() <= base+maxIdleWorkers+1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%d goroutines left after the burst, want at most %d idle workers above %d", runtime.NumGoroutine(), maxIdleWorkers, base)
}
