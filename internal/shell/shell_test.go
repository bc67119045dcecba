package shell

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/run"
	"github.com/iamsql/iamsql/schema"
)

const aliceKeys = "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"

func TestMultiLineStatementRunsAtItsSemicolon(t *testing.T) {
	r := newRig(t, typed(
		"SELECT AccessKeyId, Status",
		"FROM access_keys WHERE region = 'us-east-1'",
		"AND UserName = 'alice';",
	))
	r.mustRun()
	r.wantOut("| AKIAALICE00000000001 | Active   |", "| AKIAALICE00000000002 | Inactive |")
	want := []string{"iam> ", "  -> ", "  -> ", "iam> "}
	if !reflect.DeepEqual(r.in.prompts, want) {
		t.Errorf("prompts %q, want %q", r.in.prompts, want)
	}
	if got := r.emu.Calls()["ListAccessKeys"]; got != 1 {
		t.Errorf("ListAccessKeys calls %d, want 1", got)
	}
}

func TestContinuationPromptSaysWhatIsOpen(t *testing.T) {
	r := newRig(t, typed("SELECT 'a;", "b' AS s, 1 AS `x", "y`, /* note", "*/ 2 AS z;"))
	r.mustRun()
	want := []string{"iam> ", "  '> ", "  `> ", " /*> ", "iam> "}
	if !reflect.DeepEqual(r.in.prompts, want) {
		t.Errorf("prompts %q, want %q", r.in.prompts, want)
	}
	r.wantOut("| a;")
}

func TestSeveralStatementsOnOneLine(t *testing.T) {
	r := newRig(t, typed("SELECT 1 AS one; SELECT 2 AS two;"))
	r.mustRun()
	r.wantOut("| one |", "| two |")
}

func TestBackslashGPrintsThatResultVertically(t *testing.T) {
	r := newRig(t, typed(aliceKeys+`\G`, "SELECT 1 AS one;"))
	r.mustRun()
	r.wantOut(
		"*************************** 1. row ***************************\nAccessKeyId: AKIAALICE00000000001\n     Status: Active\n",
		"*************************** 2. row ***************************\nAccessKeyId: AKIAALICE00000000002\n     Status: Inactive\n",
		"| one |", // the next statement is back in the table format
	)
}

func TestBackslashCClearsTheStatement(t *testing.T) {
	r := newRig(t, typed("SELECT * FROM", `no_such_table \c`, "SELECT 1 AS one;"))
	r.mustRun()
	r.wantOut("| one |")
	if r.err.Len() != 0 {
		t.Errorf("stderr %q", r.err)
	}
}

func TestOutputFormatCommand(t *testing.T) {
	r := newRig(t, typed(`\o csv`, aliceKeys+";", `\o`, `\o yaml`, `\o json`, "SELECT 1 AS one;"))
	r.mustRun()
	r.wantOut("AccessKeyId,Status\nAKIAALICE00000000001,Active\nAKIAALICE00000000002,Inactive\n",
		"Output format: csv", "[\n  {\"one\":1}\n]\n")
	r.wantErr("Output format is csv", `unknown output format "yaml"`, "Output format is json")
}

func TestTimingShowsElapsedTimeAndIAMCalls(t *testing.T) {
	r := newRig(t, typed(`\timing`, aliceKeys+";",
		"SELECT AccessKeyId, LastUsedDate FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';",
		`\timing off`, "SELECT 1 AS one;"))
	r.mustRun()
	r.wantErr("Timing is on", "Timing is off")
	lines := regexp.MustCompile(`(?m)^Time: .*$`).FindAllString(r.err.String(), -1)
	want := []string{
		"Time: 0.000 sec, 1 IAM call (ListAccessKeys 1)",
		"Time: 0.000 sec, 3 IAM calls (GetAccessKeyLastUsed 2, ListAccessKeys 1)",
	}
	if len(lines) != len(want) {
		t.Fatalf("timing lines %q, want %d like %q", lines, len(want), want)
	}
	for i, l := range lines {
		if got := regexp.MustCompile(`\d+\.\d{3} sec`).ReplaceAllString(l, "0.000 sec"); got != want[i] {
			t.Errorf("timing line %q, want %q (with the time)", l, want[i])
		}
	}
}

