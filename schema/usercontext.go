package schema

// The context of a key's owner a key audit reads, each a table of its
// own listed per user (a child of users, like access_keys): its tags
// (owner, team, and the console's key descriptions), console password,
// MFA devices, groups and policies; and the account's credential report.
// Each is read only when a query names it; UserName = / IN (...) and a
// join on UserName call its operation for those users only.

const contextUserNameDoc = "The name of the IAM user."

// perUserMethod is the SELECT method of a table listed per user.
func perUserMethod(table, op, doc string, perms ...string) Method {
	return Method{
		Name: table + "_List", Verb: Select, Operation: op,
		Required: []string{"region"}, Optional: []string{"UserName"},
		Permissions: append([]string{"iam:ListUsers (a full scan)", "iam:" + op}, perms...),
		Doc: doc + " A full scan is one ListUsers pass and one " + op + " per user (concurrent, all pages); " +
			"UserName = / IN (...) and a join on UserName call " + op + " for those users only, returning exactly the rows of the full scan.",
	}
}

// perUser is the listing of a table listed per user.
func perUser(op string) *Listing {
	return &Listing{Operation: op, Parent: "users", ParentKey: "UserName"}
}

func userNameParam() Column {
	return Column{Name: "UserName", Type: Varchar, Size: 64, Param: true, Key: true, Doc: contextUserNameDoc}
}

func regionColumn() Column {
	return Column{Name: "region", Type: Varchar, Size: 32, Param: true, Echo: true, Key: true, Doc: regionDoc}
}

