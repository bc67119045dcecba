package main

import (
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/emulator/emutest"
)

// In a terminal the table format ends each result with mysql's footer,
// and "Query OK" (of UPDATE, CALL and StackQL's EXEC alike, each changing
// one key) gets the time; the csv format gets none.
func TestShellFootersInATerminal(t *testing.T) {
	sh := startShell(t, t.TempDir(), "--sandbox")
	const wait = 30 * time.Second
	sh.Expect("iam> ", wait)
	for _, step := range []struct{ sql, want string }{
		{"SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';", "2 rows in set ("},
		{"SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'\\G", "1 row in set ("},
		{"SELECT UserName FROM users WHERE region = 'us-east-1' AND UserName = 'nobody';", "Empty set ("},
		{"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';", "Query OK, 1 row affected ("},
		{"CALL update_access_key('AKIABOB0000000000001', 'Active', 'us-east-1');", "Query OK, 1 row affected ("},
		{"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1';", "Query OK, 1 row affected ("},
	} {
		sh.Type(step.sql + "\r")
		sh.Expect(step.want, wait)
		sh.Expect(" sec)", wait)
		sh.Expect("iam> ", wait)
	}
	sh.Type("\\o csv\r")
	sh.Expect("iam> ", wait)
	sh.Type("SELECT 'no footer' AS csv_result;\r")
	sh.Expect("no footer", wait)
	sh.Expect("iam> ", wait)
	screen := sh.Screen()
	if tail := screen[strings.LastIndex(screen, "csv_result"):]; strings.Contains(tail, "in set") {
		t.Errorf("csv got a footer:\n%s", tail)
	}
}

// Several results in Markdown are separate tables.
func TestMarkdownResultsAreSetApart(t *testing.T) {
	out, errOut, code := cli(t, "", "--sandbox", "-o", "markdown", "exec", "SELECT 1 AS a; SELECT 2 AS b")
	want := "| a |\n| --- |\n| 1 |\n\n| b |\n| --- |\n| 2 |\n"
	if code != 0 || out != want {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

// CreateDate keeps the precision IAM sent in json and csv (moto sends
// microseconds, AWS whole seconds); the table shows seconds.
func TestCreateDateKeepsThePrecisionIAMSent(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	_, url := emutest.Start(t, emulator.Options{Seed: "demo", DatePrecision: time.Microsecond, Now: func() time.Time { return now }})
	awsEnv(t)
	const q = "SELECT CreateDate FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001'"
	created := now.Add(-30 * 24 * time.Hour)
	for format, want := range map[string]string{
		"json":  "[\n  {\"CreateDate\":\"" + created.Format("2006-01-02T15:04:05") + ".123456Z\"}\n]\n",
		"csv":   "CreateDate\n" + created.Format("2006-01-02 15:04:05") + ".123456\n",
		"table": "| " + created.Format("2006-01-02 15:04:05") + " |",
	} {
		out, errOut, code := cli(t, "", "--endpoint-url", url, "-o", format, "exec", q)
		if code != 0 || (format != "table" && out != want) || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, stderr %q, stdout %q, want %q", format, code, errOut, out, want)
		}
	}
	// AWS's whole seconds stay whole seconds.
	_, url = emutest.Start(t, emulator.Options{Seed: "demo", Now: func() time.Time { return now }})
	out, _, _ := cli(t, "", "--endpoint-url", url, "-o", "json", "exec", q)
	if want := "[\n  {\"CreateDate\":\"" + created.Format("2006-01-02T15:04:05") + "Z\"}\n]\n"; out != want {
		t.Errorf("seconds: %q, want %q", out, want)
	}
}
