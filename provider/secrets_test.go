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
	} {
		r := w.exec(q)
		if r.err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		if strings.Contains(r.err.Error(), secret) {
			t.Errorf("%s: the secret is in the error: %v", q, r.err)
		}
		for _, op := range []string{"CreateAccessKey", "UpdateAccessKey", "ListAccessKeys", "GetAccessKeyLastUsed"} {
			if r.calls[op] > 0 {
				t.Errorf("%s: %s was called with a secret as a parameter (%s)", q, op, callsString(r.calls))
			}
		}
	}
}

func TestRangesDoNotCountAsTheKeyIdAMutationNeeds(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "IS NOT NULL", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND AccessKeyId IS NOT NULL",
			wantErr: "UPDATE requires AccessKeyId", errNum: ErrNumBadParam},
		{name: "greater than", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId >= 'A'",
			wantErr: "DELETE requires AccessKeyId", errNum: ErrNumBadParam},
		{name: "not equal", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId <> 'AKIAALICE00000000001'",
			wantErr: "DELETE requires AccessKeyId", errNum: ErrNumBadParam},
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
	secret := w.sess.Created(0)[0].SecretAccessKey
	for _, q := range []string{
		"SELECT CAST(SecretAccessKey AS DATETIME) FROM created_access_keys",
		"SELECT DATE(SecretAccessKey) FROM created_access_keys",
	} {
		if r := w.exec(q); r.err != nil {
			t.Fatalf("%s: %v", q, r.err)
		}
		warnings := w.sess.Warnings()
		if len(warnings) == 0 {
			t.Fatalf("%s: no warning; the test needs a conversion that warns", q)
		}
		for _, wn := range warnings {
			if strings.Contains(wn.Message, secret) || !strings.Contains(wn.Message, SecretPlaceholder) {
				t.Errorf("%s: warning %d %q", q, wn.Code, wn.Message)
			}
		}
	}
}
