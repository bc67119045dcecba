package provider

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/rotate"
	"github.com/iamsql/iamsql/provider/awsiam"
)

const (
	frankKey    = "AKIAFRANKKEY00000001"
	frankSecret = "frankSecretfrankSecretfrankSecretfrankSe"
)

// signingAs is w's account seen by an engine signing with another key
// (a ledger of its own).
func signingAs(t *testing.T, w *world, id, secret string) (*Engine, *Session, string) {
	t.Helper()
	clients := awsiam.NewClients(awsiam.Options{EndpointURL: w.url, MaxBackoff: 5 * time.Millisecond,
		Config: &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}})
	ledger := filepath.Join(t.TempDir(), "rotations.json")
	eng := NewEngine(Config{Clients: clients, Rotation: &RotationConfig{LedgerPath: ledger, PropagationWait: time.Second, RetryInterval: 50 * time.Millisecond}})
	return eng, eng.NewSession("frank", ""), ledger
}

// UserName DEFAULT (or left out of EXEC) rotates the caller's own key,
// found from the one GetCallerIdentity; the root user's only when root
// keys are allowed; NULL and ” are errors.
func TestRotateAccessKeyOfTheCaller(t *testing.T) {
	w, _ := rotationWorld(t, worldOptions{})
	// Signed as root: blocked, and the plan says how to allow it.
	// One GetCallerIdentity, kept for the session's later statements.
	want := "GetCallerIdentity×1, ListAccessKeys×1"
	for _, stmt := range []string{"CALL rotate_access_key(DEFAULT, 'us-east-1')", "EXEC rotations_Rotate @region = 'us-east-1'", "CALL rotate_access_key(default, 'us-east-1', DEFAULT, DEFAULT)"} {
		r := w.exec(stmt)
		if r.err != nil || len(r.rows) != 1 || r.rows[0][5] != "blocked" || r.rows[0][3] != emulator.DefaultRootAccessKeyID ||
			!strings.Contains(r.rows[0][9], "this is the root user's key") || !strings.Contains(r.rows[0][9], "SET iamsql_allow_root_keys = 1") {
			t.Fatalf("%s: %q %v", stmt, r.rows, r.err)
		}
		wantCallsOf(t, r, want)
		want = "ListAccessKeys×1"
	}
	if r := w.exec("SET iamsql_allow_root_keys = 1"); r.err != nil {
		t.Fatal(r.err)
	}
	r := w.exec("CALL rotate_access_key(DEFAULT, 'us-east-1')")
	if r.err != nil || r.rows[0][5] != "plan" || r.rows[0][3] != emulator.DefaultRootAccessKeyID || !strings.Contains(r.rows[0][9], "create a new access key for") {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	for _, stmt := range []string{"CALL rotate_access_key(NULL, 'us-east-1')", "CALL rotate_access_key('', 'us-east-1')", "EXEC rotations_Rotate @UserName = '', @region = 'us-east-1'"} {
		r := w.exec(stmt)
		if r.err == nil || !strings.Contains(r.err.Error(), "rotate_access_key requires UserName") || r.errNum != ErrNumBadParam {
			t.Fatalf("%s: %v", stmt, r.err)
		}
		wantCallsOf(t, r, "none")
	}

	// Signed as an IAM user: that user's key, into Secrets Manager.
	if err := w.emu.AddUser(emulator.User{UserName: "frank"}); err != nil {
		t.Fatal(err)
	}
	if err := w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: frankKey, SecretAccessKey: frankSecret, UserName: "frank", Status: "Active"}); err != nil {
		t.Fatal(err)
	}
	eng, sess, ledger := signingAs(t, w, frankKey, frankSecret)
	w.emu.ResetCalls()
	r = runStatement(eng, sess, "CALL rotate_access_key(DEFAULT, 'us-east-1', NULL, 1, 'secretsmanager:iam/frank', '7d', '7d')")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := callsString(w.emu.Calls()); got != "CreateAccessKey×1, CreateSecret×1, GetCallerIdentity×2, ListAccessKeys×1, PutSecretValue×1" {
		t.Fatalf("calls %s", got)
	}
	row := r.rows[0]
	if row[2] != "frank" || row[3] != frankKey || row[5] != "verified" || row[7] != "NULL" {
		t.Fatalf("row %q", row)
	}
	recs := ledgerOf(t, ledger)
	if len(recs) != 1 || !recs[0].Self || recs[0].UserName != "frank" || recs[0].Step != rotate.StepVerified {
		t.Fatalf("ledger %+v", recs)
	}
	if k := keysOf(w, "frank"); len(k) != 2 || k[frankKey] != "Active" || k[row[4]] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if v, _ := w.emu.Secret("us-east-1", "iam/frank"); !strings.Contains(v, row[4]) {
		t.Fatalf("secret %q", v)
	}
	if r := runStatement(eng, sess, "CALL rotate_access_key(DEFAULT, 'us-east-1', '"+frankKey+"')"); r.err != nil || r.rows[0][5] != "blocked" || !strings.Contains(r.rows[0][9], "is still open") {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	if r := runStatement(eng, sess, "CALL rollback_rotation('"+row[0]+"')"); r.err != nil || r.rows[0][5] != "rolled_back" {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	// create_access_key takes DEFAULT the same way: the caller's key.
	r = runStatement(eng, sess, "CALL create_access_key('us-east-1', DEFAULT)")
	if r.err != nil || r.rows[0][1] != "frank" {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	if k := keysOf(w, "frank"); len(k) != 2 || k[frankKey] != "Active" {
		t.Fatalf("keys %v", k)
	}
}

// MakeRoom is --make-room over SQL: an inactive second key unused for at
// least that long is deleted first; an active one, or one used recently,
// blocks the rotation and nothing is deleted.
func TestRotateAccessKeyMakeRoom(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	// alice: AKIAALICE00000000001 active, AKIAALICE00000000002 inactive, never used.
	r := w.exec("CALL rotate_access_key('alice', 'us-east-1', 'AKIAALICE00000000001')")
	if r.err != nil || r.rows[0][5] != "blocked" || !strings.Contains(r.rows[0][9], "in SQL: MakeRoom, e.g. '30d'") {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	r = w.exec("CALL rotate_access_key('alice', 'us-east-1', 'AKIAALICE00000000001', NULL, NULL, NULL, NULL, '30d')")
	if r.err != nil || r.rows[0][5] != "plan" || !strings.HasPrefix(r.rows[0][9], "delete the inactive key AKIAALICE00000000002 (created ") {
		t.Fatalf("%q %v", r.rows, r.err)
	}
	wantCallsOf(t, r, "GetAccessKeyLastUsed×1, ListAccessKeys×1")
	r = w.exec("EXEC rotations_Rotate @UserName = 'alice', @region = 'us-east-1', @AccessKeyId = 'AKIAALICE00000000001', @Apply = 1, @Sink = 'secretsmanager:iam/alice', @MakeRoom = '30d'")
	if r.err != nil {
		t.Fatal(r.err)
	}
	// GetCallerIdentity: the new key's verification.
	wantCallsOf(t, r, "CreateAccessKey×1, CreateSecret×1, DeleteAccessKey×1, GetAccessKeyLastUsed×1, GetCallerIdentity×1, ListAccessKeys×1, PutSecretValue×1")
	newID := r.rows[0][4]
	if k := keysOf(w, "alice"); len(k) != 2 || k["AKIAALICE00000000001"] != "Active" || k[newID] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if recs := ledgerOf(t, ledger); len(recs) != 1 || recs[0].RemovedKeyID != "AKIAALICE00000000002" || recs[0].Step != rotate.StepVerified {
		t.Fatalf("ledger %+v", recs)
	}

	// carol's second key is active: never touched.
	r = w.exec("CALL rotate_access_key('carol', 'us-east-1', 'AKIACAROL00000000001', 1, 'secretsmanager:iam/carol', NULL, NULL, '30d')")
	if r.err == nil || !strings.Contains(r.err.Error(), "its other key AKIACAROL00000000002 is active: an active second key is never touched") {
		t.Fatalf("%v", r.err)
	}
	wantCallsOf(t, r, "ListAccessKeys×1")
	// gina's inactive key was used 5 days ago.
	if err := w.emu.AddUser(emulator.User{UserName: "gina"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []emulator.AccessKey{
		{AccessKeyID: "AKIAGINAKEY000000001", UserName: "gina", Status: "Active", CreateDate: time.Now().Add(-300 * 24 * time.Hour)},
		{AccessKeyID: "AKIAGINAKEY000000002", UserName: "gina", Status: "Inactive", CreateDate: time.Now().Add(-300 * 24 * time.Hour),
			LastUsed: &emulator.LastUsed{Date: time.Now().Add(-5*24*time.Hour - time.Hour), ServiceName: "s3", Region: "us-east-1"}},
	} {
		if err := w.emu.AddAccessKey(k); err != nil {
			t.Fatal(err)
		}
	}
	r = w.exec("CALL rotate_access_key('gina', 'us-east-1', 'AKIAGINAKEY000000001', 1, 'secretsmanager:iam/gina', NULL, NULL, '30d')")
	if r.err == nil || !strings.Contains(r.err.Error(), "its inactive key AKIAGINAKEY000000002 was last used 5 days ago, less than --make-room 30 days") {
		t.Fatalf("%v", r.err)
	}
	wantCallsOf(t, r, "GetAccessKeyLastUsed×1, ListAccessKeys×1")
	if k := keysOf(w, "gina"); len(k) != 2 {
		t.Fatalf("gina %v", k)
	}
	if k := keysOf(w, "carol"); len(k) != 2 {
		t.Fatalf("carol %v", k)
	}
}

// A statement cancelled while its rotation's CreateAccessKey is in flight
// waits for the answer, then deletes the new key again: the rotation ends
// rolled_back, the old key untouched.
func TestRotateAccessKeyCancelledDuringTheCreate(t *testing.T) {
	w, ledger := rotationWorld(t, worldOptions{})
	w.emu.SetAnswerDelay("CreateAccessKey", time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for len(keysOf(w, "bob")) < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res, err := w.eng.Query(ctx, w.sess, "CALL rotate_access_key('bob', 'us-east-1', NULL, 1, 'secretsmanager:iam/bob')")
	if err == nil {
		for err == nil {
			_, err = res.Next()
		}
		_ = res.Close()
	}
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "interrupted while creating the new key") || !strings.Contains(err.Error(), "was deleted again") {
		t.Fatalf("err %v", err)
	}
	if k := keysOf(w, "bob"); len(k) != 1 || k["AKIABOB0000000000001"] != "Active" {
		t.Fatalf("keys %v", k)
	}
	if recs := ledgerOf(t, ledger); len(recs) != 1 || recs[0].Step != rotate.StepRolledBack || recs[0].NewKeyID == "" {
		t.Fatalf("ledger %+v", recs)
	}
	if _, ok := w.emu.Secret("us-east-1", "iam/bob"); ok {
		t.Fatal("the sink was written after the cancel")
	}
}
