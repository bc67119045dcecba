package provider

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestUserContextTables: the user-context tables list every user's items
// (one call per user), and a lookup on UserName calls for those users only.
func TestUserContextTables(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{
			name:  "user_tags: a full scan is one ListUserTags per user",
			query: "SELECT UserName, TagKey, TagValue, account_id FROM user_tags WHERE region = 'us-east-1' ORDER BY UserName, TagKey",
			want: [][]string{
				{"alice", "AKIAALICE00000000001", "laptop CLI", "123456789012"}, {"alice", "owner", "alice@example.com", "123456789012"},
				{"alice", "team", "platform", "123456789012"}, {"bob", "owner", "bob@example.com", "123456789012"},
				{"bob", "team", "payments", "123456789012"}, {"carol", "AKIACAROL00000000001", "nightly ETL", "123456789012"},
				{"carol", "owner", "carol@example.com", "123456789012"}, {"carol", "team", "data", "123456789012"},
				{"ci-deploy", "AKIACIDEPLOY00000001", "GitHub Actions deploy", "123456789012"},
				{"ci-deploy", "owner", "platform-team@example.com", "123456789012"}, {"ci-deploy", "team", "platform", "123456789012"},
				{"erin", "owner", "erin@example.com", "123456789012"},
			},
			calls: map[string]int{"ListUsers": 1, "ListUserTags": 6, "GetCallerIdentity": 1},
		},
		{
			name:  "user_tags: UserName IN calls for those users only",
			query: "SELECT UserName, TagKey, TagValue FROM user_tags WHERE region = 'us-east-1' AND UserName IN ('bob', 'erin') ORDER BY UserName, TagKey",
			want: [][]string{
				{"bob", "owner", "bob@example.com"}, {"bob", "team", "payments"}, {"erin", "owner", "erin@example.com"},
			},
			calls: map[string]int{"GetUser": 2, "ListUserTags": 2},
		},
		{
			name:  "user_tags: a name in another case has no rows, as in the full scan",
			query: "SELECT TagKey FROM user_tags WHERE region = 'us-east-1' AND UserName = 'Bob'",
			want:  [][]string{},
			calls: map[string]int{"GetUser": 1},
		},
		{
			name:  "user_tags: a user that does not exist has no rows, with a note",
			query: "SELECT TagKey FROM user_tags WHERE region = 'us-east-1' AND UserName = 'nobody'",
			want:  [][]string{},
			calls: map[string]int{"GetUser": 1},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, NoteNoSuchValue, "user_tags: there is no user nobody")
			},
		},
		{
			name:    "user_tags: region is required",
			query:   "SELECT * FROM user_tags WHERE UserName = 'bob'",
			wantErr: "user_tags: SELECT requires region", errNum: ErrNumBadParam,
			calls: map[string]int{},
		},
		{
			name: "each key with its description: a join on UserName fetches each user's tags once",
			query: "SELECT k.UserName, k.AccessKeyId, t.TagValue FROM access_keys k LEFT JOIN user_tags t " +
				"ON t.UserName = k.UserName AND t.TagKey = k.AccessKeyId AND t.region = 'us-east-1' WHERE k.region = 'us-east-1' ORDER BY k.UserName, k.AccessKeyId",
			want: [][]string{
				{"alice", "AKIAALICE00000000001", "laptop CLI"}, {"alice", "AKIAALICE00000000002", "NULL"}, {"bob", "AKIABOB0000000000001", "NULL"},
				{"carol", "AKIACAROL00000000001", "nightly ETL"}, {"carol", "AKIACAROL00000000002", "NULL"},
				{"ci-deploy", "AKIACIDEPLOY00000001", "GitHub Actions deploy"}, {"erin", "AKIAERIN000000000001", "NULL"},
				{"root", "AKIAIOSFODNN7EXAMPLE", "NULL"},
			},
			anyCalls: true, // the plan decides between a lookup per user and a scan; the rows are the same
		},
		{
			name:  "login_profiles: a user without a console password has no row (NoSuchEntity is not an error)",
			query: "SELECT UserName, PasswordResetRequired FROM login_profiles WHERE region = 'us-east-1' ORDER BY UserName",
			want:  [][]string{{"alice", "false"}, {"bob", "false"}, {"dave", "false"}, {"erin", "false"}},
			calls: map[string]int{"ListUsers": 1, "GetLoginProfile": 6},
		},
		{
			name:  "mfa_devices, user_groups, user_attached_policies, user_policies for one user",
			query: "SELECT (SELECT COUNT(*) FROM mfa_devices WHERE region = 'us-east-1' AND UserName = 'alice'), (SELECT GROUP_CONCAT(GroupName ORDER BY GroupName) FROM user_groups WHERE region = 'us-east-1' AND UserName = 'carol'), (SELECT COUNT(*) FROM user_attached_policies WHERE region = 'us-east-1' AND UserName = 'alice'), (SELECT COUNT(*) FROM user_policies WHERE region = 'us-east-1' AND UserName = 'bob')",
			want:  [][]string{{"1", "data,developers", "1", "1"}},
			calls: map[string]int{"GetUser": 3, "ListMFADevices": 1, "ListGroupsForUser": 1, "ListAttachedUserPolicies": 1, "ListUserPolicies": 1},
		},
		{
			name:   "a user IAM refuses to tell is left out with a warning (partial result)",
			before: func(w *world) { w.emu.Deny("ListGroupsForUser", "carol") },
			query:  "SELECT UserName, GroupName FROM user_groups WHERE region = 'us-east-1' ORDER BY UserName, GroupName",
			want:   [][]string{{"alice", "admins"}, {"bob", "developers"}, {"dave", "ops"}, {"erin", "ops"}},
			calls:  map[string]int{"ListUsers": 1, "ListGroupsForUser": 6},
			check: func(t *testing.T, w *world, r result) {
				assertNote(t, w, WarnPartial, "carol")
			},
		},
	})
}

