package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// BenchmarkServerQueries measures MySQL-protocol queries per second: each
// of N connections (go-sql-driver, in this process) runs
// `SELECT AccessKeyId FROM access_keys WHERE region='us-east-1' AND
// UserName='alice'` as fast as it can. Behind the engine is either the
// sandbox (the IAM emulator through the real SDK: signing, XML) or an
// in-memory IAM that answers at once, which measures the server alone.
// cpu-µs/query is the process's CPU time (client and server) per query.
func BenchmarkServerQueries(b *testing.B) {
	for _, backend := range []string{"sandbox", "memory"} {
		for _, conns := range []int{1, 8} {
			b.Run(fmt.Sprintf("iam=%s/conns=%d", backend, conns), func(b *testing.B) {
				addr := benchServer(b, backend)
				benchQueries(b, addr, conns)
			})
		}
	}
}

func benchServer(b *testing.B, backend string) string {
	quiet := slog.New(slog.DiscardHandler)
	if backend == "sandbox" {
		return newWorld(b, worldOptions{Options: Options{Users: []User{rwUser}, Logger: quiet}}).addr
	}
	eng := provider.NewEngine(provider.Config{Clients: awsiam.NewClientsFor(aliceOnlyIAM{})})
	srv, err := New(eng, Options{Addr: "127.0.0.1:0", Users: []User{rwUser}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(context.Background(), time.Second) }()
	b.Cleanup(func() { _ = srv.Close() })
	waitForServer(b, srv.Addr().String())
	return srv.Addr().String()
}

func benchQueries(b *testing.B, addr string, conns int) {
	w := &world{t: b, addr: addr}
	db := w.db(rwUser)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	cs := make([]*sql.Conn, conns)
	for i := range cs {
		c, err := db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	const q = "SELECT AccessKeyId FROM access_keys WHERE region='us-east-1' AND UserName='alice'"
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				got, err := tryRows(c, q)
				if err == nil && len(got) != 2 {
					err = fmt.Errorf("got %v", got)
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "queries/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/query")
	}
}

// aliceOnlyIAM answers ListAccessKeys for alice from memory.
type aliceOnlyIAM struct{ awsiam.API }

var errNotInBenchmark = errors.New("not part of the benchmark")

func (aliceOnlyIAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if aws.ToString(in.UserName) != "alice" {
		return nil, errNotInBenchmark
	}
	created := testNow.AddDate(0, -3, 0)
	return &iam.ListAccessKeysOutput{AccessKeyMetadata: []types.AccessKeyMetadata{
		{AccessKeyId: aws.String("AKIAALICE00000000001"), UserName: aws.String("alice"), Status: types.StatusTypeActive, CreateDate: &created},
		{AccessKeyId: aws.String("AKIAALICE00000000002"), UserName: aws.String("alice"), Status: types.StatusTypeInactive, CreateDate: &created},
	}}, nil
}
