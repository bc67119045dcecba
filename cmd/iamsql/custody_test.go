package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/provider"
)

// awsEnv points the standard AWS configuration at an emulator, with a
// custody journal of the test's own.
func awsEnv(t *testing.T) (state string) {
	t.Helper()
	state = t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.DefaultRootAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.DefaultRootSecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return state
}

func keysOfUser(emu *emulator.Emulator, user string) []string {
	var out []string
	for _, k := range emu.Snapshot().Keys {
		if k.UserName == user {
			out = append(out, k.AccessKeyID)
		}
	}
	return out
}

// A create whose secret was printed leaves nothing in the journal.
func TestDeliveredKeysLeaveNoJournal(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	state := awsEnv(t)
	out, errOut, code := cli(t, "", "--endpoint-url", url, "-o", "csv", "exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	if code != 0 || !strings.Contains(out, "dave") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := len(keysOfUser(emu, "dave")); n != 1 {
		t.Fatalf("dave has %d keys", n)
	}
	files, _ := filepath.Glob(filepath.Join(state, "iamsql", "custody", "*"))
	if len(files) != 0 {
		t.Errorf("journal files left: %v", files)
	}
}

// SIGKILL, which no handler catches, in the middle of a multi-row INSERT:
// the first key was created (its id journaled), the second sent (its
// answer never came). The next start names both, with the statement that
// deals with each; recover --delete deletes the first, and recover
// --dismiss forgets the second once it was checked.
func TestKeysOfAKilledProcessAreReportedAndRecovered(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	awsEnv(t)
	emu.SetAnswerDelay("CreateAccessKey", 1500*time.Millisecond)
	cmd := exec.Command(binary(t), "--endpoint-url", url, "exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('erin', 'us-east-1')")
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(keysOfUser(emu, "erin")) < 2 { // erin's demo key, and the second create
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the second create never reached IAM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	emu.SetAnswerDelay("CreateAccessKey", 0)
	dave := keysOfUser(emu, "dave")
	if len(dave) != 1 {
		t.Fatalf("dave has %v", dave)
	}

	// Any command reports them on its start.
	_, errOut, code := cli(t, "", "--endpoint-url", url, "exec", "SELECT 1")
	if code != 0 || !strings.Contains(errOut, "2 access key(s) left pending") ||
		!strings.Contains(errOut, "access key "+dave[0]+" of user dave") ||
		!strings.Contains(errOut, "DELETE FROM access_keys WHERE AccessKeyId = '"+dave[0]+"' AND UserName = 'dave' AND region = 'us-east-1';") ||
		!strings.Contains(errOut, "outcome unknown: a key may exist for user erin") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	out, _, code := cli(t, "", "--endpoint-url", url, "recover", "--delete")
	if code != 0 || !strings.Contains(out, "deleted") || !strings.Contains(out, "its key id is unknown") {
		t.Fatalf("recover --delete: exit %d, stdout %q", code, out)
	}
	if n := len(keysOfUser(emu, "dave")); n != 0 {
		t.Errorf("dave still has %d keys", n)
	}
	out, _, code = cli(t, "", "recover", "--dismiss")
	if code != 0 || !strings.Contains(out, "forgotten") || strings.Contains(out, "dave") {
		t.Fatalf("recover --dismiss: exit %d, stdout %q", code, out)
	}
	out, _, _ = cli(t, "", "recover")
	if !strings.Contains(out, "No access key is pending") {
		t.Errorf("after recovery: %q", out)
	}
}

// runBinary starts the real binary with args and the test's environment.
func startBinary(t *testing.T, args ...string) (*exec.Cmd, *strings.Builder, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = os.Environ()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errOut
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A signal while IAM holds a CreateAccessKey (carried out, its answer not
// yet back): iamsql waits for the answer, then deletes the key again —
// the statement was cancelled — and says so. SIGINT, SIGTERM, SIGHUP (the
// terminal closed) and SIGQUIT (Ctrl-\) alike.
func TestASignalDuringACreateDeletesTheKeyAndSaysSo(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
			state := awsEnv(t)
			emu.SetAnswerDelay("CreateAccessKey", time.Second)
			cmd, out, errOut := startBinary(t, "--endpoint-url", url, "exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('bob', 'us-east-1')")
			waitFor(t, "the create to reach IAM", func() bool { return len(keysOfUser(emu, "dave")) == 1 })
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code := exitCodeOf(cmd.Wait())
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if n := len(keysOfUser(emu, "dave")); n != 0 {
				t.Errorf("dave has %d keys after the cancel", n)
			}
			if n := len(keysOfUser(emu, "bob")); n != 1 {
				t.Errorf("bob has %d keys: the second row was created after the cancel", n)
			}
			if !strings.Contains(errOut.String(), "were deleted again") {
				t.Errorf("stderr does not say the key was deleted: %q", errOut.String())
			}
			if strings.Contains(out.String(), "AKIA") {
				t.Errorf("stdout shows a key: %q", out.String())
			}
			files, _ := filepath.Glob(filepath.Join(state, "iamsql", "custody", "*"))
			if len(files) != 0 {
				t.Errorf("journal files left: %v", files)
			}
		})
	}
}

