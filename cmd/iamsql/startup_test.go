package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// iamsql's own packages do next to nothing in package init: every run
// pays for it, even --help. (A regexp of \w{16,128} compiled in init and
// the report's HTML template parsed there were 2,500 allocations; they
// are made when first needed now.) go-mysql-server's init, which iamsql
// cannot change, is the floor make bench reports.
func TestOwnPackagesDoLittleInInit(t *testing.T) {
	cmd := exec.Command(binary(t), "-V")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	allocs, seen := 0, 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// init PKG @T ms, C ms clock, B bytes, A allocs
		if len(f) < 11 || f[0] != "init" || !strings.HasPrefix(f[1], "github.com/iamsql/iamsql/") {
			continue
		}
		n, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("unexpected trace line %q", line)
		}
		allocs += n
		seen++
	}
	if seen == 0 {
		t.Fatalf("no init trace of iamsql's packages:\n%s", out)
	}
	if allocs > 1000 {
		t.Errorf("iamsql's packages make %d allocations in init, want at most 1,000:\n%s", allocs, out)
	}
}