// UserTags is ListUserTags for every user.
var UserTags = Resource{
	Name:       "user_tags",
	StackQLIDs: []string{"aws.iam_api.user_tags", "aws.iam.user_tags"},
	Doc: "The tags of every IAM user (ListUserTags), one row per tag: owner and team tags, and the descriptions the console " +
		"gives access keys (a tag whose key is the access key id). Users without tags have no rows.",
	List: perUser("ListUserTags"),
	Columns: []Column{
		userNameParam(),
		{Name: "TagKey", Type: Varchar, Size: 128, Key: true, From: "Key", Doc: "The tag's key. The console stores an access key's description under the key's id."},
		{Name: "TagValue", Type: Varchar, Size: 256, From: "Value", Doc: "The tag's value (may be empty)."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("user_tags", "ListUserTags", "Lists the tags of the account's IAM users.")},
	Examples: []Example{
		{"Who owns each user", "SELECT UserName, TagValue AS owner FROM user_tags WHERE region = 'us-east-1' AND TagKey = 'owner' ORDER BY UserName;"},
		{"Each key with its console description",
			"SELECT k.UserName, k.AccessKeyId, t.TagValue AS description FROM access_keys k LEFT JOIN user_tags t ON t.UserName = k.UserName AND t.TagKey = k.AccessKeyId AND t.region = 'us-east-1' WHERE k.region = 'us-east-1' ORDER BY k.UserName, k.AccessKeyId;"},
		{"One user's tags (one ListUserTags)", "SELECT TagKey, TagValue FROM user_tags WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY TagKey;"},
	},
}

// MFADevices is ListMFADevices for every user.
var MFADevices = Resource{
	Name:       "mfa_devices",
	StackQLIDs: []string{"aws.iam_api.mfa_devices", "aws.iam.mfa_devices"},
	Doc:        "The MFA devices of every IAM user (ListMFADevices), one row per device. A user without MFA has no rows.",
	List:       perUser("ListMFADevices"),
	Columns: []Column{
		userNameParam(),
		{Name: "SerialNumber", Type: Varchar, Size: 256, Key: true, Doc: "The device's serial number (the ARN of a virtual device)."},
		{Name: "EnableDate", Type: Datetime, Doc: "When the device was enabled for the user (UTC)."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("mfa_devices", "ListMFADevices", "Lists the MFA devices of the account's IAM users.")},
	Examples: []Example{
		{"Users with console access and no MFA",
			"SELECT l.UserName FROM login_profiles l WHERE l.region = 'us-east-1' AND NOT EXISTS (SELECT 1 FROM mfa_devices m WHERE m.region = 'us-east-1' AND m.UserName = l.UserName) ORDER BY l.UserName;"},
	},
}

// LoginProfiles is GetLoginProfile for every user: who can sign in to the
// console.
var LoginProfiles = Resource{
	Name:       "login_profiles",
	StackQLIDs: []string{"aws.iam_api.login_profiles", "aws.iam.login_profiles"},
	Doc: "The console passwords of the IAM users (GetLoginProfile), one row per user that has one: a user without a row " +
		"cannot sign in to the console (IAM answers NoSuchEntity for it, which is no row, not an error).",
	List: perUser("GetLoginProfile"),
	Columns: []Column{
		userNameParam(),
		{Name: "CreateDate", Type: Datetime, Doc: "When the password was created (UTC)."},
		{Name: "PasswordResetRequired", Type: Boolean, Doc: "Whether the user must set a new password at the next sign-in."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("login_profiles", "GetLoginProfile", "Tells which IAM users have a console password.")},
	Examples: []Example{
		{"Users who can sign in to the console", "SELECT UserName, CreateDate FROM login_profiles WHERE region = 'us-east-1' ORDER BY UserName;"},
	},
}

// UserGroups is ListGroupsForUser for every user.
var UserGroups = Resource{
	Name:       "user_groups",
	StackQLIDs: []string{"aws.iam_api.user_groups", "aws.iam.user_groups"},
	Doc:        "The groups every IAM user is in (ListGroupsForUser), one row per user and group.",
	List:       perUser("ListGroupsForUser"),
	Columns: []Column{
		userNameParam(),
		{Name: "GroupName", Type: Varchar, Size: 128, Key: true, Doc: "The group's name."},
		{Name: "GroupId", Type: Varchar, Size: 128, Doc: "The group's stable id."},
		{Name: "Arn", Type: Varchar, Size: 2048, Doc: "The group's ARN."},
		{Name: "Path", Type: Varchar, Size: 512, Doc: "The group's path."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("user_groups", "ListGroupsForUser", "Lists the groups of the account's IAM users.")},
	Examples: []Example{
		{"Members of each group", "SELECT GroupName, UserName FROM user_groups WHERE region = 'us-east-1' ORDER BY GroupName, UserName;"},
	},
}

// UserAttachedPolicies is ListAttachedUserPolicies for every user.
var UserAttachedPolicies = Resource{
	Name:       "user_attached_policies",
	StackQLIDs: []string{"aws.iam_api.user_attached_policies", "aws.iam.user_attached_policies"},
	Doc: "The managed policies attached directly to every IAM user (ListAttachedUserPolicies), one row per user and policy " +
		"(policies a user has through its groups are the groups')",
	List: perUser("ListAttachedUserPolicies"),
	Columns: []Column{
		userNameParam(),
		{Name: "PolicyName", Type: Varchar, Size: 128, Doc: "The policy's name."},
		{Name: "PolicyArn", Type: Varchar, Size: 2048, Key: true, Doc: "The policy's ARN."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("user_attached_policies", "ListAttachedUserPolicies", "Lists the managed policies attached to the account's IAM users.")},
	Examples: []Example{
		{"Users with AdministratorAccess attached", "SELECT UserName FROM user_attached_policies WHERE region = 'us-east-1' AND PolicyName = 'AdministratorAccess' ORDER BY UserName;"},
	},
}

// UserPolicies is ListUserPolicies (inline policies) for every user.
var UserPolicies = Resource{
	Name:       "user_policies",
	StackQLIDs: []string{"aws.iam_api.user_policies", "aws.iam.user_policies"},
	Doc:        "The inline policies embedded in every IAM user (ListUserPolicies), one row per user and policy name.",
	List:       perUser("ListUserPolicies"),
	Columns: []Column{
		userNameParam(),
		{Name: "PolicyName", Type: Varchar, Size: 128, Key: true, Doc: "The inline policy's name."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{perUserMethod("user_policies", "ListUserPolicies", "Lists the inline policies of the account's IAM users.")},
	Examples: []Example{
		{"How many inline policies each user has", "SELECT UserName, COUNT(*) AS InlinePolicies FROM user_policies WHERE region = 'us-east-1' GROUP BY UserName ORDER BY UserName;"},
	},
}

// CredentialReportMaxAge is how old, in hours, a credential report may be
// before IAM makes a new one on GenerateCredentialReport.
const CredentialReportMaxAge = 4

// CredentialReport is the account's credential report.
var CredentialReport = Resource{
	Name:       "credential_report",
	StackQLIDs: []string{"aws.iam_api.credential_report", "aws.iam.credential_report"},
	Doc: "The account's credential report (GenerateCredentialReport, then GetCredentialReport): one row per user, the root " +
		"user first as <root_account>, with AWS's documented columns. IAM makes a new report only when the last one is more " +
		"than 4 hours old, so it may be up to 4 hours behind: GeneratedTime and Stale say how old it is. IAM's N/A, " +
		"no_information and not_supported are NULL. Two IAM calls for the whole account (more while IAM is still making it).",
	List: &Listing{Operation: "GetCredentialReport"},
	Columns: []Column{
		{Name: "user", Type: Varchar, Size: 64, Key: true, From: "User", Doc: "The user's name; <root_account> for the account root user."},
		{Name: "arn", Type: Varchar, Size: 2048, From: "Arn", Doc: "The user's ARN."},
		{Name: "user_creation_time", Type: Datetime, From: "UserCreationTime", Doc: "When the user was created (UTC)."},
		{Name: "password_enabled", Type: Boolean, From: "PasswordEnabled", Doc: "Whether the user has a console password; NULL for the root user (not_supported)."},
		{Name: "password_last_used", Type: Datetime, From: "PasswordLastUsed", Doc: "When the password was last used to sign in; NULL when it has none or was never used (N/A, no_information)."},
		{Name: "password_last_changed", Type: Datetime, From: "PasswordLastChanged", Doc: "When the password was last set; NULL when the user has none."},
		{Name: "password_next_rotation", Type: Datetime, From: "PasswordNextRotation", Doc: "When the password policy requires a new password; NULL when it requires none."},
		{Name: "mfa_active", Type: Boolean, From: "MFAActive", Doc: "Whether an MFA device is enabled for the user."},
		{Name: "access_key_1_active", Type: Boolean, From: "Key1Active", Doc: "Whether the user's first access key (by creation) exists and is active."},
		{Name: "access_key_1_last_rotated", Type: Datetime, From: "Key1LastRotated", Doc: "When the first key was created or last rotated; NULL without a key."},
		{Name: "access_key_1_last_used_date", Type: Datetime, From: "Key1LastUsedDate", Doc: "When the first key was last used; NULL if never."},
		{Name: "access_key_1_last_used_region", Type: Varchar, Size: 32, From: "Key1LastUsedRegion", Doc: "The region the first key was last used in."},
		{Name: "access_key_1_last_used_service", Type: Varchar, Size: 64, From: "Key1LastUsedService", Doc: "The service the first key was last used with."},
		{Name: "access_key_2_active", Type: Boolean, From: "Key2Active", Doc: "Whether the user's second access key exists and is active."},
		{Name: "access_key_2_last_rotated", Type: Datetime, From: "Key2LastRotated", Doc: "When the second key was created or last rotated; NULL without a second key."},
		{Name: "access_key_2_last_used_date", Type: Datetime, From: "Key2LastUsedDate", Doc: "When the second key was last used; NULL if never."},
		{Name: "access_key_2_last_used_region", Type: Varchar, Size: 32, From: "Key2LastUsedRegion", Doc: "The region the second key was last used in."},
		{Name: "access_key_2_last_used_service", Type: Varchar, Size: 64, From: "Key2LastUsedService", Doc: "The service the second key was last used with."},
		{Name: "cert_1_active", Type: Boolean, From: "Cert1Active", Doc: "Whether the user's first signing certificate is active."},
		{Name: "cert_1_last_rotated", Type: Datetime, From: "Cert1LastRotated", Doc: "When the first signing certificate was created or rotated."},
		{Name: "cert_2_active", Type: Boolean, From: "Cert2Active", Doc: "Whether the user's second signing certificate is active."},
		{Name: "cert_2_last_rotated", Type: Datetime, From: "Cert2LastRotated", Doc: "When the second signing certificate was created or rotated."},
		{Name: "GeneratedTime", Type: Datetime, From: "GeneratedTime", Doc: "When IAM made the report (UTC): every other column is as of then."},
		{Name: "Stale", Type: Boolean, From: "Stale", Doc: "Whether the report was more than 4 hours old when read (IAM would make a new one; the caller may not ask it to)."},
		regionColumn(),
		accountIDColumn,
	},
	Methods: []Method{{
		Name: "credential_report_Get", Verb: Select, Operation: "GetCredentialReport",
		Required:    []string{"region"},
		Permissions: []string{"iam:GenerateCredentialReport", "iam:GetCredentialReport"},
		Doc: "Asks IAM to make a report (GenerateCredentialReport: a new one only when the last is more than 4 hours old), waits " +
			"while IAM makes it (bounded), then reads it (GetCredentialReport). Without iam:GenerateCredentialReport the last report " +
			"is read as it is, with a warning; Stale then tells whether it is more than 4 hours old.",
	}},
	Examples: []Example{
		{"How old is the report?", "SELECT DISTINCT GeneratedTime, Stale FROM credential_report WHERE region = 'us-east-1';"},
		{"Active keys not rotated in 90 days, from the report",
			"SELECT user, access_key_1_last_rotated FROM credential_report WHERE region = 'us-east-1' AND access_key_1_active AND access_key_1_last_rotated < UTC_TIMESTAMP() - INTERVAL 90 DAY ORDER BY user;"},
	},
}