// A secret that cannot be written (a full disk, a closed stdout) is not
// delivered: the key is deleted again, the exit status is 1 and stderr
// says why — never "Save the secret access key now".
func TestASecretThatCannotBeWrittenIsNotDelivered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stdout func(t *testing.T) *os.File
	}{
		{"full disk", func(t *testing.T) *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skip("no /dev/full")
			}
			return f
		}},
		{"reader gone", func(t *testing.T) *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			return w
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
			awsEnv(t)
			for _, sql := range []string{"CALL create_access_key('us-east-1', 'dave')", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"} {
				audit := filepath.Join(t.TempDir(), "audit.jsonl")
				cmd := exec.Command(binary(t), "--endpoint-url", url, "--audit-log", audit, "exec", sql)
				cmd.Env = os.Environ()
				stdout := tc.stdout(t)
				var errOut strings.Builder
				cmd.Stdout, cmd.Stderr = stdout, &errOut
				err := cmd.Run()
				stdout.Close()
				if code := exitCodeOf(err); code != 1 {
					t.Errorf("%s: exit %d, want 1; stderr %q", sql, code, errOut.String())
				}
				if n := len(keysOfUser(emu, "dave")); n != 0 {
					t.Errorf("%s: dave has %d keys: the undelivered key was not deleted", sql, n)
				}
				if e := errOut.String(); strings.Contains(e, "Save the secret access key now") || !strings.Contains(e, "could not write the secret access key") {
					t.Errorf("%s: stderr %q", sql, e)
				}
				// The audit log says what iamsql did on its own, and why.
				b, err := os.ReadFile(audit)
				if err != nil {
					t.Fatal(err)
				}
				var ops []string
				for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					var rec provider.AuditRecord
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						t.Fatalf("audit line %q: %v", line, err)
					}
					ops = append(ops, rec.Operation+" "+rec.Outcome+" "+rec.Statement)
				}
				want := []string{"DeleteAccessKey ok (iamsql: deleted again, its secret could not be written)",
					"CreateAccessKey rolled_back (iamsql: deleted again, its secret could not be written)"}
				if len(ops) != 3 || !slices.Equal(ops[1:], want) {
					t.Errorf("%s: audit log %q, want a create then %q", sql, ops, want)
				}
			}
		})
	}
}

// A create whose answer is lost (dropped connection) is not retried, and
// the error says the outcome is unknown and how to check; the journal
// keeps the entry for the next start.
func TestALostCreateAnswerIsReportedUnknownAndJournaled(t *testing.T) {
	emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
	awsEnv(t)
	emu.DropNextAnswer("CreateAccessKey", 1)
	_, errOut, code := cli(t, "", "--endpoint-url", url, "exec", "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	if code != 1 || !strings.Contains(errOut, "the outcome is unknown") || !strings.Contains(errOut, "It was not retried") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if emu.Calls()["CreateAccessKey"] != 1 || len(keysOfUser(emu, "dave")) != 1 {
		t.Fatalf("calls %v, dave's keys %v", emu.Calls(), keysOfUser(emu, "dave"))
	}
	_, errOut, _ = cli(t, "", "--endpoint-url", url, "exec", "SELECT 1")
	if !strings.Contains(errOut, "a key may exist for user dave") {
		t.Errorf("the next start does not report it: %q", errOut)
	}
}
