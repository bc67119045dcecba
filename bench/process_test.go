package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

// binary returns the iamsql binary, skipping when none can be built.
func binary(b *testing.B) string {
	b.Helper()
	bin, err := Binary()
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// startDemoEmulator runs `iamsql emulator --seed demo` on a free port
// until the benchmark ends.
func startDemoEmulator(b *testing.B, bin string, env []string) *Proc {
	b.Helper()
	emu, err := StartProc(bin, env, "IAM emulator listening on", "emulator", "--addr", "127.0.0.1:0", "--seed", "demo")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = emu.Stop() })
	return emu
}

// BenchmarkExecVsAWSCLI times whole processes against one `iamsql
// emulator --seed demo` process on a free port: `iamsql exec` of a lookup
// by UserName beside `aws iam list-access-keys --user-name alice`, the
// same IAM call from the aws CLI. The two run interleaved (alternating
// which goes first) in the same environment; each gets one untimed
// warm-up run. It reports the medians and their ratio.
func BenchmarkExecVsAWSCLI(b *testing.B) {
	bin := binary(b)
	aws := AWSCLI()
	if _, err := os.Stat(aws); err != nil {
		b.Skipf("aws CLI not available: %v", err)
	}
	env := ClientEnv(b.TempDir())
	emu := startDemoEmulator(b, bin, env)

	ctx := context.Background()
	iamsqlArgs := []string{"--endpoint-url", emu.Addr, "exec", LookupByUser}
	awsArgs := []string{"--endpoint-url", emu.Addr, "iam", "list-access-keys", "--user-name", "alice"}
	runOne := func(name string, args []string) Run {
		exe := bin
		if name == "aws" {
			exe = aws
		}
		r, err := RunProc(ctx, exe, env, args...)
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range []string{"AKIAALICE00000000001", "AKIAALICE00000000002"} {
			if !bytes.Contains(r.Stdout, []byte(id)) {
				b.Fatalf("%s printed no %s:\n%s\n%s", name, id, r.Stdout, r.Stderr)
			}
		}
		return r
	}
	if v, err := RunProc(ctx, aws, env, "--version"); err == nil {
		b.Logf("comparing with %s", bytes.TrimSpace(append(v.Stdout, v.Stderr...)))
	}
	runOne("iamsql", iamsqlArgs)
	runOne("aws", awsArgs)

	runs := 9
	if Quick() {
		runs = 5
	}
	var iamsqlWall, awsWall, iamsqlCPU, awsCPU []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < runs; j++ {
			order := []string{"iamsql", "aws"}
			if j%2 == 1 {
				order = []string{"aws", "iamsql"}
			}
			for _, name := range order {
				if name == "aws" {
					r := runOne(name, awsArgs)
					awsWall, awsCPU = append(awsWall, r.Wall), append(awsCPU, r.CPU)
				} else {
					r := runOne(name, iamsqlArgs)
					iamsqlWall, iamsqlCPU = append(iamsqlWall, r.Wall), append(iamsqlCPU, r.CPU)
				}
			}
		}
	}
	mi, ma := Median(Millis(iamsqlWall)), Median(Millis(awsWall))
	b.ReportMetric(mi, "iamsql-ms")
	b.ReportMetric(ma, "aws-ms")
	b.ReportMetric(ma/mi, "speedup-x")
	b.ReportMetric(Median(Millis(iamsqlCPU)), "iamsql-cpu-ms")
	b.ReportMetric(Median(Millis(awsCPU)), "aws-cpu-ms")
}