func TestHelpListsMetaCommands(t *testing.T) {
	for _, cmd := range []string{"help", `\?`, `\h`, "HELP;", "?"} {
		t.Run(cmd, func(t *testing.T) {
			r := newRig(t, typed(cmd))
			r.mustRun()
			for _, c := range metaCommands() {
				for _, n := range c.names {
					r.wantOut(n)
				}
			}
			for _, res := range schema.Resources {
				r.wantOut(res.Name)
			}
			r.wantOutWrapped("Keys: Tab completes", "Ctrl-C cancels the running statement")
			for _, p := range schema.Procedures() {
				r.wantOut("CALL " + p.Method.Signature())
			}
		})
	}
}

func TestHelpOnATableShowsFieldsAndMethodsFromSchema(t *testing.T) {
	for _, res := range schema.Resources {
		t.Run(res.Name, func(t *testing.T) {
			r := newRig(t, typed("help "+res.Name))
			r.mustRun()
			for _, c := range res.Columns {
				r.wantOutWrapped(c.Name+" ", c.Doc)
			}
			for _, m := range res.Methods {
				r.wantOut(m.Name+" → "+m.Operation, m.Requirement())
				if m.Procedure != "" {
					r.wantOut("CALL " + m.Signature())
				}
			}
			for _, ex := range res.Examples {
				r.wantOut(ex.SQL)
			}
		})
	}
	r := newRig(t, typed("help aws.iam_api.access_keys;", `\h update_access_key`, `\d`, `\d users`))
	r.mustRun()
	r.wantOutWrapped("Status VARCHAR(8) The status of the access key. Active means that the key is valid for API calls; Inactive means it is not. (one of Active, Inactive)")
	r.wantOut("AccessKeyId *",
		"SELECT  access_keys_List → ListAccessKeys", "requires region; optional UserName, AccessKeyId",
		"CALL update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])\n  access_keys_Update on access_keys (IAM UpdateAccessKey); requires AccessKeyId, Status, region; optional UserName, account_id",
		"  access_keys             IAM access keys: every access key in the account",
		"(SELECT requires region)",
		"PasswordLastUsed")
}

func TestHelpOnAVerbListsTablesWithRequiredParams(t *testing.T) {
	r := newRig(t, typed("help select", "help DELETE", "help call"))
	r.mustRun()
	r.wantOut("SELECT on iamsql's tables (required parameters go in WHERE):",
		"  access_keys             requires region; optional UserName, AccessKeyId (IAM ListAccessKeys)",
		"DELETE on iamsql's tables (required parameters go in WHERE):",
		"requires region; and AccessKeyId or UserName (safe updates) (IAM DeleteAccessKey)",
		"DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = 'AKIAALICE00000000002' AND region = 'us-east-1';",
		"CALL update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])",
		"CALL create_access_key('us-east-1', 'dave');")
}

func TestHelpOnAnUnknownTopicIsAnError(t *testing.T) {
	r := newRig(t, typed("help nothing", "SELECT 1 AS one;"))
	r.mustRun()
	r.wantErr(`no help for "nothing": ask about a table (` + strings.Join(tableNames(), ", ") + ")")
	r.wantOut("| one |")
}

func TestErrorsPrintOneLineAndTheShellGoesOn(t *testing.T) {
	r := newRig(t, typed(
		"SELECT * FROM access_keys;",
		"SELEKT 1;",
		`\nope`,
		aliceKeys+";",
	))
	r.mustRun()
	wantErrLines := []string{
		"ERROR 1210 (HY000): access_keys: SELECT requires region (add WHERE region = '…'); method access_keys_List needs region",
		"ERROR 1064 (42000): syntax error",
		`ERROR: unknown command \nope (type help or \? for the list)`,
	}
	lines := strings.Split(strings.TrimSpace(r.err.String()), "\n")
	if len(lines) != len(wantErrLines) {
		t.Fatalf("stderr lines %q, want %d", lines, len(wantErrLines))
	}
	for i, w := range wantErrLines {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("stderr line %d %q, want prefix %q", i, lines[i], w)
		}
	}
	r.wantOut("AKIAALICE00000000001")
	if got := r.emu.Calls()["ListAccessKeys"]; got != 1 {
		t.Errorf("ListAccessKeys calls %d: the failed statements made IAM calls", got)
	}
}

