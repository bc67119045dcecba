package provider

import (
	"strings"
	"testing"
)

func TestASecretIsNeverSentToIAMOrEchoedInErrors(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustExec("CALL create_access_key('us-east-1', 'dave')")
	secret := w.sess.Created(0)[0].SecretAccessKey
	for _, q := range []string{
		"INSERT INTO access_keys (UserName, region) SELECT SecretAccessKey, 'us-east-1' FROM created_access_keys",
		"CALL update_access_key((SELECT SecretAccessKey FROM created_access_keys LIMIT 1), 'Inactive', 'us-east-1')",
		"SELECT k.AccessKeyId FROM created_access_keys c JOIN access_keys k ON k.UserName = c.SecretAccessKey AND k.region = 'us-east-1'",
		"SELECT * FROM access_keys WHERE region = (SELECT SecretAccessKey FROM created_access_keys LIMIT 1)",
		// go-mysql-server's own errors quote the value they reject.
		"SELECT JSON_EXTRACT(SecretAccessKey, '$') FROM created_access_keys",
		// Values computed from a secret are secrets too.
		"CALL create_access_key('us-east-1', (SELECT LOWER(SecretAccessKey) FROM created_access_keys LIMIT 1))",
		"CALL create_access_key('us-east-1', (SELECT REVERSE(SecretAccessKey) FROM created_access_keys LIMIT 1))",
		"CALL create_access_key('us-east-1', (SELECT SUBSTRING(HEX(SecretAccessKey), 1, 60) FROM created_access_keys LIMIT 1))",
		"CALL create_access_key('us-east-1', (SELECT CONCAT('x', SUBSTRING(SecretAccessKey, 3, 20)) FROM created_access_keys LIMIT 1))",
	} {
		r := w.exec(q)
		if r.err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		if msg := strings.ToLower(r.err.Error()); strings.Contains(msg, strings.ToLower(secret[:fragmentLen])) ||
			strings.Contains(msg, strings.ToLower(secret[10:10+fragmentLen])) {
			t.Errorf("%s: a piece of the secret is in the error: %v", q, r.err)
		}
		for _, op := range []string{"CreateAccessKey", "UpdateAccessKey", "ListAccessKeys", "GetAccessKeyLastUsed"} {
			if r.calls[op] > 0 {
				t.Errorf("%s: %s was called with a secret as a parameter (%s)", q, op, callsString(r.calls))
			}
		}
	}
	// A computed secret as a lookup key in a SELECT: no error is needed
	// (no row can match), but no IAM call may carry a piece of it.
	w.emu.SetCallLog(true)
	w.emu.ResetCalls()
	for _, q := range []string{
		"SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = (SELECT UPPER(SUBSTRING(SecretAccessKey, 1, 30)) FROM created_access_keys LIMIT 1)",
		"SELECT * FROM access_keys k JOIN created_access_keys c ON k.UserName = LOWER(c.SecretAccessKey) AND k.region = 'us-east-1'",
	} {
		r := w.exec(q)
		if r.err != nil && strings.Contains(strings.ToLower(r.err.Error()), strings.ToLower(secret[:fragmentLen])) {
			t.Errorf("%s: a piece of the secret is in the error: %v", q, r.err)
		}
		for _, c := range w.emu.CallLog() {
			for _, vs := range c.Params {
				for _, v := range vs {
					if w.sess.holdsSecret(v) {
						t.Errorf("%s: %s was sent %q", q, c.Op, v)
					}
				}
			}
		}
	}
}

func TestRangesDoNotCountAsTheKeyIdAMutationNeeds(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "IS NOT NULL", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND AccessKeyId IS NOT NULL",
			wantErr: "UPDATE without AccessKeyId or UserName in WHERE", errNum: ErrNumBadParam},
		{name: "greater than", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId >= 'A'",
			wantErr: "DELETE without AccessKeyId or UserName in WHERE", errNum: ErrNumBadParam},
		{name: "not equal", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId <> 'AKIAALICE00000000001'",
			wantErr: "DELETE without AccessKeyId or UserName in WHERE", errNum: ErrNumBadParam},
		{name: "under an OR", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND (AccessKeyId = 'AKIAALICE00000000001' OR Status = 'Inactive')",
			wantErr: "DELETE without AccessKeyId or UserName in WHERE", errNum: ErrNumBadParam},
		{name: "another table's UserName in a subquery", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND EXISTS (SELECT 1 FROM access_keys WHERE region = 'us-east-1' AND UserName = 'dave')",
			wantErr: "DELETE without AccessKeyId or UserName in WHERE", errNum: ErrNumBadParam},
	})
}

