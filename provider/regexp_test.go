package provider

import "testing"

// REGEXP runs on Go's regexp (replace/go-icu-regex), which keeps iamsql's
// start-up free of ICU's WebAssembly compile.
func TestRegexpFunctions(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "REGEXP filters fetched rows", query: "SELECT UserName FROM users WHERE region = 'us-east-1' AND UserName REGEXP '^c' ORDER BY UserName",
			want: [][]string{{"carol"}, {"ci-deploy"}}, calls: map[string]int{"ListUsers": 1}},
		{name: "REGEXP_LIKE with match type i", query: "SELECT REGEXP_LIKE('AKIAALICE00000000001', '^akia', 'i')", want: [][]string{{"1"}}},
		{name: "REGEXP_SUBSTR", query: "SELECT REGEXP_SUBSTR('arn:aws:iam::123456789012:user/alice', '[0-9]{12}')", want: [][]string{{"123456789012"}}},
		{name: "REGEXP_INSTR", query: "SELECT REGEXP_INSTR('a-b-c', '-', 1, 2)", want: [][]string{{"4"}}},
		{name: "REGEXP_REPLACE with a group", query: "SELECT REGEXP_REPLACE('user/alice', 'user/(.*)', 'name=$1')", want: [][]string{{"name=alice"}}},
		{name: "an invalid pattern is an error", query: "SELECT 'x' REGEXP '(?<=a)b'", wantErr: "regular expression"},
	})
}
