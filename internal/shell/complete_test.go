package shell

import (
	"strings"
	"testing"

	"github.com/iamsql/iamsql/schema"
)

func columnsOf(r schema.Resource) []string {
	var out []string
	for _, c := range r.Columns {
		out = append(out, c.Name)
	}
	return out
}

func TestCompletion(t *testing.T) {
	var allProcs []string
	for _, p := range schema.Procedures() {
		allProcs = append(allProcs, p.Method.Procedure+"(")
	}
	tests := []struct {
		name     string
		pending  string
		line     string
		pos      int // of the cursor; 0 for the end of line
		head     string
		want     []string // all of these, in this order
		exact    bool     // and nothing else
		notWants []string
	}{
		{name: "statement keywords", line: "SEL", head: "", want: []string{"SELECT"}, exact: true},
		{name: "keywords in the case typed", line: "sel", want: []string{"select"}, exact: true},
		{name: "first word", line: "", want: []string{"help", "quit", "exit", "SELECT", "INSERT", "UPDATE", "DELETE", "CALL", "EXEC", "DESCRIBE", "SHOW"}},
		{name: "tables after FROM", line: "SELECT * FROM ", head: "SELECT * FROM ", want: []string{"access_keys", "created_access_keys", "users", "account_summary"}},
		{name: "table prefix", line: "SELECT * FROM access_k", head: "SELECT * FROM ", want: []string{"access_keys"}, exact: true},
		{name: "StackQL ids", line: "SELECT * FROM aws.iam_api.", head: "SELECT * FROM ", want: []string{"aws.iam_api.access_keys", "aws.iam_api.users", "aws.iam_api.account_summary",
			"aws.iam_api.user_tags", "aws.iam_api.mfa_devices", "aws.iam_api.login_profiles", "aws.iam_api.user_groups", "aws.iam_api.user_attached_policies",
			"aws.iam_api.user_policies", "aws.iam_api.credential_report"}, exact: true},
		{name: "tables after DESCRIBE", line: "DESCRIBE us", want: []string{"users", "user_tags", "user_groups", "user_attached_policies", "user_policies"}, exact: true},
		{name: "tables after INSERT INTO", line: "INSERT INTO ", want: []string{"access_keys"}},
		{name: "tables in a FROM list", line: "SELECT * FROM users u, ", want: []string{"access_keys"}},
		{name: "columns after FROM access_keys WHERE", line: "SELECT * FROM access_keys WHERE ", head: "SELECT * FROM access_keys WHERE ",
			want: columnsOf(schema.AccessKeys), notWants: []string{"PathPrefix", "UserId"}},
		{name: "column prefix", line: "SELECT * FROM access_keys WHERE reg", head: "SELECT * FROM access_keys WHERE ", want: []string{"region"}, exact: true},
		{name: "column in another case", line: "SELECT * FROM access_keys WHERE accesskey", want: []string{"AccessKeyId"}, exact: true},
		{name: "columns of a table named later on the line", line: "SELECT Acc", want: []string{"AccessKeyId"}},
		{name: "columns of a table named on an earlier line", pending: "SELECT *\nFROM users\n", line: "WHERE Pa", want: []string{"Path", "PasswordLastUsed"}, exact: true},
		{name: "columns of an alias", line: "SELECT k.Acc FROM users u JOIN access_keys k ON k.UserName = u.UserName", pos: len("SELECT k.Acc"), head: "SELECT ", want: []string{"k.AccessKeyId", "k.Account_id"}, exact: true},
		{name: "columns of the other alias", line: "SELECT u.Us FROM users u JOIN access_keys k ON k.UserName = u.UserName", pos: len("SELECT u.Us"), want: []string{"u.UserName", "u.UserId"}, exact: true},
		{name: "keywords after a condition", line: "SELECT * FROM access_keys WHERE region = 'us-east-1' ", want: []string{"AND", "OR", "ORDER", "LIMIT"}, notWants: []string{"AccessKeyId"}},
		{name: "keywords after a table", line: "SELECT * FROM access_keys ", want: []string{"WHERE", "JOIN", "ORDER"}, notWants: []string{"AccessKeyId"}},
		{name: "only columns where a condition starts", line: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND ", want: columnsOf(schema.AccessKeys), exact: true},
		{name: "values after column =", line: "SELECT * FROM access_keys WHERE region = ", want: []string{"'us-east-1'"}, notWants: []string{"AccessKeyId"}},
		{name: "Status values after =", line: "UPDATE access_keys SET Status = ", want: []string{"'Active'", "'Inactive'"}, exact: true},
		{name: "no StackQL ids until aws", line: "SELECT * FROM a", want: []string{"access_keys", "account_summary", "accounts"}, exact: true},
		{name: "keywords too", line: "SELECT * FROM access_keys WHERE region = 'us-east-1' AN", want: []string{"AND"}, exact: true},
		{name: "procedures after CALL", line: "CALL ", head: "CALL ", want: allProcs, exact: true},
		{name: "procedure prefix", line: "call upd", head: "call ", want: []string{"update_access_key("}, exact: true},
		{name: "required params of INSERT", line: "INSERT INTO access_keys (", want: []string{"region", "UserName", "account_id"}, exact: true},
		{name: "next INSERT param", line: "INSERT INTO access_keys (UserName, re", want: []string{"region"}, exact: true},
		{name: "UPDATE sets Status", line: "UPDATE access_keys SET ", want: []string{"Status"}, exact: true},
		{name: "UPDATE WHERE columns", line: "UPDATE access_keys SET Status = 'Inactive' WHERE ", want: []string{"AccessKeyId", "region"}},
		{name: "EXEC methods", line: "EXEC aws.iam_api.access_keys.access_keys_U", want: []string{"aws.iam_api.access_keys.access_keys_Update"}, exact: true},
		{name: "EXEC params, required first", line: "EXEC aws.iam_api.access_keys.access_keys_Update ", want: []string{"@AccessKeyId", "@Status", "@region", "@UserName", "@account_id"}, exact: true},
		{name: "EXEC params not given yet", line: "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @", want: []string{"@Status", "@region", "@UserName", "@account_id"}, exact: true},
		{name: "CALL arguments: region values", line: "CALL create_access_key(", want: []string{"'eu-west-1'", "'us-east-1'"}},
		{name: "CALL arguments by position", line: "CALL update_access_key('AKIABOB0000000000001', ", want: []string{"'Active'", "'Inactive'"}, exact: true},
		{name: "region values in a string", line: "SELECT * FROM access_keys WHERE region = 'us-ea", head: "SELECT * FROM access_keys WHERE region = '", want: []string{"us-east-1'", "us-east-2'"}, exact: true},
		{name: "enum values in a string", line: "UPDATE access_keys SET Status = 'In", want: []string{"Inactive'"}, exact: true},
		{name: "values in IN lists", line: "SELECT * FROM access_keys WHERE region IN ('us-east-1', 'eu-w", want: []string{"eu-west-1'", "eu-west-2'", "eu-west-3'"}, exact: true},
		{name: "values of an EXEC param", line: `EXEC aws.iam_api.access_keys.access_keys_Update @Status = "Ac`, want: []string{`Active"`}, exact: true},
		{name: "values in INSERT VALUES", line: "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'ap-northeast-", want: []string{"ap-northeast-1'", "ap-northeast-2'", "ap-northeast-3'"}, exact: true},
		{name: "no values for free text", line: "SELECT * FROM access_keys WHERE UserName = 'al", want: nil, exact: true},
		{name: "SHOW", line: "SHOW TA", want: []string{"TABLES"}, exact: true},
		{name: "a new statement after ;", line: "SELECT 1; SEL", head: "SELECT 1; ", want: []string{"SELECT"}, exact: true},
		{name: "meta-commands", line: `\ti`, want: []string{`\timing`}, exact: true},
		{name: "formats", line: `\o js`, head: `\o `, want: []string{"json", "jsonl"}, exact: true},
		{name: "help topics", line: "help acc", head: "help ", want: []string{"access_keys", "account_summary", "accounts"}, exact: true},
		{name: "help procedures and verbs", line: `\h upd`, want: []string{"update_access_key", "update"}, exact: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := len(tt.line)
			if tt.pos > 0 {
				pos = tt.pos
			}
			s := New(Config{})
			s.pending = tt.pending
			head, got, tail := s.Complete(tt.line, pos)
			if tail != tt.line[pos:] {
				t.Errorf("tail %q, want %q", tail, tt.line[pos:])
			}
			if tt.head != "" && head != tt.head {
				t.Errorf("head %q, want %q", head, tt.head)
			}
			if tt.exact && strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("completions %q, want exactly %q", got, tt.want)
			}
			at := 0
			for _, w := range tt.want {
				found := false
				for at < len(got) {
					at++
					if got[at-1] == w {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("completions %q lack %q (in this order: %q)", got, w, tt.want)
					break
				}
			}
			for _, nw := range tt.notWants {
				for _, g := range got {
					if g == nw {
						t.Errorf("completions %q include %q", got, nw)
					}
				}
			}
		})
	}
}

