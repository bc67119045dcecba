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
			name:  "StackQL SELECT verbatim lists every key in the account, the root user's too when signed as root",
			query: "SELECT AccessKeyId, CreateDate, Status, UserName FROM aws.iam_api.access_keys WHERE region = 'us-east-1';",
			want: [][]string{
				{"AKIAALICE00000000001", ago(400 * day), "Active", "alice"}, {"AKIAALICE00000000002", ago(200 * day), "Inactive", "alice"},
				{"AKIABOB0000000000001", ago(30 * day), "Active", "bob"}, {"AKIACAROL00000000001", ago(120 * day), "Active", "carol"},
				{"AKIACAROL00000000002", ago(95 * day), "Active", "carol"}, {"AKIACIDEPLOY00000001", ago(650 * day), "Active", "ci-deploy"},
				{"AKIAERIN000000000001", ago(100 * day), "Inactive", "erin"}, {"AKIAIOSFODNN7EXAMPLE", ago(400 * day), "Active", "root"},
			},
			// One ListUsers pass, one ListAccessKeys per user and one for the
			// root user's own keys, once the caller is known to be root.
			calls: map[string]int{"ListUsers": 1, "ListAccessKeys": 7, "GetUser": 1},
		},
		{
			name:  "aws.iam.access_keys names the table too",
			query: "SELECT AccessKeyId FROM aws.iam.access_keys WHERE region = 'us-east-1' AND UserName = 'root'",
			want:  [][]string{{"AKIAIOSFODNN7EXAMPLE"}},
			calls: map[string]int{"ListAccessKeys": 1, "GetUser": 1},
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
			name:  "SELECT star includes last-used columns and the account",
			query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			want:  [][]string{{"AKIABOB0000000000001", "bob", "Active", ago(30 * day), "us-east-1", ago(1 * day), "ec2", "us-west-2", "123456789012"}},
			// The account is the signer's: one GetCallerIdentity per engine.
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 1, "GetCallerIdentity": 1},
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
			name:  "region IN repeats the rows per region from one call per partition",
			query: "SELECT region, AccessKeyId FROM access_keys WHERE region IN ('us-east-1', 'eu-west-1') AND UserName = 'bob' ORDER BY region",
			want:  [][]string{{"eu-west-1", "AKIABOB0000000000001"}, {"us-east-1", "AKIABOB0000000000001"}},
			calls: map[string]int{"ListAccessKeys": 1},
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
			// IAM denies GetAccessKeyLastUsed for a key of another account
			// and for a caller without the permission alike: the full scan
			// decides, and finds no such key.
			name:  "an unknown AccessKeyId has no rows",
			query: "SELECT UserName FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIANOSUCHKEY0000000'",
			want:  [][]string{},
			calls: map[string]int{"GetAccessKeyLastUsed": 1, "ListUsers": 1, "ListAccessKeys": 7, "GetUser": 1},
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
			name:  "users by path",
			query: "SELECT UserName FROM users WHERE region = 'us-east-1' AND Path LIKE '/ops/%' ORDER BY UserName",
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
		{name: "DELETE without region", query: "DELETE FROM access_keys WHERE AccessKeyId = 'AKIAALICE00000000001'",
			wantErr: "DELETE requires region", errNum: ErrNumBadParam},
		{name: "UPDATE of every key (safe updates)", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1'",
			wantErr: "UPDATE without AccessKeyId or UserName in WHERE would change every key of the account", errNum: ErrNumBadParam},
		{name: "DELETE of every key (safe updates)", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND Status = 'Inactive'",
			wantErr: "DELETE without AccessKeyId or UserName in WHERE would change every key of the account", errNum: ErrNumBadParam},
		{name: "DELETE with an invalid AccessKeyId", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIA1'",
			wantErr: "must be 16-128 characters", errNum: ErrNumBadParam},
		{name: "UPDATE with an invalid UserName", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND UserName = 'bob smith'",
			wantErr: `invalid UserName "bob smith"`, errNum: ErrNumBadParam},
		{name: "UPDATE to an invalid status",
			query:   "UPDATE access_keys SET Status = 'Disabled' WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1' AND UserName = 'alice'",
			wantErr: `invalid Status "Disabled"`, errNum: ErrNumBadParam},
		{name: "UPDATE to a NULL status",
			query:   "UPDATE access_keys SET Status = NULL WHERE UserName = 'alice' AND region = 'us-east-1'",
			wantErr: `invalid Status "NULL"`, errNum: ErrNumBadParam},
		{name: "UPDATE of a column other than Status",
			query:   "UPDATE access_keys SET UserName = 'bob' WHERE AccessKeyId = 'AKIAALICE00000000001' AND region = 'us-east-1' AND UserName = 'alice'",
			wantErr: "UPDATE can change only Status", errNum: ErrNumBadParam},
		{name: "INSERT with UserName NULL", query: "INSERT INTO access_keys (UserName, region) VALUES (NULL, 'us-east-1')",
			wantErr: `invalid UserName "NULL"`, errNum: ErrNumBadParam},
		{name: "INSERT with an empty UserName", query: "INSERT INTO access_keys (UserName, region) VALUES ('', 'us-east-1')",
			wantErr: `invalid UserName ""`, errNum: ErrNumBadParam},
		{name: "a multi-row INSERT with an invalid later row creates nothing",
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('dave', 'mars-1')",
			wantErr: `invalid region "mars-1"`, errNum: ErrNumBadParam},
		{name: "INSERT IGNORE with an invalid row creates nothing",
			query:   "INSERT IGNORE INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'), ('', 'us-east-1'), ('bob', 'us-east-1')",
			wantErr: `invalid UserName ""`, errNum: ErrNumBadParam},
		{name: "CALL create_access_key with an empty UserName", query: "CALL create_access_key('us-east-1', '')",
			wantErr: `invalid UserName ""`, errNum: ErrNumBadParam},
		{name: "CALL create_access_key with a NULL UserName", query: "CALL create_access_key('us-east-1', NULL)",
			wantErr: `invalid UserName ""`, errNum: ErrNumBadParam},
		{name: "INSERT without region", query: "INSERT INTO access_keys (UserName) VALUES ('dave')",
			wantErr: "access_keys: INSERT requires region", errNum: ErrNumBadParam},
		{name: "INSERT with an invalid UserName", query: "INSERT INTO access_keys (UserName, region) VALUES ('da ve', 'us-east-1')",
			wantErr: `invalid UserName "da ve"`, errNum: ErrNumBadParam},
		{name: "INSERT of a column IAM assigns", query: "INSERT INTO access_keys (UserName, region, Status) VALUES ('dave', 'us-east-1', 'Inactive')",
			wantErr: "Status is assigned by IAM", errNum: ErrNumBadParam},
		{name: "INSERT into created_access_keys", query: "INSERT INTO created_access_keys (AccessKeyId) VALUES ('AKIAALICE00000000001')",
			wantErr: "doesn't support INSERT"},
		{name: "CALL with too few arguments", query: "CALL update_access_key('AKIAALICE00000000001', 'Inactive')",
			wantErr: "expected update_access_key(AccessKeyId, Status, region[, UserName[, account_id]]), got 2 argument(s)", errNum: ErrNumBadParam},
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
			name:    "INSERT without UserName signed as root is refused",
			query:   "INSERT INTO access_keys (region) VALUES ('us-east-1')",
			wantErr: "refusing to create an access key for the root user", errNum: ErrNumBadParam,
			calls: map[string]int{"GetUser": 1},
		},
		{
			name:    "CALL create_access_key without UserName signed as root is refused",
			query:   "CALL create_access_key('us-east-1')",
			wantErr: "refusing to create an access key for the root user", errNum: ErrNumBadParam,
			calls: map[string]int{"GetUser": 1},
		},
		{
			name:  "INSERT with DEFAULT UserName creates a root key when allowed",
			setup: []string{"SET iamsql_allow_root_keys = 1"},
			query: "INSERT INTO access_keys (UserName, region) VALUES (DEFAULT, 'us-east-1')",
			calls: map[string]int{"GetUser": 1, "CreateAccessKey": 1},
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
			name:  "DELETE by UserName deletes every key of the user",
			query: "DELETE FROM access_keys WHERE UserName = 'alice' AND region = 'us-east-1'",
			want:  [][]string{{"{2 0 <nil>}"}},
			calls: map[string]int{"ListAccessKeys": 1, "DeleteAccessKey": 2},
		},
		{
			name:  "UPDATE by UserName disables every key of the user (incident response)",
			query: "UPDATE access_keys SET Status = 'Inactive' WHERE UserName = 'carol' AND region = 'us-east-1'",
			calls: map[string]int{"ListAccessKeys": 1, "UpdateAccessKey": 2},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "carol", "AKIACAROL00000000001", "Inactive")
				assertStatus(t, w, "carol", "AKIACAROL00000000002", "Inactive")
			},
		},
		{
			name:  "UPDATE by AccessKeyId IN a subquery",
			query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND AccessKeyId IN (SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob')",
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 1, "UpdateAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "bob", "AKIABOB0000000000001", "Inactive")
			},
			anyCalls: true, // the plan decides how the subquery's keys are looked up
		},
		{
			name:  "a whole-account UPDATE runs with safe updates off",
			setup: []string{"SET sql_safe_updates = 0"},
			query: "UPDATE access_keys SET Status = 'Active' WHERE region = 'us-east-1' AND Status = 'Inactive' AND UserName <> 'root'",
			want:  [][]string{{"{2 0 Rows matched: 2  Changed: 2  Warnings: 0}"}},
			calls: map[string]int{"GetUser": 1, "ListUsers": 1, "ListAccessKeys": 7, "UpdateAccessKey": 2},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "alice", "AKIAALICE00000000002", "Active")
				assertStatus(t, w, "erin", "AKIAERIN000000000001", "Active")
			},
		},
		{
			name:  "DELETE filtering on a last-used column fetches it",
			query: "DELETE FROM access_keys WHERE UserName = 'alice' AND region = 'us-east-1' AND LastUsedDate IS NULL",
			want:  [][]string{{"{1 0 <nil>}"}},
			calls: map[string]int{"ListAccessKeys": 1, "GetAccessKeyLastUsed": 2, "DeleteAccessKey": 1},
			check: func(t *testing.T, w *world, r result) {
				assertStatus(t, w, "alice", "AKIAALICE00000000001", "Active")
			},
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
			before:  func(w *world) { w.emu.Deny("DeleteAccessKey", "bob") },
			query:   "CALL delete_access_key('AKIABOB0000000000001', 'us-east-1', 'bob')",
			wantErr: "IAM DeleteAccessKey failed: AccessDenied: User: arn:aws:iam::123456789012:root is not authorized", errNum: ErrNumAccessDenied,
			calls: map[string]int{"DeleteAccessKey": 1},
		},
		{
			name:   "a user IAM refuses to list is left out with a partial-result warning",
			before: func(w *world) { w.emu.Deny("ListAccessKeys", "bob") },
			query:  "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'",
			want:   [][]string{},
			calls:  map[string]int{"ListAccessKeys": 1},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, WarnPartial, "the keys of user bob could not be listed")
				if in := w.sess.Incomplete(); len(in) != 1 || in[0].UserName != "bob" || in[0].Code != "AccessDenied" {
					t.Errorf("incomplete %+v", in)
				}
			},
		},
		{
			name:  "a missing user has no keys",
			query: "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'nobody'",
			want:  [][]string{},
			calls: map[string]int{"ListAccessKeys": 1},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, NoteNoSuchValue, "there is no user nobody")
			},
		},
		{
			name:  "invalid names in a SELECT match no row, with a note and no IAM call",
			query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('bob smith', '" + strings.Repeat("u", 65) + "')",
			want:  [][]string{},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, NoteNoSuchValue, `invalid UserName "bob smith"`)
				assertNote(t, w, NoteNoSuchValue, "must be 1-64 characters")
			},
		},
		{
			name:  "an invalid AccessKeyId in a SELECT matches no row",
			query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIA1'",
			want:  [][]string{},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, NoteNoSuchValue, "must be 16-128 characters")
			},
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
			// Throttling is IAM saying it did nothing: retried like any call.
			name:   "a throttled CreateAccessKey is retried",
			before: func(w *world) { w.emu.FailNext("CreateAccessKey", "Throttling", 2) },
			query:  "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
			calls:  map[string]int{"CreateAccessKey": 3},
			check: func(t *testing.T, w *world, r result) {
				if n := len(w.sess.Created(0)); n != 1 {
					t.Fatalf("%d keys created", n)
				}
			},
		},
		{
			name:    "a CreateAccessKey that IAM answers with a 5xx is never retried",
			before:  func(w *world) { w.emu.FailNext("CreateAccessKey", "ServiceFailure", 1) },
			query:   "INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')",
			wantErr: "the outcome is unknown",
			calls:   map[string]int{"CreateAccessKey": 1},
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
