package bench

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// BenchmarkMySQLProtocol measures `iamsql serve --sandbox` (the in-process
// emulated account, no injected latency) over the MySQL protocol with
// go-sql-driver/mysql: the lookup by UserName in a closed loop on 1 and 8
// connections for a fixed time, reporting queries/s and the p50 and p99
// latency of single queries. The server runs as its own process; the
// client shares the machine with it.
func BenchmarkMySQLProtocol(b *testing.B) {
	bin := binary(b)
	srv, err := StartProc(bin, ClientEnv(b.TempDir()), "serving MySQL protocol on", "--sandbox", "serve", "--addr", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	dur := 3 * time.Second
	if Quick() {
		dur = time.Second
	}
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			db, cs := openConns(b, srv.Addr, conns)
			defer db.Close()
			ctx := context.Background()
			for i := range cs {
				defer cs[i].Close()
				for range 20 { // warm-up
					if err := lookup(ctx, cs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			var all []time.Duration
			var total, serverCPU, clientCPU, machine, busy time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s0, err := srv.CPUTime()
				if err != nil {
					b.Fatal(err)
				}
				c0 := SelfCPUTime()
				busy0, total0, err := MachineBusy()
				if err != nil {
					b.Fatal(err)
				}
				lat, elapsed, err := closedLoop(ctx, cs, dur)
				if err != nil {
					b.Fatal(err)
				}
				s1, _ := srv.CPUTime()
				busy1, total1, _ := MachineBusy()
				serverCPU += s1 - s0
				clientCPU += SelfCPUTime() - c0
				busy += busy1 - busy0
				machine += total1 - total0
				all = append(all, lat...)
				total += elapsed
			}
			ms := Millis(all)
			q := float64(len(all))
			b.ReportMetric(q/total.Seconds(), "queries/s")
			b.ReportMetric(Percentile(ms, 50), "p50-ms")
			b.ReportMetric(Percentile(ms, 99), "p99-ms")
			// Where the CPU went: per query in the server and in this
			// client, and how many cores other processes on the machine
			// took meanwhile. cpu-bound-q/s is the throughput the two
			// processes' CPU cost allows with every core to themselves.
			perQuery := (serverCPU + clientCPU).Seconds() / q
			cores := machine.Seconds() / total.Seconds()
			b.ReportMetric(serverCPU.Seconds()*1000/q, "server-cpu-ms/q")
			b.ReportMetric(clientCPU.Seconds()*1000/q, "client-cpu-ms/q")
			b.ReportMetric((busy-serverCPU-clientCPU).Seconds()/total.Seconds(), "other-cores")
			b.ReportMetric(cores/perQuery, "cpu-bound-q/s")
		})
	}
}

// BenchmarkServerMemory measures `iamsql serve --sandbox` after a minute
// (10 s with -quick) of lookups in a closed loop on 8 and then 32
// connections, each on a fresh server: its resident memory at the end and
// its peak, and the throughput it kept.
func BenchmarkServerMemory(b *testing.B) {
	bin := binary(b)
	dur := 60 * time.Second
	if Quick() {
		dur = 10 * time.Second
	}
	for _, conns := range []int{8, 32} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			var rss, peak, qps float64
			for i := 0; i < b.N; i++ {
				srv, err := StartProc(bin, ClientEnv(b.TempDir()), "serving MySQL protocol on", "--sandbox", "serve", "--addr", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				db, cs := openConns(b, srv.Addr, conns)
				lat, elapsed, err := closedLoop(context.Background(), cs, dur)
				if err != nil {
					b.Fatal(err)
				}
				r, p, err := srv.Memory()
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range cs {
					c.Close()
				}
				db.Close()
				_ = srv.Stop()
				rss += float64(r) / 1e6
				peak += float64(p) / 1e6
				qps += float64(len(lat)) / elapsed.Seconds()
			}
			n := float64(b.N)
			b.ReportMetric(rss/n, "rss-MB")
			b.ReportMetric(peak/n, "peak-rss-MB")
			b.ReportMetric(qps/n, "queries/s")
		})
	}
}

// openConns opens conns connections to the server at addr.
func openConns(b *testing.B, addr string, conns int) (*sql.DB, []*sql.Conn) {
	b.Helper()
	db, err := sql.Open("mysql", "bench@tcp("+addr+")/iam")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	cs := make([]*sql.Conn, conns)
	for i := range cs {
		if cs[i], err = db.Conn(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return db, cs
}

// lookup runs the lookup by UserName and reads its rows.
func lookup(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, LookupByUser)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var id, status, created string
		if err := rows.Scan(&id, &status, &created); err != nil {
			rows.Close()
			return err
		}
		n++
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("lookup returned %d rows, want 2", n)
	}
	return nil
}

// closedLoop runs lookups on every connection, each as soon as the last
// answered, for d; it returns each query's latency and the elapsed time.
func closedLoop(ctx context.Context, cs []*sql.Conn, d time.Duration) ([]time.Duration, time.Duration, error) {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, len(cs))
	errs := make([]error, len(cs))
	start := time.Now()
	deadline := start.Add(d)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := time.Now()
				if !t.Before(deadline) {
					return
				}
				if err := lookup(ctx, c); err != nil {
					errs[i] = err
					return
				}
				lats[i] = append(lats[i], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for i := range cs {
		if errs[i] != nil {
			return nil, 0, errs[i]
		}
		all = append(all, lats[i]...)
	}
	return all, elapsed, nil
}
