package report_test

import (
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/report"
)

// inventoryAtLatency times a full report over 1,000 users with 50 ms added
// to every IAM call, and returns the wall time, the calls and the ideal:
// every call spread over the engine's 16 concurrent slots.
func inventoryAtLatency(tb testing.TB) (wall, ideal time.Duration, calls int) {
	const latency, concurrency = 50 * time.Millisecond, 16
	w := newWorld(tb, worldOptions{latency: latency})
	seedAccount(tb, w.emu, accountUsers)
	start := time.Now()
	r := w.run(tb, report.Options{})
	wall = time.Since(start)
	for _, n := range r.Calls {
		calls += n
	}
	ideal = time.Duration((calls+concurrency-1)/concurrency) * latency
	return wall, ideal, calls
}

func TestReportInventoryWallTimeThousandUsersAt50ms(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds of injected latency")
	}
	wall, ideal, calls := inventoryAtLatency(t)
	sequential := time.Duration(calls) * 50 * time.Millisecond
	t.Logf("1,000-user report at 50 ms per IAM call: %d calls in %v (ideal at concurrency 16: %v, %.2fx; one at a time: %v)",
		calls, wall.Round(time.Millisecond), ideal, float64(wall)/float64(ideal), sequential)
	if wall > sequential/4 {
		t.Errorf("the inventory ran nearly one call at a time: %v for %d calls", wall, calls)
	}
}

func BenchmarkReportInventoryThousandUsersAt50ms(b *testing.B) {
	for b.Loop() {
		wall, ideal, calls := inventoryAtLatency(b)
		b.ReportMetric(float64(wall.Milliseconds()), "wall-ms")
		b.ReportMetric(float64(ideal.Milliseconds()), "ideal-ms")
		b.ReportMetric(float64(calls), "iam-calls")
	}
}
