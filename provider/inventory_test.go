package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
)

const inventoryJoin = "SELECT u.UserName, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
	"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'"

func TestInventoryJoinCallsAndRows(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{
			name: "with last-used columns: one ListAccessKeys per user, one GetAccessKeyLastUsed per key",
			query: "SELECT u.UserName, k.AccessKeyId, k.LastUsedServiceName FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
				"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'",
			want: [][]string{
				{"alice", "AKIAALICE00000000001", "s3"}, {"alice", "AKIAALICE00000000002", "NULL"}, {"bob", "AKIABOB0000000000001", "ec2"},
				{"carol", "AKIACAROL00000000001", "NULL"}, {"carol", "AKIACAROL00000000002", "sts"}, {"ci-deploy", "AKIACIDEPLOY00000001", "codebuild"},
				{"erin", "AKIAERIN000000000001", "iam"},
			},
			calls: map[string]int{"ListUsers": 1, "ListAccessKeys": 6, "GetAccessKeyLastUsed": 7},
		},
		{
			name:  "with a LIMIT no keys are fetched ahead",
			query: inventoryJoin + " LIMIT 1",
			want:  [][]string{{"alice", "AKIAALICE00000000001"}},
			calls: map[string]int{"ListUsers": 1, "ListAccessKeys": 1},
		},
		{
			name:   "a user denied mid-query is skipped with a note",
			before: func(w *world) { w.emu.Deny("ListAccessKeys", "bob") },
			query:  inventoryJoin,
			want: [][]string{
				{"alice", "AKIAALICE00000000001"}, {"alice", "AKIAALICE00000000002"},
				{"carol", "AKIACAROL00000000001"}, {"carol", "AKIACAROL00000000002"}, {"ci-deploy", "AKIACIDEPLOY00000001"},
				{"erin", "AKIAERIN000000000001"},
			},
			calls: map[string]int{"ListUsers": 1, "ListAccessKeys": 6},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, WarnPartial, "the keys of user bob could not be listed: IAM ListAccessKeys failed: AccessDenied")
			},
		},
		{
			name:   "a user deleted mid-query has no keys, with a note",
			before: func(w *world) { w.emu.FailNext("ListAccessKeys", "NoSuchEntity", 1) },
			query:  inventoryJoin + " AND u.Path = '/service/'",
			want:   [][]string{},
			calls:  map[string]int{"ListUsers": 1, "ListAccessKeys": 1},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, NoteNoSuchValue, "access_keys: there is no user ci-deploy")
			},
		},
		{
			name:    "any other error fails the inventory",
			before:  func(w *world) { w.emu.FailNext("ListAccessKeys", "ValidationError", 1) },
			query:   inventoryJoin,
			wantErr: "ValidationError", errNum: ErrNumBadParam,
			anyCalls: true, // the other users' calls are cancelled at the error
		},
	})
}

func assertNote(t *testing.T, w *world, code int, text string) {
	t.Helper()
	for _, warn := range w.sess.Warnings() {
		if warn.Code == code && strings.Contains(warn.Message, text) {
			return
		}
	}
	var got []string
	for _, warn := range w.sess.Warnings() {
		got = append(got, fmt.Sprintf("%d %s", warn.Code, warn.Message))
	}
	t.Errorf("no note %d %q among %q", code, text, got)
}

// TestInventoryJoinRunsConcurrently: 200 users at 100 ms per call take
// 20 s one at a time; with 16 in flight about ceil(200/16) × 100 ms.
// The bound is loose so a slow machine can't make it flake; the precise
// figure is in the benchmarks.
func TestInventoryJoinRunsConcurrently(t *testing.T) {
	w := newWorld(t, worldOptions{empty: true})
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("user%03d", i)
		if err := w.emu.AddUser(emulator.User{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if err := w.emu.AddAccessKey(emulator.AccessKey{UserName: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.emu.SetLatency(100 * time.Millisecond)
	start := time.Now()
	r := w.exec(inventoryJoin)
	elapsed := time.Since(start)
	if r.err != nil || len(r.rows) != 200 {
		t.Fatalf("%d rows, %v", len(r.rows), r.err)
	}
	if r.calls["ListAccessKeys"] != 200 || r.calls["ListUsers"] != 2 {
		t.Errorf("calls %s", callsString(r.calls))
	}
	if elapsed > 8*time.Second {
		t.Errorf("inventory of 200 users took %v; one at a time would be 20s, concurrently ~1.5s", elapsed)
	}
	t.Logf("200 users at 100ms: %v", elapsed)
}