func TestCompletionKeepsTheRestOfTheLine(t *testing.T) {
	s := New(Config{})
	line := "SELECT Sta FROM access_keys WHERE region = 'us-east-1';"
	head, got, tail := s.Complete(line, len("SELECT Sta"))
	if head != "SELECT " || strings.Join(got, "|") != "Status" || tail != " FROM access_keys WHERE region = 'us-east-1';" {
		t.Errorf("Complete = %q, %q, %q", head, got, tail)
	}
}

func TestTheTerminalGetsTheCompleter(t *testing.T) {
	in := typed()
	r := newRig(t, in)
	r.mustRun()
	if in.completer == nil {
		t.Fatal("the shell did not set a completer")
	}
	if _, got, _ := in.completer("SELECT * FROM access_k", len("SELECT * FROM access_k")); strings.Join(got, "|") != "access_keys" {
		t.Errorf("completer gave %q", got)
	}
}

// TestCompletionAtEveryPositionOfTheExamples: completing anywhere in real
// statements gives back the line unchanged around the completion.
func TestCompletionAtEveryPositionOfTheExamples(t *testing.T) {
	s := New(Config{})
	for _, r := range schema.Resources {
		for _, ex := range r.Examples {
			runes := []rune(ex.SQL)
			for pos := 0; pos <= len(runes); pos++ {
				head, got, tail := s.Complete(ex.SQL, pos)
				if head+tail == "" && ex.SQL != "" && pos > 0 {
					t.Fatalf("Complete(%q, %d) lost the line", ex.SQL, pos)
				}
				if tail != string(runes[pos:]) {
					t.Fatalf("Complete(%q, %d): tail %q", ex.SQL, pos, tail)
				}
				for _, c := range got {
					if !strings.HasPrefix(ex.SQL, head) {
						t.Fatalf("Complete(%q, %d): head %q is not the line's start (completion %q)", ex.SQL, pos, head, c)
					}
				}
			}
		}
	}
}
