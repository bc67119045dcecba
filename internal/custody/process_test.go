package custody

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The process tests run this test binary again as a child that journals
// key creations (childEnv says how), to end it as a real process ends.
const (
	childEnv    = "IAMSQL_CUSTODY_TEST_CHILD"
	childDirEnv = "IAMSQL_CUSTODY_TEST_DIR"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode, os.Getenv(childDirEnv)))
	}
	os.Exit(m.Run())
}

// childKeyID is the key id the child with pid records for alice.
func childKeyID(pid int) string { return fmt.Sprintf("AKIACHILD%011d", pid) }

// child journals three creations: alice's key created (its delivery not
// recorded yet), bob's sent without an answer, carol's delivered. Mode
// "wait" then says "ready PATH" and waits to be killed; mode "finish"
// resolves the first two as well, closes the journal and exits.
func child(mode, dir string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	j, err := Open(dir, Meta{Endpoint: "https://iam.amazonaws.com", Account: "111122223333", Profile: "prod", Command: []string{"iamsql", "exec", "…"}})
	if err != nil {
		return fail(err)
	}
	var entries []*Entry
	for _, u := range []string{"alice", "bob", "carol"} {
		e, err := j.Intent(Creation{UserName: u, Region: "us-east-1", Statement: "INSERT INTO access_keys (UserName, region) VALUES ('" + u + "', 'us-east-1')"})
		if err != nil {
			return fail(err)
		}
		entries = append(entries, e)
	}
	steps := []error{
		entries[0].Created(childKeyID(os.Getpid())),
		entries[2].Created(fmt.Sprintf("AKIACAROL%011d", os.Getpid())),
		entries[2].Resolve(Delivered),
	}
	if mode == "finish" {
		steps = append(steps, entries[0].Resolve(RolledBack), entries[1].Resolve(Failed), j.Close())
	}
	for _, err := range steps {
		if err != nil {
			return fail(err)
		}
	}
	if mode == "finish" {
		return 0
	}
	fmt.Println("ready", j.Path())
	time.Sleep(time.Hour)
	return 0
}

// startChild runs a child journaling into dir; ready waits until it
// says so and returns its journal's path.
func startChild(t *testing.T, dir string) (cmd *exec.Cmd, ready func() string) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=wait", childDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, func() string {
		t.Helper()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		path, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
		if !ok {
			t.Fatalf("child said %q", line)
		}
		return path
	}
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	must(t, cmd.Process.Kill()) // SIGKILL: no handler runs
	_ = cmd.Wait()
}

func TestEntriesOfAKilledProcessAreListed(t *testing.T) {
	dir := t.TempDir()
	cmd, ready := startChild(t, dir)
	path := ready()
	if ps := listPending(t, dir); len(ps) != 0 {
		t.Fatalf("the live child's entries were listed: %+v", ps)
	}
	kill(t, cmd)
	ps := listPending(t, dir)
	if len(ps) != 2 {
		t.Fatalf("pending %+v", ps)
	}
	pid := cmd.Process.Pid
	alice, bob := ps[0], ps[1]
	if alice.KeyID != childKeyID(pid) || alice.UserName != "alice" || alice.Orphaned {
		t.Errorf("alice %+v", alice)
	}
	if bob.KeyID != "" || bob.UserName != "bob" {
		t.Errorf("bob %+v", bob)
	}
	for _, p := range ps {
		if p.File != path || p.PID != pid || p.Region != "us-east-1" || p.Account != "111122223333" || p.Profile != "prod" ||
			p.Endpoint != "https://iam.amazonaws.com" || !strings.Contains(p.Statement, p.UserName) {
			t.Errorf("context %+v", p)
		}
	}
	if want := "DELETE FROM access_keys WHERE AccessKeyId = '" + childKeyID(pid) + "' AND UserName = 'alice' AND region = 'us-east-1';"; alice.RecoverySQL() != want {
		t.Errorf("RecoverySQL %q", alice.RecoverySQL())
	}
	t.Logf("%s\n  %s\n%s\n  %s", alice.Describe(), alice.RecoverySQL(), bob.Describe(), bob.RecoverySQL())
	must(t, Clear(alice, RolledBack))
	must(t, Clear(bob, Failed))
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files after clearing: %v", n)
	}
}

func TestConcurrentProcessesKeepTheirOwnJournals(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	type started struct {
		cmd  *exec.Cmd
		path string
	}
	// All start at once, and create their journals at the same time.
	var children []started
	var waits []func() string
	for range n {
		cmd, ready := startChild(t, dir)
		children = append(children, started{cmd: cmd})
		waits = append(waits, ready)
	}
	paths := map[string]bool{}
	for i, ready := range waits {
		children[i].path = ready()
		paths[children[i].path] = true
	}
	if len(paths) != n || len(names(t, dir)) != n {
		t.Fatalf("journals %v, files %v", paths, names(t, dir))
	}
	// One of them dies: only its entries are listed.
	kill(t, children[0].cmd)
	ps := listPending(t, dir)
	if len(ps) != 2 || ps[0].PID != children[0].cmd.Process.Pid || ps[1].PID != children[0].cmd.Process.Pid {
		t.Fatalf("pending %+v", ps)
	}
	for _, c := range children[1:] {
		kill(t, c.cmd)
	}
	ps = listPending(t, dir)
	pids := map[int]int{}
	for _, p := range ps {
		pids[p.PID]++
		if p.UserName == "alice" && p.KeyID != childKeyID(p.PID) {
			t.Errorf("alice's key of %d: %+v", p.PID, p)
		}
	}
	if len(ps) != 2*n || len(pids) != n {
		t.Fatalf("pending of %d processes: %v", len(pids), pids)
	}
}

func TestAProcessThatResolvesEverythingLeavesNoFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custody")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=finish", childDirEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Fatalf("files %v", n)
	}
}
