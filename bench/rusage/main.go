// Command rusage runs a command and records the peak resident set size
// the kernel reports for it (wait4's ru_maxrss), for the memory
// benchmark.
//
// Why a separate process: Go starts children with vfork semantics, so the
// kernel folds the parent's own high-water RSS into the child's ru_maxrss
// when the child execs. Measured from a benchmark process that holds an
// emulator of 10,000 users, every child would "peak" at the benchmark's
// size. This launcher is small, so the figure it reads is the child's.
//
// Usage: rusage -o FILE command [args...]; the child's stdin, stdout and
// stderr are this process's, and its exit code is returned.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Result is what -o receives.
type Result struct {
	MaxRSSKB int64 `json:"max_rss_kb"`
	ExitCode int   `json:"exit_code"`
}

func main() {
	out := flag.String("o", "", "write the child's rusage here (JSON)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rusage -o FILE command [args...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(2)
	}
	r := Result{ExitCode: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSSKB = ru.Maxrss // kilobytes on Linux
	}
	b, _ := json.Marshal(r)
	if err := os.WriteFile(*out, b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(2)
	}
	os.Exit(r.ExitCode)
}