// TestUserContextLookupsReturnTheFullScansRows: for every user-context
// table, UserName = and IN (...) (names of any case, unknown names,
// duplicates) return exactly the full scan's rows with those names.
func TestUserContextLookupsReturnTheFullScansRows(t *testing.T) {
	w := newWorld(t, worldOptions{})
	sets := [][]string{{"alice"}, {"carol"}, {"Alice"}, {"dave", "erin"}, {"bob", "BOB", "nobody", "bob"}, {"ci-deploy", "alice", "carol", "dave"}}
	for _, table := range []string{"user_tags", "mfa_devices", "login_profiles", "user_groups", "user_attached_policies", "user_policies"} {
		full := w.mustExec(fmt.Sprintf("SELECT * FROM %s WHERE region = 'us-east-1'", table))
		if len(full) == 0 {
			t.Fatalf("%s: the demo account has no rows", table)
		}
		for _, names := range sets {
			var want [][]string
			for _, r := range full {
				if slices.Contains(names, r[0]) {
					want = append(want, r)
				}
			}
			quoted := "'" + strings.Join(names, "', '") + "'"
			got := w.mustExec(fmt.Sprintf("SELECT * FROM %s WHERE region = 'us-east-1' AND UserName IN (%s)", table, quoted))
			sortRows(want)
			sortRows(got)
			if !reflect.DeepEqual(nonNil(got), nonNil(want)) {
				t.Errorf("%s, UserName IN (%s):\n%s\nwant (the full scan's):\n%s", table, quoted, rowsString(got), rowsString(want))
			}
			// The same set as a join with a derived table of names.
			var derived []string
			for _, n := range names {
				derived = append(derived, "SELECT '"+n+"' AS n")
			}
			joined := w.mustExec(fmt.Sprintf("SELECT DISTINCT t.* FROM (%s) names JOIN %s t ON t.UserName = names.n WHERE t.region = 'us-east-1'", strings.Join(derived, " UNION ALL "), table))
			sortRows(joined)
			if !reflect.DeepEqual(nonNil(joined), nonNil(slices.CompactFunc(slices.Clone(want), slices.Equal))) {
				t.Errorf("%s, joined on (%s):\n%s\nwant:\n%s", table, quoted, rowsString(joined), rowsString(want))
			}
		}
	}
}

func sortRows(rows [][]string) {
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
}

func nonNil(rows [][]string) [][]string {
	if rows == nil {
		return [][]string{}
	}
	return rows
}

