package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// scriptTest is GMS's ScriptTest shape: setup statements, then one
// statement with its exact rows or error, and exactly the IAM calls it
// made (operation → count).
type scriptTest struct {
	name    string
	setup   []string
	query   string
	want    [][]string
	wantErr string // substring of the error message
	errNum  int    // MySQL error number
	calls   map[string]int
	// anyCalls skips the call check (concurrent work cut short by an error).
	anyCalls bool
	// before runs after setup, e.g. to inject an emulator fault.
	before func(w *world)
	// check runs after the statement, e.g. to inspect IAM state.
	check func(t *testing.T, w *world, r result)
	opts  worldOptions
}

func runScriptTests(t *testing.T, tests []scriptTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, tt.opts)
			for _, s := range tt.setup {
				w.mustExec(s)
			}
			if tt.before != nil {
				tt.before(w)
			}
			r := w.exec(tt.query)
			if tt.wantErr != "" || tt.errNum != 0 {
				if r.err == nil {
					t.Fatalf("want error %q, got rows:\n%s", tt.wantErr, rowsString(r.rows))
				}
				if !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", r.err, tt.wantErr)
				}
				if tt.errNum != 0 && r.errNum != tt.errNum {
					t.Errorf("error number %d, want %d (%v)", r.errNum, tt.errNum, r.err)
				}
			} else if r.err != nil {
				t.Fatalf("unexpected error: %v", r.err)
			}
			if tt.want != nil {
				if !reflect.DeepEqual(r.rows, tt.want) && !(len(r.rows) == 0 && len(tt.want) == 0) {
					t.Errorf("rows:\n%swant:\n%s", rowsString(r.rows), rowsString(tt.want))
				}
			}
			if tt.calls == nil {
				tt.calls = map[string]int{}
			}
			if !tt.anyCalls && !reflect.DeepEqual(r.calls, tt.calls) {
				t.Errorf("IAM calls: %s; want %s", callsString(r.calls), callsString(tt.calls))
			}
			if tt.check != nil {
				tt.check(t, w, r)
			}
		})
	}
}

