package provider

import "testing"

func TestDiscoveryStatementsMakeNoIAMCalls(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "SHOW TABLES", query: "SHOW TABLES",
			want: [][]string{{"access_keys"}, {"account_summary"}, {"created_access_keys"}, {"methods"}, {"users"}}},
		{name: "DESCRIBE a parameterised table", query: "DESCRIBE access_keys",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 8 || r.rows[0][0] != "AccessKeyId" || r.rows[4][0] != "region" {
					t.Errorf("rows %v", r.rows)
				}
			}},
		{name: "SHOW FULL COLUMNS carries the docs", query: "SHOW FULL COLUMNS FROM access_keys WHERE Field = 'Status'",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 1 || r.rows[0][len(r.rows[0])-1] == "" {
					t.Errorf("rows %v", r.rows)
				}
			}},
		{name: "EXPLAIN PLAN", query: "EXPLAIN PLAN SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) == 0 {
					t.Error("no plan")
				}
			}},
		{name: "methods lists required parameters", query: "SELECT Method, Verb, RequiredParams, ProcedureCall FROM methods WHERE TableName = 'access_keys' AND Verb IN ('DELETE', 'EXEC')",
			want: [][]string{
				{"access_keys_Delete", "DELETE", "AccessKeyId, region", "delete_access_key(AccessKeyId, region[, UserName])"},
				{"access_keys_Update", "EXEC", "AccessKeyId, Status, region", "update_access_key(AccessKeyId, Status, region[, UserName])"},
			}},
		{name: "SELECT @@version", query: "SELECT @@version IS NOT NULL", want: [][]string{{"true"}}},
	})
}
