package provider

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

// The audit log records the statement the engine ran, without its values:
// the content of an executable comment, the first of several statements,
// the prepared statement an EXECUTE runs.
func TestAuditRecordsTheShapeOfTheStatementTheEngineRan(t *testing.T) {
	var mu sync.Mutex
	var recs []AuditRecord
	w := newWorld(t, worldOptions{audit: func(r AuditRecord) { mu.Lock(); recs = append(recs, r); mu.Unlock() }})
	for _, q := range []string{
		"/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */",
		"/* why */ /*!CALL create_access_key('us-east-1', 'erin')*/ -- wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"/*!50000 UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1' */",
		"PREPARE d FROM 'DELETE FROM access_keys WHERE AccessKeyId = ? AND region = ?'",
		"SET @k = 'AKIABOB0000000000001'",
		"SET @r = 'us-east-1'",
		"EXECUTE d USING @k, @r",
		"SET @q = '/*!CALL update_access_key(''AKIAALICE00000000001'', ''Inactive'', ''us-east-1'')*/'",
		"PREPARE u FROM @q",
		"EXECUTE u",
	} {
		w.mustExec(q)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Operation+" "+r.Outcome+": "+r.Statement)
	}
	want := []string{
		"CreateAccessKey ok: INSERT INTO access_keys (UserName, region) VALUES (?, ?)",
		"CreateAccessKey ok: /* */ CALL create_access_key(?, ?) /* */",
		"UpdateAccessKey ok: UPDATE access_keys SET Status = ? WHERE AccessKeyId = ? AND region = ?",
		"DeleteAccessKey ok: DELETE FROM access_keys WHERE AccessKeyId = ? AND region = ?",
		"UpdateAccessKey ok: CALL update_access_key(?, ?, ?)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	statements := ""
	for _, r := range recs {
		statements += r.Statement + "\n"
	}
	for _, value := range []string{"dave", "erin", "us-east-1", "AKIABOB", "Inactive", "wJalr", "K7MDENG"} {
		if strings.Contains(statements, value) {
			t.Errorf("an audit statement carries %q:\n%s", value, statements)
		}
	}
}

// Read-only refusal and safe updates judge the plan: a mutation written
// as an executable comment, prepared, or as the content of a variable is
// refused like its plain form, before any IAM call.
func TestChecksApplyToEveryWritingOfAMutation(t *testing.T) {
	ro := newWorld(t, worldOptions{readOnly: true})
	rw := newWorld(t, worldOptions{})
	for _, tc := range []struct {
		w      *world
		query  string
		errNum int
	}{
		{ro, "/*!50000 INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1') */", ErrNumReadOnly},
		{ro, "/*!INSERT*/ INTO access_keys (UserName, region) /*!VALUES ('dave', 'us-east-1')*/", ErrNumReadOnly},
		{ro, "/*!CALL create_access_key('us-east-1', 'dave')*/", ErrNumReadOnly},
		{ro, "/*!80031 DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1' */", ErrNumReadOnly},
		{ro, "/*!EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'*/", ErrNumReadOnly},
		{ro, "PREPARE s FROM '/*!50000 INSERT INTO access_keys (UserName, region) VALUES (''dave'', ''us-east-1'') */'", 0},
		{ro, "EXECUTE s", ErrNumReadOnly},
		// Safe updates: every key of the account needs sql_safe_updates = 0.
		{rw, "/*!DELETE FROM access_keys WHERE region = 'us-east-1'*/", ErrNumBadParam},
		{rw, "/*!50000 UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' */", ErrNumBadParam},
		{rw, "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' /*!99999 AND UserName = 'bob' */", ErrNumBadParam},
		{rw, "DELETE FROM access_keys WHERE region = 'us-east-1' -- AND AccessKeyId = 'AKIABOB0000000000001'", ErrNumBadParam},
		{rw, "PREPARE p FROM '/*!DELETE FROM access_keys WHERE region = ?*/'", 0},
		{rw, "SET @r = 'us-east-1'", 0},
		{rw, "EXECUTE p USING @r", ErrNumBadParam},
	} {
		r := tc.w.exec(tc.query)
		if r.errNum != tc.errNum {
			t.Errorf("%s: %v, want error %d", tc.query, r.err, tc.errNum)
		}
		if n := tc.w.emu.TotalCalls(); n != 0 {
			t.Errorf("%s: %d IAM calls: %v", tc.query, n, r.calls)
		}
	}
	// Written so that the engine reads the key, the same UPDATE runs.
	r := rw.exec("UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' /*!80000 AND AccessKeyId = 'AKIABOB0000000000001' */")
	if r.err != nil || r.calls["UpdateAccessKey"] != 1 || r.calls["DeleteAccessKey"] != 0 {
		t.Errorf("UPDATE with its key in an executable comment: %v, calls %v", r.err, r.calls)
	}
	for _, k := range rw.emu.Snapshot().Keys {
		if k.AccessKeyID == "AKIABOB0000000000001" && k.Status != "Inactive" {
			t.Errorf("%s is %s, want Inactive", k.AccessKeyID, k.Status)
		}
	}
}
