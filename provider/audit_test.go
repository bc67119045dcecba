package provider

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

func TestAuditRecordsEveryMutatingCallWithoutSecrets(t *testing.T) {
	var mu sync.Mutex
	var recs []AuditRecord
	w := newWorld(t, worldOptions{audit: func(r AuditRecord) { mu.Lock(); recs = append(recs, r); mu.Unlock() }})
	w.mustExec("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
	w.mustExec("CALL create_access_key('us-east-1', 'dave')")
	w.mustExec("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")
	w.exec("DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000002' AND UserName = 'bob' AND region = 'us-east-1'")
	w.emu.Deny("DeleteAccessKey", "alice")
	w.exec("CALL delete_access_key('AKIAALICE00000000002', 'us-east-1', 'alice')")
	w.mustExec("SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'")

	created := w.sess.Created(0)
	if len(created) != 2 {
		t.Fatalf("created %d keys", len(created))
	}
	type want struct{ op, key, outcome, statement string }
	wants := []want{
		{"CreateAccessKey", created[0].AccessKeyID, "ok", "INSERT INTO access_keys (UserName, region) VALUES (?, ?)"},
		{"CreateAccessKey", created[1].AccessKeyID, "ok", "CALL create_access_key(?, ?)"},
		{"UpdateAccessKey", "AKIABOB0000000000001", "ok", "UPDATE access_keys SET Status = ? WHERE AccessKeyId = ? AND region = ?"},
		{"DeleteAccessKey", "AKIAALICE00000000002", "error", "CALL delete_access_key(?, ?, ?)"},
	}
	if len(recs) != len(wants) {
		t.Fatalf("%d audit records, want %d: %+v", len(recs), len(wants), recs)
	}
	for i, wt := range wants {
		r := recs[i]
		if r.Operation != wt.op || r.AccessKeyID != wt.key || r.Outcome != wt.outcome || r.Statement != wt.statement ||
			r.Principal != "arn:aws:iam::123456789012:root" || r.SQLUser != "test" || r.Time.IsZero() {
			t.Errorf("record %d: %+v, want %+v", i, r, wt)
		}
	}
	all, _ := json.Marshal(recs)
	for _, k := range created {
		if strings.Contains(string(all), k.SecretAccessKey) {
			t.Fatal("a secret reached the audit log")
		}
	}
	// Looking up the principal costs one GetUser, once (the identity the
	// full scans use too).
	if n := w.eng.Provider.Calls()["GetUser"]; n != 1 {
		t.Errorf("provider counted GetUser %d times; the identity is asked once", n)
	}
}
