package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The incident-response flow in a terminal: \e edits the statement being
// typed in $EDITOR and runs it, \P pages results through a command and \n
// stops, source runs a file up to its first error, and a statement that
// changes more than one key asks first (no: nothing changes; yes: both).
func TestShellIncidentResponseFlow(t *testing.T) {
	dir := t.TempDir()
	// The "editor" finishes the statement it is given.
	editor := filepath.Join(dir, "edit.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/$/ + 1 AS edited;/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "triage.sql")
	if err := os.WriteFile(script, []byte("SELECT 'from the file' AS src;\nSELECT *\n  FROM access_keys;\nSELECT 'not reached' AS src;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", editor)
	sh := startShell(t, dir, "--sandbox")
	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)

	sh.Type("SELECT 41\r")
	sh.Expect("  -> ", wait)
	sh.Type("\\e\r")
	sh.Expect("SELECT 41 + 1 AS edited;", wait)
	sh.Expect("| 42     |", wait)
	sh.Expect("iam> ", wait)

	sh.Type("\\P sed 's/^/PAGED /'\r")
	sh.Expect("PAGER set to 'sed 's/^/PAGED /''", wait)
	sh.Expect("iam> ", wait)
	sh.Type("SELECT 'x' AS paged_col;\r")
	sh.Expect("PAGED | paged_col |", wait)
	sh.Expect("iam> ", wait)
	sh.Type("\\n\r")
	sh.Expect("PAGER set to stdout", wait)
	sh.Expect("iam> ", wait)
	sh.Type("SELECT 'y' AS plain_col;\r")
	if got := sh.Expect("| plain_col |", wait); strings.Contains(got, "PAGED") {
		t.Errorf("\\n left the pager on: %q", got)
	}
	sh.Expect("iam> ", wait)

	sh.Type("source " + script + "\r")
	sh.Expect("from the file", wait)
	sh.Expect("ERROR 1210 (HY000) at line 2: access_keys: SELECT requires region", wait)
	sh.Expect("(in "+script+")", wait)
	sh.Expect("iam> ", wait)
	if strings.Contains(sh.Screen(), "not reached") {
		t.Error("source went on after the failing statement")
	}

	const disableCarol = "UPDATE access_keys SET Status = 'Inactive' WHERE UserName = 'carol' AND region = 'us-east-1';\r"
	sh.Type(disableCarol)
	sh.Expect("Set 2 access keys Inactive: AKIACAROL00000000001 (carol), AKIACAROL00000000002 (carol)?", wait)
	sh.Expect("Go ahead? [y/N] ", wait)
	sh.Type("n\r")
	sh.Expect("not confirmed: nothing was changed", wait)
	sh.Expect("iam> ", wait)
	sh.Type("SELECT Status FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIACAROL00000000001';\r")
	sh.Expect("| Active |", wait)
	sh.Expect("iam> ", wait)
	sh.Type(disableCarol)
	sh.Expect("Go ahead? [y/N] ", wait)
	sh.Type("y\r")
	sh.Expect("Query OK, 2 rows affected", wait)
	sh.Expect("iam> ", wait)
	sh.Type("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('erin', 'us-east-1');\r")
	sh.Expect("Create 2 access keys, for dave, erin?", wait)
	sh.Expect("Go ahead? [y/N] ", wait)
	sh.Type("\r")
	sh.Expect("not confirmed: nothing was changed", wait)
	sh.Expect("iam> ", wait)
	sh.Type("SELECT COUNT(*) AS dave_keys FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave';\r")
	sh.Expect("| 0         |", wait)
	sh.Type("\\q\r")
	if code := sh.Exit(wait); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// --yes, and scripts, change several keys without asking.
func TestNoConfirmationWithYesOrInScripts(t *testing.T) {
	sh := startShell(t, t.TempDir(), "--sandbox", "--yes")
	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)
	sh.Type("DELETE FROM access_keys WHERE UserName = 'carol' AND region = 'us-east-1';\r")
	if got := sh.Expect("Query OK, 2 rows affected", wait); strings.Contains(got, "Go ahead?") {
		t.Errorf("--yes asked: %q", got)
	}
	sh.Type("\\q\r")
	sh.Exit(wait)

	out, errOut, code := runShellScript(t, "DELETE FROM access_keys WHERE UserName = 'carol' AND region = 'us-east-1';\n")
	if code != 0 || !strings.Contains(errOut, "Query OK, 2 rows affected") || strings.Contains(out+errOut, "Go ahead?") {
		t.Errorf("script: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