// BenchmarkInventoryCSVPeakRSS runs `iamsql -o csv exec` of the full scan
// of access_keys (the account-wide inventory) against an emulator holding N users with 2 keys each (in this
// process, on a loopback port) and reports the child's peak RSS from its
// rusage (ru_maxrss, read by the small bench/rusage launcher: read here,
// it would include this process's own peak). N = 2,500, 5,000 and 10,000
// show how memory grows with the account.
func BenchmarkInventoryCSVPeakRSS(b *testing.B) {
	bin := binary(b)
	ctx := context.Background()
	for _, n := range []int{2500, 5000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			emu, err := emulator.New(emulator.Options{})
			if err != nil {
				b.Fatal(err)
			}
			seedUsers(b, emu, n, 2)
			srv, err := emu.Listen("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			env := ClientEnv(b.TempDir())
			var peak int64
			var wall time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := RunProcRSS(ctx, bin, env, "--endpoint-url", srv.URL, "-o", "csv", "exec", FullScan)
				if err != nil {
					b.Fatal(err)
				}
				if r.Lines != 2*n+2 {
					b.Fatalf("%d CSV lines, want %d (header + 2 keys × %d users + the root key)", r.Lines, 2*n+2, n)
				}
				peak = max(peak, r.MaxRSS)
				wall += r.Wall
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
			b.ReportMetric((wall / time.Duration(b.N)).Seconds(), "wall-s")
		})
	}
}

// BenchmarkExecVsSignedCurl times a one-shot lookup beside the least a
// client can do for it: `curl --aws-sigv4` of the same ListAccessKeys
// call to the same `iamsql emulator` endpoint (issue 19's reference).
// Beside them runs `iamsql -V`, which does nothing but start: Go's
// runtime and the init of every package iamsql links (go-mysql-server's
// information_schema, types and variables above all). It is the floor of
// any iamsql run; GODEBUG=inittrace=1 on it gives init's own share. The
// three run interleaved, 15 times each after a warm-up; medians.
func BenchmarkExecVsSignedCurl(b *testing.B) {
	bin := binary(b)
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Skipf("curl not available: %v", err)
	}
	env := ClientEnv(b.TempDir())
	emu := startDemoEmulator(b, bin, env)

	ctx := context.Background()
	runs := map[string][]string{
		"iamsql": {bin, "--endpoint-url", emu.Addr, "exec", LookupByUser},
		"curl": {curl, "-sS", "--fail", "--aws-sigv4", "aws:amz:us-east-1:iam", "--user", RootAccessKeyID + ":" + RootSecretAccessKey,
			"-d", "Action=ListAccessKeys&UserName=alice&Version=2010-05-08", emu.Addr + "/"},
		"floor": {bin, "-V"},
	}
	order := []string{"iamsql", "curl", "floor"}
	runOne := func(name string) Run {
		args := runs[name]
		r, err := RunProc(ctx, args[0], env, args[1:]...)
		if err != nil {
			b.Fatal(err)
		}
		if name != "floor" && !bytes.Contains(r.Stdout, []byte("AKIAALICE00000000002")) {
			b.Fatalf("%s printed no AKIAALICE00000000002:\n%s\n%s", name, r.Stdout, r.Stderr)
		}
		return r
	}
	for _, name := range order {
		runOne(name)
	}
	n := 15
	if Quick() {
		n = 7
	}
	walls := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			for k := range order {
				name := order[(j+k)%len(order)]
				walls[name] = append(walls[name], runOne(name).Wall)
			}
		}
	}
	b.StopTimer()
	mi, mc, mf := Median(Millis(walls["iamsql"])), Median(Millis(walls["curl"])), Median(Millis(walls["floor"]))
	b.ReportMetric(mi, "iamsql-ms")
	b.ReportMetric(mc, "curl-ms")
	b.ReportMetric(mf, "floor-ms")
	b.ReportMetric(mi/mc, "x-curl")
	b.ReportMetric(mf/mc, "floor-x-curl")

	// Package init's own time, from the runtime's trace of `iamsql -V`.
	var inits []float64
	for j := 0; j < 5; j++ {
		r, err := RunProc(ctx, bin, append(env, "GODEBUG=inittrace=1"), "-V")
		if err != nil {
			b.Fatal(err)
		}
		inits = append(inits, InitMillis(r.Stderr))
	}
	b.ReportMetric(Median(inits), "init-ms")
}