func TestSelectAccessKeys(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{
			name:  "StackQL SELECT verbatim lists the caller's (root) keys",
			query: "SELECT AccessKeyId, CreateDate, Status, UserName FROM aws.iam_api.access_keys WHERE region = 'us-east-1';",
			want:  [][]string{{"AKIAIOSFODNN7EXAMPLE", ago(400 * day), "Active", "root"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "aws.iam.access_keys names the table too",
			query: "SELECT AccessKeyId FROM aws.iam.access_keys WHERE region = 'us-east-1'",
			want:  [][]string{{"AKIAIOSFODNN7EXAMPLE"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "UserName is pushed down to one ListAccessKeys",
			query: "SELECT AccessKeyId, UserName, Status, CreateDate, region FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'",
			want: [][]string{
				{"AKIAALICE00000000001", "alice", "Active", ago(400 * day), "us-east-1"},
				{"AKIAALICE00000000002", "alice", "Inactive", ago(200 * day), "us-east-1"},
			},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "last-used columns cost one GetAccessKeyLastUsed per key",
			query: "SELECT AccessKeyId, LastUsedDate, LastUsedServiceName, LastUsedRegion FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'",
			want: [][]string{
				{"AKIAALICE00000000001", ago(2 * day), "s3", "us-east-1"},
				{"AKIAALICE00000000002", "NULL", "NULL", "NULL"},
			},
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 2},
		},
		{
			name:  "SELECT star includes last-used columns",
			query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			want:  [][]string{{"AKIABOB0000000000001", "bob", "Active", ago(30 * day), "us-east-1", ago(1 * day), "ec2", "us-west-2"}},
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 1},
		},
		{
			name:  "filtering on a last-used column fetches it",
			query: "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'carol' AND LastUsedDate IS NULL",
			want:  [][]string{{"AKIACAROL00000000001"}},
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 2},
		},
		{
			name:  "UserName IN fans out to one call per user",
			query: "SELECT UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob', 'dave') ORDER BY AccessKeyId",
			want: [][]string{
				{"alice", "AKIAALICE00000000001"}, {"alice", "AKIAALICE00000000002"}, {"bob", "AKIABOB0000000000001"},
			},
			calls: map[string]int{"ListAccessKeys": 3},
		},
		{
			name:  "region IN fans out and echoes each region",
			query: "SELECT region, AccessKeyId FROM access_keys WHERE region IN ('us-east-1', 'eu-west-1') AND UserName = 'bob' ORDER BY region",
			want:  [][]string{{"eu-west-1", "AKIABOB0000000000001"}, {"us-east-1", "AKIABOB0000000000001"}},
			calls: map[string]int{"ListAccessKeys": 2},
		},
		{
			name:  "AccessKeyId alone finds the owner first",
			query: "SELECT UserName, Status FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIACAROL00000000002'",
			want:  [][]string{{"carol", "Active"}},
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1},
		},
		{
			name:  "AccessKeyId lookup reuses the owner lookup for last-used columns",
			query: "SELECT UserName, LastUsedServiceName FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIACAROL00000000002'",
			want:  [][]string{{"carol", "sts"}},
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1},
		},
		{
			name:    "an unknown AccessKeyId is an error that says why",
			query:   "SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIANOSUCHKEY0000000'",
			wantErr: "the key does not exist in this account, or the caller lacks iam:GetAccessKeyLastUsed", errNum: ErrNumAccessDenied,
			calls: map[string]int{"GetAccessKeyLastUsed": 1},
		},
		{
			name:  "an unknown AccessKeyId with its UserName is an empty result",
			query: "SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob' AND AccessKeyId = 'AKIANOSUCHKEY0000000'",
			want:  [][]string{},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "UserName and AccessKeyId together need one call",
			query: "SELECT Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' AND AccessKeyId = 'AKIAALICE00000000002'",
			want:  [][]string{{"Inactive"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "several key ids of one user need one call",
			query: "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' AND AccessKeyId IN ('AKIAALICE00000000001', 'AKIAALICE00000000002', 'AKIAALICE00000000009') ORDER BY AccessKeyId",
			want:  [][]string{{"AKIAALICE00000000001", "Active"}, {"AKIAALICE00000000002", "Inactive"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "COUNT(*) by user",
			query: "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'carol'",
			want:  [][]string{{"2"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "filters IAM can't apply run on the fetched rows",
			query: "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' AND Status = 'Inactive'",
			want:  [][]string{{"AKIAALICE00000000002"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "a user listing spans pages",
			opts:  worldOptions{pageSize: 1},
			query: "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'",
			want:  [][]string{{"AKIAALICE00000000001"}, {"AKIAALICE00000000002"}},
			calls: map[string]int{"ListAccessKeys": 2},
		},
		{
			name:  "users listing spans pages",
			opts:  worldOptions{pageSize: 4},
			query: "SELECT UserName, Path FROM users WHERE region = 'us-east-1' ORDER BY UserName",
			want: [][]string{
				{"alice", "/"}, {"bob", "/engineering/"}, {"carol", "/engineering/"},
				{"ci-deploy", "/service/"}, {"dave", "/ops/"}, {"erin", "/ops/"},
			},
			calls: map[string]int{"ListUsers": 2},
		},
		{
			name:  "users PathPrefix is pushed down",
			query: "SELECT UserName FROM users WHERE region = 'us-east-1' AND PathPrefix = '/ops/' ORDER BY UserName",
			want:  [][]string{{"dave"}, {"erin"}},
			calls: map[string]int{"ListUsers": 1},
		},
		{
			name:  "account summary shows root keys present",
			query: "SELECT AccountAccessKeysPresent, Users, AccessKeysPerUserQuota FROM account_summary WHERE region = 'us-east-1'",
			want:  [][]string{{"1", "6", "2"}},
			calls: map[string]int{"GetAccountSummary": 1},
		},
		{
			name: "the users join runs one ListAccessKeys per user",
			query: "SELECT u.UserName, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
				"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' ORDER BY k.AccessKeyId",
			want: [][]string{
				{"alice", "AKIAALICE00000000001"}, {"alice", "AKIAALICE00000000002"}, {"bob", "AKIABOB0000000000001"},
				{"carol", "AKIACAROL00000000001"}, {"carol", "AKIACAROL00000000002"}, {"ci-deploy", "AKIACIDEPLOY00000001"},
				{"erin", "AKIAERIN000000000001"},
			},
			calls: map[string]int{"ListUsers": 1, "ListAccessKeys": 6},
		},
	})
}

func TestRequiredParametersAndValidation(t *testing.T) {
	// Every case fails before any IAM call.
	runScriptTests(t, []scriptTest{
		{name: "SELECT without region", query: "SELECT * FROM access_keys",
			wantErr: "access_keys: SELECT requires region (add WHERE region = '…')", errNum: ErrNumBadParam},
		{name: "SELECT with only UserName", query: "SELECT * FROM access_keys WHERE UserName = 'alice'",
			wantErr: "SELECT requires region", errNum: ErrNumBadParam},
		{name: "region compared with a range is not a parameter", query: "SELECT * FROM access_keys WHERE region > 'a'",
			wantErr: "SELECT requires region", errNum: ErrNumBadParam},
		{name: "region NULL", query: "SELECT * FROM access_keys WHERE region = NULL",
			wantErr: "requires region", errNum: ErrNumBadParam},
		{name: "users without region", query: "SELECT * FROM users",
			wantErr: "users: SELECT requires region", errNum: ErrNumBadParam},
		{name: "unknown region", query: "SELECT * FROM access_keys WHERE region = 'mars-north-1'",
			wantErr: `invalid region "mars-north-1"`, errNum: ErrNumBadParam},
		{name: "invalid UserName", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob smith'",
			wantErr: `invalid UserName "bob smith"`, errNum: ErrNumBadParam},
		{name: "UserName too long", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = '" + strings.Repeat("u", 65) + "'",
			wantErr: "must be 1-64 characters", errNum: ErrNumBadParam},
		{name: "AccessKeyId too short", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIA1'",
			wantErr: "must be 16-128 characters", errNum: ErrNumBadParam},
		{name: "DELETE without AccessKeyId", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'",
			wantErr: "access_keys: DELETE requires AccessKeyId", errNum: ErrNumBadParam},
		{name: "DELETE without region", query: "DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001'",
			wantErr: "DELETE requires region", errNum: ErrNumBadParam},
		{name: "UPDATE without AccessKeyId", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1'",
			wantErr: "UPDATE requires AccessKeyId", errNum: ErrNumBadParam},
		{name: "UPDATE to an invalid status",
			query:   "UPDATE access_keys SET Status = 'Disabled' WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1' AND UserName = 'alice'",
			wantErr: `invalid Status "Disabled"`, errNum: ErrNumBadParam,
			// The rows to update are read first; the invalid status stops it before UpdateAccessKey.
			calls: map[string]int{"ListAccessKeys": 1}},
		{name: "UPDATE of a column other than Status",
			query:   "UPDATE access_keys SET UserName = 'bob' WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1' AND UserName = 'alice'",
			wantErr: "UPDATE can change only Status", errNum: ErrNumBadParam, calls: map[string]int{"ListAccessKeys": 1}},
		{name: "DELETE filtering on a last-used column",
			query:   "DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1' AND LastUsedDate IS NULL",
			wantErr: "DELETE cannot filter on LastUsedDate", errNum: ErrNumBadParam},
		{name: "INSERT without region", query: "INSERT INTO access_keys (UserName) VALUES ('dave')",
			wantErr: "access_keys: INSERT requires region", errNum: ErrNumBadParam},
		{name: "INSERT with an invalid UserName", query: "INSERT INTO access_keys (UserName, region) VALUES ('da ve', 'us-east-1')",
			wantErr: `invalid UserName "da ve"`, errNum: ErrNumBadParam},
		{name: "INSERT of a column IAM assigns", query: "INSERT INTO access_keys (UserName, region, Status) VALUES ('dave', 'us-east-1', 'Inactive')",
			wantErr: "Status is assigned by IAM", errNum: ErrNumBadParam},
		{name: "INSERT into created_access_keys", query: "INSERT INTO created_access_keys (AccessKeyId) VALUES ('AKIAALICE00000000001')",
			wantErr: "doesn't support INSERT"},
		{name: "CALL with too few arguments", query: "CALL update_access_key('AKIAALICE00000000001', 'Inactive')",
			wantErr: "expected update_access_key(AccessKeyId, Status, region[, UserName]), got 2 argument(s)", errNum: ErrNumBadParam},
		{name: "CALL with an empty required argument", query: "CALL create_access_key('')",
			wantErr: "access_keys: create_access_key requires region", errNum: ErrNumBadParam},
		{name: "CALL with NULL status", query: "CALL update_access_key('AKIAALICE00000000001', NULL, 'us-east-1')",
			wantErr: "update_access_key requires Status", errNum: ErrNumBadParam},
		{name: "CALL with an invalid status", query: "CALL update_access_key('AKIAALICE00000000001', 'On', 'us-east-1', 'alice')",
			wantErr: `invalid Status "On"`, errNum: ErrNumBadParam},
		{name: "EXEC without a required parameter",
			query:   "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIAALICE00000000001', @region = 'us-east-1'",
			wantErr: "access_keys: update_access_key requires Status", errNum: ErrNumBadParam},
		{name: "EXEC with an unknown parameter",
			query:   "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIAALICE00000000001', @Status = 'Active', @region = 'us-east-1', @Color = 'red'",
			wantErr: "unknown parameter @Color", errNum: ErrNumBadParam},
		{name: "EXEC of an unknown method", query: "EXEC aws.iam_api.access_keys.access_keys_Rotate @region = 'us-east-1'",
			wantErr: `unknown method "access_keys_Rotate"`},
	})
}

func TestMutations(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{
			name:  "StackQL INSERT ... SELECT creates a key",
			query: "INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1';",
			calls: map[string]int{"CreateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				created := w.sess.Created(0)
				if len(created) != 1 || created[0].UserName != "dave" || len(created[0].SecretAccessKey) != 40 {
					t.Fatalf("created %+v", created)
				}
				rows := w.mustExec("SELECT AccessKeyId, UserName, SecretAccessKey, region FROM created_access_keys")
				want := [][]string{{created[0].AccessKeyID, "dave", created[0].SecretAccessKey, "us-east-1"}}
				if !reflect.DeepEqual(rows, want) {
					t.Errorf("created_access_keys %v, want %v", rows, want)
				}
			},
		},
		{
			name:  "INSERT VALUES creates one key per row",
			query: "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('bob', 'us-east-1')",
			calls: map[string]int{"CreateAccessKey": 2},
			check: func(t *testing.T, w *world, r result) {
				if n := len(w.sess.Created(0)); n != 2 {
					t.Fatalf("%d keys created", n)
				}
			},
		},
		{
			name:  "INSERT without UserName creates a root key",
			query: "INSERT INTO access_keys (region) VALUES ('us-east-1')",
			calls: map[string]int{"CreateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				if c := w.sess.Created(0); len(c) != 1 || c[0].UserName != "root" {
					t.Fatalf("created %+v", c)
				}
			},
		},
		{
			name:    "the 2-key quota is LimitExceeded",
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1')",
			wantErr: "IAM CreateAccessKey failed: LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2", errNum: ErrNumLimitExceeded,
			calls: map[string]int{"CreateAccessKey": 1},
		},
		{
			name:    "a multi-row INSERT is all or nothing",
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('dave', 'us-east-1'), ('dave', 'us-east-1')",
			wantErr: "LimitExceeded", errNum: ErrNumLimitExceeded,
			calls: map[string]int{"CreateAccessKey": 3, "DeleteAccessKey": 2},
			check: func(t *testing.T, w *world, r result) {
				out, err := w.directClient().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("dave")})
				if err != nil || len(out.AccessKeyMetadata) != 0 {
					t.Fatalf("dave has %v keys (%v); the statement's keys should be deleted", out, err)
				}
				if n := len(w.sess.Created(0)); n != 0 {
					t.Errorf("session still lists %d rolled-back keys", n)
				}
			},
		},
		{
			name:    "creating a key for a missing user is NoSuchEntity",
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('nobody', 'us-east-1')",
			wantErr: "NoSuchEntity", errNum: ErrNumNotFound,
			calls: map[string]int{"CreateAccessKey": 1},
		},
		{
			name:  "CALL create_access_key returns the key and its secret",
			query: "CALL create_access_key('us-east-1', 'dave')",
			calls: map[string]int{"CreateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				c := w.sess.Created(0)
				if len(c) != 1 || len(r.rows) != 1 {
					t.Fatalf("rows %v created %v", r.rows, c)
				}
				want := []string{c[0].AccessKeyID, "dave", "Active", testNow.Format("2006-01-02 15:04:05"), c[0].SecretAccessKey, "us-east-1"}
				if !reflect.DeepEqual(r.rows[0], want) {
					t.Errorf("row %v, want %v", r.rows[0], want)
				}
			},
		},
		{
			name:  "UPDATE by AccessKeyId finds the owner, then updates",
			query: "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'",
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1, "UpdateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "bob", "AKIABOB0000000000001", "Inactive")
			},
		},
		{
			name:  "UPDATE with UserName skips the owner lookup",
			query: "UPDATE access_keys SET Status = 'Active' WHERE AccessKeyId = 'AKIAALICE00000000002' AND UserName = 'alice' AND region = 'us-east-1'",
			calls: map[string]int{"ListAccessKeys": 1, "UpdateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "alice", "AKIAALICE00000000002", "Active")
			},
		},
		{
			name:  "CALL update_access_key works for any user's key",
			query: "CALL update_access_key('AKIACAROL00000000001', 'Inactive', 'us-east-1')",
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "UpdateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "carol", "AKIACAROL00000000001", "Inactive")
			},
		},
		{
			name:  "StackQL EXEC verbatim",
			query: "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1';",
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "UpdateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "bob", "AKIABOB0000000000001", "Inactive")
			},
		},
		{
			name:  "EXEC with UserName needs no owner lookup",
			query: "EXEC access_keys.access_keys_Update @Status = 'Inactive', @UserName = 'bob', @AccessKeyId = 'AKIABOB0000000000001', @region = 'us-east-1'",
			calls: map[string]int{"UpdateAccessKey": 1},
		},
		{
			name:  "StackQL DELETE verbatim",
			query: "DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = 'AKIAERIN000000000001' AND region = 'us-east-1';",
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "ListAccessKeys": 1, "DeleteAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				out, err := w.directClient().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("erin")})
				if err != nil || len(out.AccessKeyMetadata) != 0 {
					t.Fatalf("erin's key still there: %v %v", out, err)
				}
			},
		},
		{
			name:  "DELETE of several keys by IN",
			query: "DELETE FROM access_keys WHERE AccessKeyId IN ('AKIACAROL00000000001', 'AKIACAROL00000000002') AND UserName = 'carol' AND region = 'us-east-1'",
			want:  [][]string{{"{2 0 <nil>}"}},
			calls: map[string]int{"ListAccessKeys": 1, "DeleteAccessKey": 2},
		},
		{
			name:  "DELETE of a key that does not exist affects nothing",
			query: "DELETE FROM access_keys WHERE AccessKeyId = 'AKIANOSUCHKEY0000000' AND UserName = 'bob' AND region = 'us-east-1'",
			want:  [][]string{{"{0 0 <nil>}"}},
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:  "CALL delete_access_key",
			query: "CALL delete_access_key('AKIAALICE00000000002', 'us-east-1', 'alice')",
			calls: map[string]int{"DeleteAccessKey": 1},
		},
		{
			name:    "AccessDenied becomes error 1227",
			before:  func(w *world) { w.emu.Deny("ListAccessKeys", "bob") },
			query:   "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			wantErr: "IAM ListAccessKeys failed: AccessDenied: User: arn:aws:iam::123456789012:root is not authorized", errNum: ErrNumAccessDenied,
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:    "NoSuchEntity for a missing user is error 1032",
			query:   "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'nobody'",
			wantErr: "IAM ListAccessKeys failed: NoSuchEntity: The user with name nobody cannot be found.", errNum: ErrNumNotFound,
			calls: map[string]int{"ListAccessKeys": 1},
		},
		{
			name:    "throttling that outlives the retries is error 1205",
			opts:    worldOptions{maxAttempts: 3},
			before:  func(w *world) { w.emu.FailNext("ListAccessKeys", "Throttling", 10) },
			query:   "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			wantErr: "Throttling", errNum: ErrNumThrottled,
			calls: map[string]int{"ListAccessKeys": 3},
		},
		{
			name:   "throttling within the retries is invisible",
			before: func(w *world) { w.emu.FailNext("ListAccessKeys", "Throttling", 2) },
			query:  "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			want:   [][]string{{"AKIABOB0000000000001"}},
			calls:  map[string]int{"ListAccessKeys": 3},
		},
		{
			name:    "CreateAccessKey is never retried",
			before:  func(w *world) { w.emu.FailNext("CreateAccessKey", "Throttling", 1) },
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
			wantErr: "Throttling", errNum: ErrNumThrottled,
			calls: map[string]int{"CreateAccessKey": 1},
		},
		{
			name:    "IAM's ValidationError is error 1210",
			before:  func(w *world) { w.emu.FailNext("UpdateAccessKey", "ValidationError", 1) },
			query:   "CALL update_access_key('AKIABOB0000000000001', 'Inactive', 'us-east-1', 'bob')",
			wantErr: "ValidationError", errNum: ErrNumBadParam,
			calls: map[string]int{"UpdateAccessKey": 1},
		},
		{
			name:    "a read-only engine refuses INSERT before any IAM call",
			opts:    worldOptions{readOnly: true},
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
			wantErr: "read-only", errNum: ErrNumReadOnly,
		},
		{
			name:    "a read-only engine refuses DELETE before any IAM call",
			opts:    worldOptions{readOnly: true},
			query:   "DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1'",
			wantErr: "read-only", errNum: ErrNumReadOnly,
		},
		{
			name:    "a read-only engine refuses EXEC before any IAM call",
			opts:    worldOptions{readOnly: true},
			query:   "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'",
			wantErr: "read-only", errNum: ErrNumReadOnly,
		},
	})
}

func assertStatus(t *testing.T, w *world, user, id, status string) {
	t.Helper()
	out, err := w.directClient().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == id {
			if string(k.Status) != status {
				t.Errorf("%s is %s, want %s", id, k.Status, status)
			}
			return
		}
	}
	t.Errorf("%s not found for %s", id, user)
}
