package provider

import (
	"strings"
	"testing"
)

func TestDiscoveryStatementsMakeNoIAMCalls(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "SHOW TABLES", query: "SHOW TABLES",
			want: [][]string{{"access_keys"}, {"account_summary"}, {"accounts"}, {"created_access_keys"}, {"credential_report"}, {"login_profiles"}, {"methods"},
				{"mfa_devices"}, {"rotations"}, {"user_attached_policies"}, {"user_groups"}, {"user_policies"}, {"user_tags"}, {"users"}}},
		{name: "DESCRIBE a parameterised table", query: "DESCRIBE access_keys",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 9 || r.rows[0][0] != "AccessKeyId" || r.rows[4][0] != "region" || r.rows[8][0] != "account_id" || r.rows[8][3] != "PRI" {
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
				{"access_keys_Delete", "EXEC", "AccessKeyId, region", "delete_access_key(AccessKeyId, region[, UserName[, account_id]])"},
				{"access_keys_Delete", "DELETE", "region; one of AccessKeyId, UserName (safe updates)", "NULL"},
				{"access_keys_Update", "EXEC", "AccessKeyId, Status, region", "update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])"},
			}},
		{name: "SELECT @@version", query: "SELECT @@version IS NOT NULL", want: [][]string{{"true"}}},
		{name: "SHOW PROCEDURES", query: "SHOW PROCEDURES",
			want: [][]string{
				{"create_access_key", "create_access_key(region[, UserName[, account_id]])", "region", "UserName, account_id", "CreateAccessKey", "access_keys"},
				{"delete_access_key", "delete_access_key(AccessKeyId, region[, UserName[, account_id]])", "AccessKeyId, region", "UserName, account_id", "DeleteAccessKey", "access_keys"},
				{"finish_rotation", "finish_rotation(RotationId[, Force])", "RotationId", "Force", "UpdateAccessKey", "rotations"},
				{"rollback_rotation", "rollback_rotation(RotationId)", "RotationId", "", "DeleteAccessKey", "rotations"},
				{"rotate_access_key", "rotate_access_key(UserName, region[, AccessKeyId[, Apply[, Sink[, Grace[, DeleteAfter[, MakeRoom[, account_id]]]]]]])", "UserName, region", "AccessKeyId, Apply, Sink, Grace, DeleteAfter, MakeRoom, account_id", "CreateAccessKey", "rotations"},
				{"update_access_key", "update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])", "AccessKeyId, Status, region", "UserName, account_id", "UpdateAccessKey", "access_keys"},
			}},
		{name: "SHOW PROCEDURE STATUS lists the procedures with MySQL's columns", query: "show procedure status",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 6 || len(r.rows[0]) != 11 {
					t.Fatalf("rows %v", r.rows)
				}
				for i, name := range []string{"create_access_key", "delete_access_key", "finish_rotation", "rollback_rotation", "rotate_access_key", "update_access_key"} {
					if r.rows[i][0] != "iam" || r.rows[i][1] != name || r.rows[i][2] != "PROCEDURE" || !strings.Contains(r.rows[i][7], name+"(") {
						t.Errorf("row %d: %v", i, r.rows[i])
					}
				}
			}},
		{name: "SHOW PROCEDURE STATUS LIKE", query: "SHOW PROCEDURE STATUS LIKE '%access%' -- all four",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 4 || r.rows[0][1] != "create_access_key" || r.rows[2][1] != "rotate_access_key" || r.rows[3][1] != "update_access_key" {
					t.Errorf("rows %v", r.rows)
				}
			}},
		{name: "SHOW PROCEDURE STATUS WHERE", query: "SHOW PROCEDURE STATUS WHERE Db = 'iam' AND Name LIKE 'update%'",
			check: func(t *testing.T, w *world, r result) {
				if len(r.rows) != 1 || r.rows[0][1] != "update_access_key" {
					t.Errorf("rows %v", r.rows)
				}
			}},
		{name: "SHOW PROCEDURE STATUS of another database", query: "SHOW PROCEDURE STATUS WHERE Db = 'mysql'", want: [][]string{}},
		{name: "SHOW PROCEDURE STATUS WHERE without a condition", query: "SHOW PROCEDURE STATUS WHERE", wantErr: "syntax error", errNum: 1064},
		{name: "SHOW PROCEDURE STATUS LIKE without a pattern", query: "SHOW PROCEDURE STATUS LIKE 'x' junk", wantErr: "near 'junk'", errNum: 1064},
	})
}
