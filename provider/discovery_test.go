package provider

import (
	"strings"
	"testing"
)

// StackQL's discovery statements answer from package schema with
// StackQL's columns, and make no IAM call.
func TestStackQLDiscoveryStatements(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "SHOW SERVICES", query: "SHOW SERVICES",
			want: [][]string{{"aws.iam_api", "iam_api", "AWS Identity and Access Management (IAM)"}, {"aws.iam", "iam", "AWS Identity and Access Management (IAM), StackQL's older service name"}, {"aws.organizations", "organizations", "AWS Organizations"}}},
		{name: "SHOW SERVICES IN aws LIKE", query: "show services in aws like '%api'",
			want: [][]string{{"aws.iam_api", "iam_api", "AWS Identity and Access Management (IAM)"}}},
		{name: "SHOW RESOURCES IN a service", query: "SHOW RESOURCES IN aws.iam_api",
			want: [][]string{{"access_keys", "aws.iam_api.access_keys"}, {"users", "aws.iam_api.users"}, {"account_summary", "aws.iam_api.account_summary"},
				{"user_tags", "aws.iam_api.user_tags"}, {"mfa_devices", "aws.iam_api.mfa_devices"}, {"login_profiles", "aws.iam_api.login_profiles"},
				{"user_groups", "aws.iam_api.user_groups"}, {"user_attached_policies", "aws.iam_api.user_attached_policies"}, {"user_policies", "aws.iam_api.user_policies"},
				{"credential_report", "aws.iam_api.credential_report"}}},
		{name: "SHOW RESOURCES LIKE", query: "SHOW RESOURCES IN aws.iam LIKE 'u%'", want: [][]string{{"users", "aws.iam.users"},
			{"user_tags", "aws.iam.user_tags"}, {"user_groups", "aws.iam.user_groups"}, {"user_attached_policies", "aws.iam.user_attached_policies"}, {"user_policies", "aws.iam.user_policies"}}},
		{name: "SHOW RESOURCES of every table", query: "SHOW RESOURCES",
			want: [][]string{{"access_keys", "aws.iam_api.access_keys"}, {"created_access_keys", "created_access_keys"}, {"users", "aws.iam_api.users"},
				{"account_summary", "aws.iam_api.account_summary"}, {"accounts", "aws.organizations.accounts"},
				{"user_tags", "aws.iam_api.user_tags"}, {"mfa_devices", "aws.iam_api.mfa_devices"}, {"login_profiles", "aws.iam_api.login_profiles"},
				{"user_groups", "aws.iam_api.user_groups"}, {"user_attached_policies", "aws.iam_api.user_attached_policies"}, {"user_policies", "aws.iam_api.user_policies"},
				{"credential_report", "aws.iam_api.credential_report"}, {"rotations", "rotations"}, {"methods", "methods"}}},
		{name: "SHOW METHODS", query: "SHOW METHODS IN aws.iam_api.access_keys",
			want: [][]string{
				{"access_keys_List", "region", "SELECT"}, {"access_keys_Create", "region", "INSERT"},
				{"access_keys_Delete", "AccessKeyId, region", "EXEC"}, {"access_keys_Delete", "region", "DELETE"},
				{"access_keys_Update", "AccessKeyId, Status, region", "EXEC"}, {"access_keys_Update", "Status, region", "UPDATE"}}},
		{name: "SHOW EXTENDED METHODS LIKE", query: "SHOW EXTENDED METHODS IN users LIKE 'users%'",
			want: [][]string{{"users_List", "region", "SELECT", "Lists the account's IAM users, all pages."}}},
		{name: "DESCRIBE EXTENDED", query: "DESCRIBE EXTENDED aws.iam_api.account_summary",
			want: [][]string{{"AccountAccessKeysPresent", "bigint", "1 if the account root user has access keys, else 0."},
				{"AccountMFAEnabled", "bigint", "1 if the root user has MFA enabled, else 0."},
				{"Users", "bigint", "Number of IAM users."}, {"UsersQuota", "bigint", "Maximum number of IAM users."},
				{"AccessKeysPerUserQuota", "bigint", "Maximum number of access keys per user."},
				{"region", "varchar(32)", "The AWS region the request is made for (a parameter, echoed back). IAM is global per partition: the region selects the partition (aws, aws-cn, aws-us-gov) and its endpoint."},
				{"account_id", "varchar(12)", "The 12-digit AWS account the row belongs to (the signer's account; in org mode, each account of the organization or of --profiles). account_id = / IN (...) and a join with accounts read only those accounts."}}},
		{name: "SHOW METHODS of an unknown resource", query: "SHOW METHODS IN aws.iam_api.acess_keys",
			wantErr: "unknown resource aws.iam_api.acess_keys; did you mean aws.iam_api.access_keys?", errNum: 1146},
		{name: "SHOW RESOURCES of an unknown service", query: "SHOW RESOURCES IN aws.iam_apii",
			wantErr: "unknown service aws.iam_apii; did you mean aws.iam_api?", errNum: 1146},
		{name: "SHOW METHODS without IN", query: "SHOW METHODS", wantErr: "SHOW METHODS needs IN and a resource"},
	})
}

// An unknown table, column, function or procedure names the likely one.
func TestDidYouMean(t *testing.T) {
	runScriptTests(t, []scriptTest{
		{name: "table", query: "SELECT * FROM acess_keys WHERE region = 'us-east-1'",
			wantErr: "table not found: acess_keys; did you mean access_keys?", errNum: 1146},
		{name: "StackQL id", query: "SELECT * FROM aws.iam.acces_keys WHERE region = 'us-east-1'",
			wantErr: "did you mean aws.iam.access_keys?", errNum: 1146},
		{name: "column", query: "SELECT AccesKeyId FROM access_keys WHERE region = 'us-east-1'",
			wantErr: `column "AccesKeyId" could not be found in any table in scope; did you mean AccessKeyId?`, errNum: 1054},
		{name: "qualified column", query: "SELECT k.UserNme FROM access_keys k WHERE k.region = 'us-east-1'",
			wantErr: "did you mean UserName?", errNum: 1054},
		{name: "function", query: "SELECT UPPPER('a')", wantErr: "function: 'uppper' not found; did you mean UPPER?", errNum: 1305},
		{name: "procedure", query: "CALL update_acess_key('AKIA1234567890123456', 'Active', 'us-east-1')",
			wantErr: "PROCEDURE iam.update_acess_key does not exist; did you mean update_access_key?", errNum: 1305},
		{name: "nothing near", query: "SELECT * FROM nosuchtable WHERE region = 'us-east-1'", wantErr: "table not found: nosuchtable", errNum: 1146,
			check: func(t *testing.T, _ *world, r result) {
				if r.err != nil && strings.Contains(r.err.Error(), "did you mean") {
					t.Errorf("a suggestion for a name nothing is near: %v", r.err)
				}
			}},
	})
}