func TestQuitStopsReading(t *testing.T) {
	for _, q := range []string{`\q`, "quit", "exit", "EXIT;", `  \q  `} {
		t.Run(q, func(t *testing.T) {
			r := newRig(t, typed("SELECT 1 AS one;", q, "SELECT 2 AS two;"))
			r.mustRun()
			if r.in.unread() != 1 {
				t.Errorf("%q left %d lines unread, want 1", q, r.in.unread())
			}
			r.wantOut("| one |", "Bye\n")
		})
	}
	r := newRig(t, typed("SELECT 1 AS one;")) // then Ctrl-D
	r.mustRun()
	r.wantOut("Bye\n")
}

func TestCtrlCAtThePromptClearsTheInput(t *testing.T) {
	in := &fakeInput{steps: []step{
		{line: "SELECT * FROM"},
		{interrupt: true},
		{line: "SELECT 1 AS one;"},
	}}
	r := newRig(t, in)
	r.mustRun()
	r.wantOut("| one |")
	if r.err.Len() != 0 {
		t.Errorf("stderr %q: the cleared input ran", r.err)
	}
	want := []string{"iam> ", "  -> ", "iam> ", "iam> "}
	if !reflect.DeepEqual(in.prompts, want) {
		t.Errorf("prompts %q, want %q", in.prompts, want)
	}
}

