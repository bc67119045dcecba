// Command driver runs iamsql's benchmarks and prints the summary table
// (make bench, make bench-quick). It builds the iamsql binary once, runs
// the Go benchmarks of ./bench (whole-process timings among them) and
// ./provider -count times, streams their output, and checks the medians
// over the runs against the targets of bench/summary.go. It exits 1 when a
// target is missed or a benchmark did not run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/iamsql/iamsql/bench"
)

// The benchmarks the summary needs; the Profile* ones are diagnostics.
const (
	benchPattern    = "^(BenchmarkIAMCalls|BenchmarkInventory|BenchmarkMySQLProtocol|BenchmarkServerMemory|BenchmarkExecVsAWSCLI|BenchmarkExecVsSignedCurl|BenchmarkInventoryCSVPeakRSS|BenchmarkOrgInventory|BenchmarkOrgInventoryCSVPeakRSS|BenchmarkReport)$"
	providerPattern = "^BenchmarkEngineSelectByUserName$"
)

func main() {
	count := flag.Int("count", 3, "runs of each benchmark; the table shows medians")
	quick := flag.Bool("quick", false, "one run, fewer repetitions inside it (a smoke test of the targets)")
	bin := flag.String("bin", "", "measure this iamsql binary instead of building ./cmd/iamsql (to compare builds)")
	flag.Parse()
	if *quick {
		*count = 1
	}
	os.Exit(run(*count, *quick, *bin))
}

func run(count int, quick bool, bin string) int {
	start := time.Now()
	root, err := bench.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	dir, err := os.MkdirTemp("", "iamsql-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)

	if bin != "" {
		if bin, err = filepath.Abs(bin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	} else {
		fmt.Printf("== building iamsql (go build ./cmd/iamsql)\n")
		if bin, err = bench.Build(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	launcher, err := bench.BuildLauncher(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	load0 := loadavg()

	env := append(os.Environ(), bench.EnvBinary+"="+bin, bench.EnvLauncher+"="+launcher)
	if quick {
		env = append(env, bench.EnvQuick+"=1")
	}
	results := bench.Results{}
	n := strconv.Itoa(count)
	steps := []struct {
		pkg  string
		args []string
	}{
		{"./bench", []string{"-bench", benchPattern, "-benchtime", "1x", "-count", n}},
		{"./provider", []string{"-bench", providerPattern, "-benchmem", "-count", n}},
	}
	failed := false
	for _, s := range steps {
		args := append([]string{"test", "-run", "^$", "-timeout", "30m"}, s.args...)
		args = append(args, s.pkg)
		fmt.Printf("\n== go %s\n", strings.Join(args, " "))
		var out bytes.Buffer
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = root, env
		cmd.Stdout = io.MultiWriter(os.Stdout, &out)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Printf("go test %s: %v\n", s.pkg, err)
			failed = true
		}
		if err := bench.Parse(&out, results); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}

	fmt.Printf("\n== iamsql benchmark summary: medians of %d run(s); %d CPUs; %s; %s; load average %s before, %s after; %s in all\n\n",
		count, runtime.NumCPU(), runtime.Version(), awsVersion(), load0, loadavg(), time.Since(start).Round(time.Second))
	ok := bench.WriteTable(os.Stdout, bench.Summarize(results))
	if !ok || failed {
		fmt.Println("\nSome targets were missed or not measured (see bench/README.md).")
		return 1
	}
	fmt.Println("\nEvery target met.")
	return 0
}

// loadavg is the 1-minute load average: the table is only as good as the
// machine was quiet.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// awsVersion names the aws CLI the exec benchmark compares with.
func awsVersion() string {
	out, err := exec.Command(bench.AWSCLI(), "--version").CombinedOutput()
	if err != nil {
		return "no aws CLI at " + bench.AWSCLI()
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "aws CLI: unknown version"
	}
	return f[0]
}
