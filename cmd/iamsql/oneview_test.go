package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
	"github.com/iamsql/iamsql/provider"
)

// dumpScript is written as mysqldump writes: statements inside executable
// comments, for MySQL 4.1 and 5.0 and later.
const dumpScript = `-- iamsql dump
/*!40101 SET @OLD_SQL_SAFE_UPDATES=@@SQL_SAFE_UPDATES */;
/*!40101 SET SQL_SAFE_UPDATES=1 */;
/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */;
/*!50000 UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1' */;
/*!SELECT 'done' AS step*/;
/*!40101 SET SQL_SAFE_UPDATES=@OLD_SQL_SAFE_UPDATES */;
`

// scriptFronts run a script through exec -f and on stdin, against the
// emulator at url, with an audit log.
var scriptFronts = []struct {
	name string
	run  func(t *testing.T, url, audit, script string) (string, string, int)
}{
	{"exec -f", func(t *testing.T, url, audit, script string) (string, string, int) {
		file := filepath.Join(t.TempDir(), "script.sql")
		if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		return cli(t, "", "--endpoint-url", url, "--audit-log", audit, "-o", "csv", "exec", "-f", file)
	}},
	{"stdin", func(t *testing.T, url, audit, script string) (string, string, int) {
		return cli(t, script, "--endpoint-url", url, "--audit-log", audit, "-o", "csv")
	}},
}

func auditLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var rec provider.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec.Operation+" "+rec.Outcome+": "+rec.Statement)
	}
	return out
}

// TestScriptsRunStatementsWrittenAsExecutableComments: a mysqldump-style
// script runs every statement, in exec -f and on stdin, with exactly
// their IAM calls, and the audit log records each statement as the
// engine ran it, without values.
func TestScriptsRunStatementsWrittenAsExecutableComments(t *testing.T) {
	for _, front := range scriptFronts {
		t.Run(front.name, func(t *testing.T) {
			emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
			awsEnv(t)
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			emu.ResetCalls()
			out, errOut, code := front.run(t, url, audit, dumpScript)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 4 || lines[0] != "AccessKeyId,UserName,Status,CreateDate,SecretAccessKey,region" ||
				!strings.Contains(lines[1], ",dave,Active,") || lines[2] != "step" || lines[3] != "done" {
				t.Errorf("stdout %q", out)
			}
			calls := emu.Calls()
			if calls["CreateAccessKey"] != 1 || calls["UpdateAccessKey"] != 1 || calls["DeleteAccessKey"] != 0 {
				t.Errorf("IAM calls %v: want one CreateAccessKey and one UpdateAccessKey", calls)
			}
			if keys := keysOfUser(emu, "dave"); len(keys) != 1 || !strings.HasPrefix(lines[1], keys[0]+",") {
				t.Errorf("dave's keys %v; printed %q", keys, lines[1])
			}
			for _, k := range emu.Snapshot().Keys {
				if k.AccessKeyID == "AKIABOB0000000000001" && k.Status != "Inactive" {
					t.Errorf("bob's key is %s, want Inactive", k.Status)
				}
			}
			want := []string{
				"CreateAccessKey ok: INSERT INTO access_keys (UserName, region) VALUES (?, ?)",
				"CreateAccessKey delivered: INSERT INTO access_keys (UserName, region) VALUES (?, ?)",
				"UpdateAccessKey ok: UPDATE access_keys SET Status = ? WHERE AccessKeyId = ? AND region = ?",
			}
			if got := auditLines(t, audit); !reflect.DeepEqual(got, want) {
				t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestScriptsFailLoudlyWhereTheyCannotRunAStatement: a statement the
// engine finds empty (an executable comment for a later MySQL), one that
// would change every key, one the parser would read differently from
// MySQL, or a DELIMITER iamsql does not have: the script stops with an
// error and exit 1, before any IAM call — never exit 0 with a statement
// skipped.
func TestScriptsFailLoudlyWhereTheyCannotRunAStatement(t *testing.T) {
	for _, tc := range []struct{ script, err string }{
		{"/*!99999 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */;\nSELECT 1;\n",
			"ERROR 1065 (42000)"},
		{"/*!DELETE FROM access_keys WHERE region = 'us-east-1'*/;\n", "ERROR 1210 (HY000)"},
		{"SELECT @@x'; DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'; ';\n",
			"ERROR 1064 (42000)"},
		{"DELIMITER //\nINSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')//\nDELIMITER ;\n",
			"DELIMITER is a command of the mysql client that iamsql does not have: end each statement with ;"},
		{"DELIMITER $$\nINSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')$$\nDELIMITER ;\n",
			"DELIMITER is a command of the mysql client that iamsql does not have"},
	} {
		for _, front := range scriptFronts {
			t.Run(front.name, func(t *testing.T) {
				emu, url := emutest.Start(t, emulator.Options{Seed: "demo"})
				awsEnv(t)
				before := emu.Snapshot()
				emu.ResetCalls()
				_, errOut, code := front.run(t, url, filepath.Join(t.TempDir(), "audit.jsonl"), tc.script)
				if code != 1 || !strings.Contains(errOut, tc.err) {
					t.Errorf("%q: exit %d, stderr %q; want 1 and %s", tc.script, code, errOut, tc.err)
				}
				if n := emu.TotalCalls(); n != 0 {
					t.Errorf("%q: %d IAM calls: %v", tc.script, n, emu.Calls())
				}
				if after := emu.Snapshot(); !reflect.DeepEqual(before.Keys, after.Keys) {
					t.Errorf("%q changed IAM", tc.script)
				}
			})
		}
	}
}
