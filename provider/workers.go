package provider

// IAM calls run on long-lived worker goroutines rather than on the
// goroutine that asks for them.
//
// go-mysql-server drains each statement's rows on a goroutine it starts
// for that statement, and an SDK call is deep (some sixty frames of
// middleware, the HTTP client and, for the sandbox, the emulator's
// handler): on a fresh goroutine its stack grows from 2 KB by copying,
// several times per statement. Measured on the sandbox over the MySQL
// protocol, that copying (runtime.newstack) was 5-8% of the server's CPU.
// A worker keeps the stack it grew, so the next call finds room. The
// hand-off costs two goroutine switches and is otherwise invisible: the
// caller waits for the result, and a panic in the call is raised again in
// the caller, where the engine's recovery handles it as before.

// maxIdleWorkers bounds the workers kept waiting between calls; more run
// at once when more calls do, and the extra ones end when they finish.
const maxIdleWorkers = 64

var idleWorkers = make(chan chan func(), maxIdleWorkers)

// onWorker runs f on a worker goroutine and returns its results.
func onWorker[T any](f func() (T, error)) (T, error) {
	var (
		out      T
		err      error
		panicked any
		done     = make(chan struct{})
	)
	job := func() {
		defer func() {
			panicked = recover()
			close(done)
		}()
		out, err = f()
	}
	select {
	case w := <-idleWorkers:
		w <- job
	default:
		go work(job)
	}
	<-done
	if panicked != nil {
		panic(panicked)
	}
	return out, err
}

// work runs job, then waits for more while there is room among the idle.
func work(job func()) {
	jobs := make(chan func())
	for {
		job()
		select {
		case idleWorkers <- jobs:
		default:
			return
		}
		job = <-jobs
	}
}