func TestEnginePanicsBecomeErrors(t *testing.T) {
	w := newWorld(t, worldOptions{})
	r := w.exec("SELECT COUNT(*) FROM methods LIMIT 0")
	if r.err != nil && r.errNum != ErrNumUnknown {
		t.Fatalf("error %v", r.err)
	}
	// The session still works.
	w.mustExec("SELECT 1")
}

// A warning quotes the value it could not convert; the session keeps it
// with the secret replaced, for SHOW WARNINGS and for the shell and exec,
// which print warnings after a statement.
func TestASecretIsNeverInAWarning(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.mustExec("CALL create_access_key('us-east-1', 'dave')")
	for _, q := range []string{
		"SELECT CAST(SecretAccessKey AS DATETIME) FROM created_access_keys",
		"SELECT DATE(SecretAccessKey) FROM created_access_keys",
		"SELECT CAST(LOWER(SecretAccessKey) AS DATETIME) FROM created_access_keys",
		"SELECT DATE(REVERSE(SecretAccessKey)) FROM created_access_keys",
	} {
		if r := w.exec(q); r.err != nil {
			t.Fatalf("%s: %v", q, r.err)
		}
		warnings := w.sess.Warnings()
		if len(warnings) == 0 {
			t.Fatalf("%s: no warning; the test needs a conversion that warns", q)
		}
		for _, wn := range warnings {
			if w.sess.holdsSecret(wn.Message) || !strings.Contains(wn.Message, SecretPlaceholder) {
				t.Errorf("%s: warning %d %q", q, wn.Code, wn.Message)
			}
		}
	}
}

// Errors go-mysql-server reports as 1105 carry MySQL's numbers instead.
func TestEngineErrorsCarryMySQLNumbers(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "value count", query: "INSERT INTO access_keys (UserName, region) VALUES ('a')", wantErr: "number of values", errNum: 1136},
		{name: "unknown column", query: "SELECT nosuch FROM created_access_keys", wantErr: `column "nosuch" could not be found`, errNum: 1054},
		{name: "unknown column in ORDER BY", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY nosuch", wantErr: "nosuch", errNum: 1054},
		{name: "duplicate alias", query: "SELECT * FROM access_keys a JOIN users a ON 1", wantErr: "Not unique table/alias: a", errNum: 1066},
		{name: "unknown function", query: "SELECT nosuchfunc(1)", wantErr: "nosuchfunc", errNum: 1305},
		{name: "argument count", query: "SELECT SUM(Status, 1) FROM created_access_keys", wantErr: "expected 1 arguments", errNum: 1582},
		{name: "unknown variable", query: "SET @@nosuch = 1", wantErr: "Unknown system variable 'nosuch'", errNum: 1193},
		{name: "union column count", query: "SELECT 1 UNION SELECT 1, 2", wantErr: "different lengths", errNum: 1222},
		{name: "create table", query: "CREATE TABLE t (a int)", wantErr: "tables cannot be created on database iam", errNum: 1235},
		{name: "drop table", query: "DROP TABLE access_keys", wantErr: "tables cannot be dropped on database iam", errNum: 1235},
		{name: "execute an unknown prepared statement", query: "EXECUTE nosuch", wantErr: "Unknown prepared statement handler (nosuch)", errNum: 1243},
		{name: "unknown procedure", query: "CALL nosuch('us-east-1')", wantErr: "PROCEDURE iam.nosuch does not exist; iamsql's procedures are create_access_key, delete_access_key, update_access_key", errNum: ErrNumNoSuchProcedure},
		{name: "unknown procedure, qualified", query: "call IAM.NoSuch()", wantErr: "PROCEDURE iam.NoSuch does not exist", errNum: ErrNumNoSuchProcedure},
	})
}