// TestCtrlCCancelsTheRunningStatementAndItsIAMCalls: the emulator holds
// ListAccessKeys for a minute; Ctrl-C ends the statement at once, the
// in-flight call is abandoned (the emulator sees its client leave), and
// the shell reads on.
func TestCtrlCCancelsTheRunningStatementAndItsIAMCalls(t *testing.T) {
	r := newRig(t, typed(aliceKeys+"; SELECT 2 AS two;", "SELECT 1 AS one;"))
	r.emu.SetOperationLatency("ListAccessKeys", time.Minute)
	r.emu.SetCallLog(true)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for r.emu.Calls()["ListAccessKeys"] == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		r.interrupts <- struct{}{}
	}()
	start := time.Now()
	r.mustRun()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the shell took %v: the statement was not cancelled", d)
	}
	r.wantErr("Query aborted by Ctrl-C\n")
	r.wantOut("| one |")
	if strings.Contains(r.out.String(), "two") {
		t.Errorf("the rest of the aborted line ran:\n%s", r.out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := r.emu.CallLog()
		if len(log) == 1 && log[0].Op == "ListAccessKeys" && log[0].Status == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call log %+v, want one ListAccessKeys abandoned by its client", log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKeyLifecycle is what a new user does: create a key (its secret
// printed once, with the reminder), disable it, delete it, and see it gone.
func TestKeyLifecycle(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history")
	h, err := OpenHistory(hist)
	if err != nil {
		t.Fatal(err)
	}
	in := typed("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');")
	r := newRig(t, in)
	r.cfg.History = h
	r.mustRun()
	keys := r.emu.Snapshot().Keys
	var id, secret string
	for _, k := range keys {
		if k.UserName == "dave" {
			id, secret = k.AccessKeyID, k.SecretAccessKey
		}
	}
	if id == "" {
		t.Fatalf("no key was created for dave")
	}
	r.wantOut(id, secret)
	r.wantErr(run.SecretReminder)

	r.out.Reset()
	r.err.Reset()
	r.in.steps = []step{
		{line: "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';"},
		{line: "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave';"},
		{line: "DELETE FROM access_keys WHERE AccessKeyId = '" + id + "' AND region = 'us-east-1';"},
		{line: "SELECT COUNT(*) AS n FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave';"},
		{line: "CALL create_access_key('us-east-1', 'dave');"},
	}
	r.mustRun()
	r.wantErr("Query OK, 1 row affected")
	r.wantOut("| "+id+" | Inactive |", "| 0 |")
	var called string
	for _, k := range r.emu.Snapshot().Keys {
		if k.UserName == "dave" {
			called = k.SecretAccessKey
		}
	}
	r.wantOut(called)
	if strings.Count(r.err.String(), run.SecretReminder) != 1 {
		t.Errorf("CALL create_access_key: reminder printed %d times:\n%s", strings.Count(r.err.String(), run.SecretReminder), r.err)
	}

	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || strings.Contains(string(b), called) {
		t.Errorf("a secret reached the history file:\n%s", b)
	}
	if !strings.Contains(string(b), "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\n") ||
		!strings.Contains(string(b), "CALL create_access_key('us-east-1', 'dave');\n") {
		t.Errorf("history file lacks the statements:\n%s", b)
	}
}

func TestHistoryKeepsStatementsButNeverSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "iamsql", "history")
	h, err := OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	in := &fakeInput{steps: []step{
		{line: "SELECT AccessKeyId"},
		{line: "  FROM access_keys WHERE region = 'us-east-1'"},
		{line: "  AND UserName = 'alice';"},
		{line: "SELECT '" + secret + "' AS pasted;"},
		{line: "SET PASSWORD = 'hunter2';"},
		{line: "SELECT 1 AS never_run"},
		{interrupt: true},
		{line: `\o csv`},
	}}
	r := newRig(t, in)
	r.cfg.History = h
	r.mustRun()

	want := []string{
		"SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';",
		`\o csv`,
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("history file %q, want %q", got, want)
	}
	if !reflect.DeepEqual(in.history, want) {
		t.Errorf("recall history %q, want %q", in.history, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", st.Mode().Perm())
	}

	// The next shell recalls it.
	in2 := typed()
	r2 := newRig(t, in2)
	r2.cfg.History = h
	r2.mustRun()
	if !reflect.DeepEqual(in2.history, want) {
		t.Errorf("next shell recalls %q, want %q", in2.history, want)
	}
}

func TestScriptStopsAtFirstErrorWithItsLineUnlessForced(t *testing.T) {
	script := []string{
		"SELECT 1 AS one;",
		"",
		"SELECT *",
		"  FROM access_keys;",
		"SELECT 2 AS two;",
	}
	r := newRig(t, typed(script...))
	r.cfg.Batch = true
	if err := r.run(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	r.wantErr("ERROR 1210 (HY000) at line 3: access_keys: SELECT requires region")
	r.wantOut("| one |")
	if strings.Contains(r.out.String(), "two") || r.in.unread() != 1 {
		t.Errorf("the script went on after the error:\n%s", r.out)
	}
	if strings.Contains(r.out.String(), "Bye") {
		t.Errorf("a script said Bye:\n%s", r.out)
	}

	r = newRig(t, typed(script...))
	r.cfg.Batch, r.cfg.Force = true, true
	if err := r.run(); !errors.Is(err, ErrFailed) {
		t.Fatalf("--force Run: %v, want ErrFailed (a statement failed)", err)
	}
	r.wantOut("| one |", "| two |")

	r = newRig(t, typed("SELECT 1 AS one;", "SELECT 3 AS three")) // no ; at the end
	r.cfg.Batch = true
	r.mustRun()
	r.wantOut("| three |")

	r = newRig(t, typed("SELECT 1 AS one;", "SELECT 'open")) // a string left open
	r.cfg.Batch = true
	if err := r.run(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	r.wantErr("ERROR 1064 (42000) at line 2: ")
}

// A script's statements written as executable comments run, each as the
// engine reads it (a semicolon inside one ends a statement), and one
// that is empty for the engine (for a later MySQL) fails loudly, with
// its line: never a silent skip.
func TestScriptRunsExecutableCommentStatements(t *testing.T) {
	r := newRig(t, typed(
		"/*!40101 SET @x = 1 */;",
		"/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */;",
		"/*!SELECT @x AS one; SELECT 2 AS two*/;",
		"/*!99999 DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1' */;",
		"SELECT 3 AS three;",
	))
	r.cfg.Batch = true
	if err := r.run(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	r.wantOut("| dave ", "| one |", "| two |")
	r.wantErr("ERROR 1065 (42000) at line 4: Query was empty: /*!99999 … */ runs only on MySQL 9.99.99 and later")
	if strings.Contains(r.out.String(), "three") {
		t.Errorf("the script went on after the error:\n%s", r.out)
	}
	if calls := r.emu.Calls(); calls["CreateAccessKey"] != 1 || calls["DeleteAccessKey"] != 0 {
		t.Errorf("IAM calls %v: want one CreateAccessKey, no DeleteAccessKey", calls)
	}
}
