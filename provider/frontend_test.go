package provider

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRewrite(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "SELECT AccessKeyId FROM aws.iam_api.access_keys WHERE region = 'us-east-1'",
			want: "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1'"},
		{in: "select * from AWS.IAM.ACCESS_KEYS k join aws.iam_api.users u on k.UserName=u.UserName",
			want: "select * from access_keys k join users u on k.UserName=u.UserName"},
		{in: "SELECT * FROM `aws`.`iam_api`.`access_keys`", want: "SELECT * FROM access_keys"},
		{in: "SELECT 'aws.iam_api.access_keys' FROM t -- aws.iam_api.access_keys",
			want: "SELECT 'aws.iam_api.access_keys' FROM t -- aws.iam_api.access_keys"},
		{in: "SELECT * FROM iam.access_keys", want: "SELECT * FROM iam.access_keys"},
		{in: "SELECT * FROM aws.iam_api.nothing", err: "unknown resource aws.iam_api.nothing"},
		{in: "SELECT * FROM aws.iam_api.acess_keys", err: "unknown resource aws.iam_api.acess_keys; did you mean aws.iam_api.access_keys?"},
		{in: "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'alice', 'us-east-1';",
			want: "INSERT INTO access_keys (UserName, region) SELECT 'alice', 'us-east-1';"},
		{in: "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIA1234567890123456', @Status = 'Inactive', @region = 'us-east-1';",
			want: "CALL update_access_key('AKIA1234567890123456', 'Inactive', 'us-east-1');"},
		{in: "exec access_keys_Update @region='us-east-1', @status='Active', @accesskeyid='AKIA1234567890123456', @UserName='bob'",
			want: "CALL update_access_key('AKIA1234567890123456', 'Active', 'us-east-1', 'bob')"},
		{in: "EXEC aws.iam.access_keys.access_keys_Create @region = 'us-east-1'", want: "CALL create_access_key('us-east-1')"},
		{in: "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'a,b', @Status = CONCAT('In', 'active'), @region = 'us-east-1'",
			want: "CALL update_access_key('a,b', CONCAT('In', 'active'), 'us-east-1')"},
		{in: "EXEC aws.iam_api.access_keys.access_keys_List @region = 'us-east-1'", err: "reached with SELECT"},
		{in: "EXEC aws.iam_api.users.access_keys_Update @region = 'x'", err: "not a method of aws.iam_api.users"},
		{in: "EXEC", err: "expected a method name"},
		{in: "EXEC access_keys_Update @AccessKeyId", err: "expected = after @AccessKeyId"},
		{in: "SELECT 1; EXEC access_keys_Update @AccessKeyId='AKIA1234567890123456', @Status='Active', @region='us-east-1'",
			want: "SELECT 1;CALL update_access_key('AKIA1234567890123456', 'Active', 'us-east-1')"},
	}
	for _, tt := range tests {
		got, err := Rewrite(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Rewrite(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Rewrite(%q)\n got %q, %v\nwant %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitStatements(t *testing.T) {
	got, err := SplitStatements("SELECT 1; SELECT ';' -- ; comment\n; /* ; */ SELECT \"a;b\";;\n-- only a comment\n")
	want := []string{"SELECT 1", "SELECT ';' -- ; comment", "/* ; */ SELECT \"a;b\""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
}

func TestRedactLiterals(t *testing.T) {
	for in, want := range map[string]string{
		"INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1') /* x */ LIMIT 5": "INSERT INTO access_keys (UserName, region) VALUES (?, ?) /* */ LIMIT ?",
		// Identifiers can carry values too.
		"UPDATE access_keys SET Status = 'Inactive' WHERE UserName = 'x' AND `wJalrXUtnFEMI/K7MDENG` IS NULL": "UPDATE access_keys SET Status = ? WHERE UserName = ? AND `?` IS NULL",
		"SELECT 1 AS wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY":                                                  "SELECT ? AS `?`",
		// An executable comment runs: the statement it holds is recorded,
		// without its values.
		"/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */": "INSERT INTO access_keys (UserName, region) VALUES (?, ?)",
	} {
		if got := redactLiterals(in); got != want {
			t.Errorf("redactLiterals(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRewrite: the front-end never panics, keeps any input it does not
// recognise byte for byte, and tokenizes losslessly.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM aws.iam_api.access_keys WHERE region = 'us-east-1'",
		"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIA1234567890123456', @Status = 'Inactive', @region = 'us-east-1'",
		"SELECT 'unterminated", "/* open comment", "EXEC x @a = (1,", "`aws`.`iam`.`users`", "-- c\n;;", "EXEC @@json='{}'", "eXeC aws", "CALL nosuch()", "SHOW PROCEDURE STATUS LIKE 'c%'", "show procedure status where Name = 'x' -- c", "SHOW PROCEDURES", "SHOW SERVICES IN aws LIKE 'i%'", "show extended methods in aws.iam.users", "DESC EXTENDED access_keys", "cAlL iam.create_access_key('us-east-1')", "SELECT 1 FROM access_keys WHERE region = 'us-east-1'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for _, tok := range tokenize(s) {
			b.WriteString(tok.text)
		}
		if b.String() != s {
			t.Fatalf("tokenize is lossy for %q", s)
		}
		if plainMySQL(s) {
			if out, err := rewriteTokens(s); err != nil || out != s {
				t.Fatalf("plainMySQL(%q) but rewriting gives %q, %v", s, out, err)
			}
		}
		out, err := Rewrite(s)
		if lower := strings.ToLower(s); err == nil && !strings.Contains(lower, "exec") && !strings.Contains(lower, "aws") && !strings.Contains(lower, "procedure") &&
			!strings.Contains(lower, "services") && !strings.Contains(lower, "resources") && !strings.Contains(lower, "methods") && !strings.Contains(lower, "extended") && out != engineText(s) {
			t.Fatalf("Rewrite changed %q to %q", s, out)
		}
		_, _ = SplitStatements(s)
		if utf8.ValidString(s) {
			_ = redactLiterals(s)
		}
	})
}