// TestCredentialReportTable: the report is asked for and read in two
// calls, its CSV parsed with its documented columns, its age told.
func TestCredentialReportTable(t *testing.T) {
	old := reportClock
	reportClock = func() time.Time { return testNow }
	defer func() { reportClock = old }()
	runScriptTests(t, []scriptTest{
		{
			name: "every user, the root user first",
			query: "SELECT user, password_enabled, password_last_used, mfa_active, access_key_1_active, access_key_1_last_rotated, access_key_1_last_used_service, " +
				"access_key_2_active, access_key_2_last_used_date, cert_1_active, GeneratedTime, Stale FROM credential_report WHERE region = 'us-east-1'",
			want: [][]string{
				{"<root_account>", "NULL", "NULL", "false", "true", ago(400 * day), "iam", "false", "NULL", "false", ago(0), "false"},
				{"alice", "true", ago(3 * day), "true", "true", ago(400 * day), "s3", "false", "NULL", "false", ago(0), "false"},
				{"bob", "true", ago(5 * day), "false", "true", ago(30 * day), "ec2", "false", "NULL", "false", ago(0), "false"},
				{"carol", "false", "NULL", "false", "true", ago(120 * day), "NULL", "true", ago(60 * day), "false", ago(0), "false"},
				{"ci-deploy", "false", "NULL", "false", "true", ago(650 * day), "codebuild", "false", "NULL", "false", ago(0), "false"},
				{"dave", "true", "NULL", "true", "false", "NULL", "NULL", "false", "NULL", "false", ago(0), "false"},
				{"erin", "true", "NULL", "false", "false", ago(100 * day), "iam", "false", "NULL", "false", ago(0), "false"},
			},
			calls: map[string]int{"GenerateCredentialReport": 1, "GetCredentialReport": 1},
		},
		{
			name:   "while IAM makes the report, GetCredentialReport is asked again",
			before: func(w *world) { w.emu.FailNext("GetCredentialReport", "ReportInProgress", 2) },
			query:  "SELECT COUNT(*) FROM credential_report WHERE region = 'us-east-1'",
			want:   [][]string{{"7"}},
			calls:  map[string]int{"GenerateCredentialReport": 1, "GetCredentialReport": 3},
		},
		{
			name:    "without iam:GenerateCredentialReport the last report is read as it is, with a warning",
			before:  func(w *world) { w.emu.Deny("GenerateCredentialReport", "") },
			query:   "SELECT COUNT(*) FROM credential_report WHERE region = 'us-east-1'",
			wantErr: "ReportNotPresent", anyCalls: true,
		},
		{
			name:    "region is required",
			query:   "SELECT * FROM credential_report",
			wantErr: "credential_report: SELECT requires region", errNum: ErrNumBadParam,
			calls: map[string]int{},
		},
	})
}

// TestOrgUserTagsByAccount: in org mode, user_tags spans every account;
// account_id = narrows the accounts read and returns exactly the full
// scan's rows of that account.
func TestOrgUserTagsByAccount(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2"})
	full := w.exec("SELECT account_id, UserName, TagKey, TagValue FROM user_tags WHERE region = 'us-east-1' ORDER BY account_id, UserName, TagKey")
	if full.err != nil {
		t.Fatal(full.err)
	}
	var want []string
	accounts := map[string]bool{}
	for _, r := range full.rows {
		accounts[r[0]] = true
		if r[0] == acct1 {
			want = append(want, strings.Join(r, " | "))
		}
	}
	if len(accounts) != 3 || len(want) != 4 { // every account's 2 generated users: owner and team tags each
		t.Fatalf("full scan:\n%s", rowsString(full.rows))
	}
	r := w.exec("SELECT account_id, UserName, TagKey, TagValue FROM user_tags WHERE region = 'us-east-1' AND account_id = '" + acct1 + "' ORDER BY account_id, UserName, TagKey")
	wantRows(t, r, want...)
	for key := range r.calls {
		if strings.HasPrefix(key, acct2+" ") && !strings.HasSuffix(key, "AssumeRole") {
			t.Errorf("account_id = %s read %s too: %v", acct1, acct2, r.calls)
		}
	}
}
