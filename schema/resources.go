package schema

// The resources iamsql serves. Order is the order SHOW TABLES and docs use.
var Resources = []Resource{AccessKeys, CreatedAccessKeys, Users, AccountSummary, Accounts, UserTags, MFADevices, LoginProfiles, UserGroups, UserAttachedPolicies, UserPolicies, CredentialReport, Rotations, Methods}

// AccountIDColumn is the column every table of IAM answers has: the AWS
// account a row belongs to. In org mode (--org, --profiles) the tables
// span every account and `account_id = …`, `IN (…)` and a join with
// accounts narrow the accounts read, returning exactly the rows a full
// scan would.
const AccountIDColumn = "account_id"

// accountIDColumn is the account_id column of a table of IAM answers.
var accountIDColumn = Column{Name: AccountIDColumn, Type: Varchar, Size: 12, Param: true, Echo: true, Key: true,
	Doc: "The 12-digit AWS account the row belongs to (the signer's account; in org mode, each account of the organization or of --profiles). " +
		"account_id = / IN (...) and a join with accounts read only those accounts."}

// CallerDefault is access_keys.UserName's default: an INSERT that leaves
// UserName out creates a key for the caller (no IAM name has parentheses).
const CallerDefault = "(caller)"

const (
	regionDoc = "The AWS region the request is made for (a parameter, echoed back). " +
		"IAM is global per partition: the region selects the partition (aws, aws-cn, aws-us-gov) and its endpoint."
	userNameDoc    = "The name of the IAM user that the key is associated with (root for the account's root user's own keys)."
	accessKeyIDDoc = "The ID for this access key."
	statusDoc      = "The status of the access key. Active means that the key is valid for API calls; Inactive means it is not."
	createDateDoc  = "The date when the access key was created (UTC)."
	implicitUser   = " If UserName is not specified, IAM determines the user implicitly from the access key " +
		"that signs the request; this is how the account root user's keys are managed."
)

// AccessKeys is the seed resource, StackQL's aws.iam_api.access_keys.
var AccessKeys = Resource{
	Name:       "access_keys",
	StackQLIDs: []string{"aws.iam_api.access_keys", "aws.iam.access_keys"},
	Doc: "IAM access keys: every access key in the account, one row per key — the keys of every IAM user, " +
		"plus the root user's own keys when iamsql is signed as the root user. " +
		"SELECT lists keys (UserName = / IN and AccessKeyId = narrow the IAM calls to those users), INSERT creates them " +
		"(the secret is returned once, to its creator), UPDATE or update_access_key changes a key's status, DELETE deletes keys.",
	List: &Listing{Operation: "ListAccessKeys", Parent: "users", ParentKey: "UserName", RootCaller: true},
	Columns: []Column{
		{Name: "AccessKeyId", Type: Varchar, Size: 128, Param: true, Key: true, Doc: accessKeyIDDoc},
		{Name: "UserName", Type: Varchar, Size: 128, Param: true, Default: CallerDefault,
			Doc: userNameDoc + " IAM names are 1-64 characters; an INSERT without UserName (or with DEFAULT) creates a key for the caller."},
		{Name: "Status", Type: Varchar, Size: 8, Enum: []string{"Active", "Inactive"}, Doc: statusDoc},
		{Name: "CreateDate", Type: Datetime, Doc: createDateDoc},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Echo: true, Key: true, Doc: regionDoc},
		{Name: "LastUsedDate", Type: Datetime, Hydrate: "GetAccessKeyLastUsed", From: "AccessKeyLastUsed.LastUsedDate",
			Doc: "When the key was last used to sign a request (UTC); NULL if never used. Costs one GetAccessKeyLastUsed call per key, made only when a query needs it."},
		{Name: "LastUsedServiceName", Type: Varchar, Size: 64, Hydrate: "GetAccessKeyLastUsed", From: "AccessKeyLastUsed.ServiceName",
			Doc: "The AWS service the key was last used with; NULL if never used."},
		{Name: "LastUsedRegion", Type: Varchar, Size: 32, Hydrate: "GetAccessKeyLastUsed", From: "AccessKeyLastUsed.Region",
			Doc: "The region the key was last used in; NULL if never used."},
		accountIDColumn,
	},
	Methods: []Method{
		{
			Name: "access_keys_List", Verb: Select, Operation: "ListAccessKeys",
			Required: []string{"region"}, Optional: []string{"UserName", "AccessKeyId"},
			Permissions: []string{"iam:ListUsers", "iam:ListAccessKeys", "iam:GetUser (is the caller the root user?)",
				"iam:GetAccessKeyLastUsed (last-used columns, or lookup by AccessKeyId)"},
			Doc: "Every access key of the account: one ListUsers pass and one ListAccessKeys per user (concurrent, all pages), " +
				"plus the root user's own keys when the caller is the root user. UserName = / IN (...) and a join on UserName call " +
				"ListAccessKeys for those users only; AccessKeyId = '...' finds the key's owner with GetAccessKeyLastUsed first; " +
				"both return exactly the rows the full scan would. region IN (...) repeats the rows per region (IAM is global per partition). " +
				"If ListUsers is denied, the caller's own keys are listed with a warning.",
		},
		{
			Name: "access_keys_Create", Verb: Insert, Operation: "CreateAccessKey", Procedure: "create_access_key",
			Required: []string{"region"}, Optional: []string{"UserName", AccountIDColumn}, Mutating: true,
			Defaults:    map[string]string{"UserName": CallerDefault},
			Returns:     []string{"AccessKeyId", "UserName", "Status", "CreateDate", "SecretAccessKey", "region"},
			Permissions: []string{"iam:CreateAccessKey"},
			Doc: "Creates a new secret access key and access key ID for the specified user; new keys are Active." + implicitUser +
				" Each user (and the root user) can have at most two keys. The secret access key is returned exactly once, to the caller that created it:" +
				" as the result row of create_access_key, as the printed rows of an INSERT in the shell and in exec, and over the MySQL protocol in the session's created_access_keys table." +
				" CreateAccessKey is never retried after an ambiguous failure.",
		},
		{
			Name: "access_keys_Delete", Verb: Exec, Operation: "DeleteAccessKey", Procedure: "delete_access_key",
			Required: []string{"AccessKeyId", "region"}, Optional: []string{"UserName", AccountIDColumn}, Mutating: true,
			Permissions: []string{"iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed (to find the owner when UserName is not given)"},
			Doc:         "Deletes the access key pair associated with the specified IAM user. A deleted key cannot be recovered." + implicitUser,
		},
		{
			Name: "access_keys_Delete", Verb: Delete, Operation: "DeleteAccessKey",
			Required: []string{"region"}, OneOf: []string{"AccessKeyId", "UserName"}, Mutating: true,
			Permissions: []string{"iam:DeleteAccessKey", "the permissions of SELECT for the rows it matches"},
			Doc: "DELETE FROM access_keys WHERE AccessKeyId = ... AND region = ... deletes that key; WHERE UserName = ... every key of the user. " +
				"Every matching row is read before the first DeleteAccessKey.",
		},
		{
			Name: "access_keys_Update", Verb: Exec, Operation: "UpdateAccessKey", Procedure: "update_access_key",
			Required: []string{"AccessKeyId", "Status", "region"}, Optional: []string{"UserName", AccountIDColumn}, Mutating: true,
			Permissions: []string{"iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed (to find the owner when UserName is not given)"},
			Doc: "Changes the status of the specified access key from Active to Inactive, or vice versa, as part of a key rotation workflow." + implicitUser +
				" Also reachable as UPDATE access_keys SET Status = ... WHERE AccessKeyId = ... AND region = ...",
		},
		{
			Name: "access_keys_Update", Verb: Update, Operation: "UpdateAccessKey",
			Required: []string{"Status", "region"}, OneOf: []string{"AccessKeyId", "UserName"}, Mutating: true,
			Permissions: []string{"iam:UpdateAccessKey", "the permissions of SELECT for the rows it matches"},
			Doc: "UPDATE access_keys SET Status = 'Active'|'Inactive' WHERE AccessKeyId = ... AND region = ...; WHERE UserName = ... changes every key of the user " +
				"(incident response). Only Status can be changed; every matching row is read and the new status validated before the first UpdateAccessKey.",
		},
	},
	Examples: []Example{
		{"Every key in the account",
			"SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = 'us-east-1' ORDER BY UserName, AccessKeyId;"},
		{"The StackQL form",
			"SELECT AccessKeyId, CreateDate, Status, UserName FROM aws.iam_api.access_keys WHERE region = 'us-east-1';"},
		{"One user's keys with when they were last used (one ListAccessKeys)",
			"SELECT AccessKeyId, Status, LastUsedDate, LastUsedServiceName FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';"},
		{"Several users at once (one ListAccessKeys per user)",
			"SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob') ORDER BY UserName, AccessKeyId;"},
		{"Users with two active keys",
			"SELECT UserName, COUNT(*) AS ActiveKeys FROM access_keys WHERE region = 'us-east-1' AND Status = 'Active' GROUP BY UserName HAVING COUNT(*) = 2;"},
		{"Find a key by its id alone",
			"SELECT UserName, Status FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001';"},
		{"Create a key (StackQL form); the secret is printed once",
			"INSERT INTO aws.iam_api.access_keys (UserName, region) SELECT 'dave', 'us-east-1';"},
		{"Create a key and get the secret as a result row",
			"CALL create_access_key('us-east-1', 'dave');"},
		{"Disable a key",
			"UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';"},
		{"Re-enable it (StackQL EXEC form)",
			"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Active', @region = 'us-east-1';"},
		{"Disable every key of a user (incident response)",
			"UPDATE access_keys SET Status = 'Inactive' WHERE UserName = 'erin' AND region = 'us-east-1';"},
		{"Delete a key",
			"DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = 'AKIAALICE00000000002' AND region = 'us-east-1';"},
	},
}

// CreatedAccessKeys holds the keys this connection created, secrets
// included, so a MySQL client whose INSERT got only an OK packet can read
// them. It lives in memory, is visible only to its own connection and is
// gone when the connection closes.
var CreatedAccessKeys = Resource{
	Name:          "created_access_keys",
	SessionScoped: true,
	Doc: "The access keys this connection created, with their secret access keys. Memory only, visible only to this connection, " +
		"gone when it closes. This is how a MySQL client reads the secret of a key it created with INSERT.",
	Columns: []Column{
		{Name: "AccessKeyId", Type: Varchar, Size: 128, Doc: accessKeyIDDoc},
		{Name: "UserName", Type: Varchar, Size: 64, Doc: userNameDoc},
		{Name: "Status", Type: Varchar, Size: 8, Doc: statusDoc},
		{Name: "CreateDate", Type: Datetime, Doc: createDateDoc},
		{Name: "SecretAccessKey", Type: Varchar, Size: 128, Sensitive: true, Doc: "The secret key used to sign requests. Shown only to the connection that created the key."},
		{Name: "region", Type: Varchar, Size: 32, Doc: regionDoc},
	},
	Examples: []Example{
		{"Read the secrets of the keys this connection created", "SELECT AccessKeyId, UserName, SecretAccessKey FROM created_access_keys;"},
	},
}

// Users is ListUsers, so an account-wide inventory is a join.
var Users = Resource{
	Name:       "users",
	StackQLIDs: []string{"aws.iam_api.users", "aws.iam.users"},
	Doc: "IAM users of the account (ListUsers, all pages). Joined with access_keys on UserName, " +
		"each user's keys are fetched ahead, concurrently: one ListAccessKeys per user.",
	List: &Listing{Operation: "ListUsers"},
	Columns: []Column{
		{Name: "UserName", Type: Varchar, Size: 64, Key: true, Doc: "The friendly name identifying the user."},
		{Name: "UserId", Type: Varchar, Size: 128, Doc: "The stable and unique string identifying the user."},
		{Name: "Arn", Type: Varchar, Size: 2048, Doc: "The Amazon Resource Name (ARN) that identifies the user."},
		{Name: "Path", Type: Varchar, Size: 512, Doc: "The path to the user."},
		{Name: "CreateDate", Type: Datetime, Doc: "When the user was created (UTC)."},
		{Name: "PasswordLastUsed", Type: Datetime, Doc: "When the user's password was last used to sign in (UTC); NULL if never."},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Echo: true, Key: true, Doc: regionDoc},
		accountIDColumn,
	},
	Methods: []Method{
		{
			Name: "users_List", Verb: Select, Operation: "ListUsers",
			Required:    []string{"region"},
			Permissions: []string{"iam:ListUsers"},
			Doc:         "Lists the account's IAM users, all pages.",
		},
	},
	Examples: []Example{
		{"List users", "SELECT UserName, Path, CreateDate FROM users WHERE region = 'us-east-1' ORDER BY UserName;"},
		{"Users without access keys",
			"SELECT u.UserName FROM users u WHERE u.region = 'us-east-1' AND NOT EXISTS (SELECT 1 FROM access_keys k WHERE k.region = 'us-east-1' AND k.UserName = u.UserName) ORDER BY u.UserName;"},
		{"Every key in the account with its owner",
			"SELECT u.UserName, k.AccessKeyId, k.Status, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' ORDER BY u.UserName, k.AccessKeyId;"},
	},
}

// AccountSummary is the subset of GetAccountSummary a key audit needs.
var AccountSummary = Resource{
	Name:       "account_summary",
	StackQLIDs: []string{"aws.iam_api.account_summary", "aws.iam.account_summary"},
	Doc:        "Account-level facts from GetAccountSummary: one row per region asked for. AccountAccessKeysPresent = 1 means the root user has access keys.",
	List:       &Listing{Operation: "GetAccountSummary"},
	Columns: []Column{
		{Name: "AccountAccessKeysPresent", Type: BigInt, From: "SummaryMap.AccountAccessKeysPresent", Doc: "1 if the account root user has access keys, else 0."},
		{Name: "AccountMFAEnabled", Type: BigInt, From: "SummaryMap.AccountMFAEnabled", Doc: "1 if the root user has MFA enabled, else 0."},
		{Name: "Users", Type: BigInt, From: "SummaryMap.Users", Doc: "Number of IAM users."},
		{Name: "UsersQuota", Type: BigInt, From: "SummaryMap.UsersQuota", Doc: "Maximum number of IAM users."},
		{Name: "AccessKeysPerUserQuota", Type: BigInt, From: "SummaryMap.AccessKeysPerUserQuota", Doc: "Maximum number of access keys per user."},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Echo: true, Key: true, Doc: regionDoc},
		accountIDColumn,
	},
	Methods: []Method{
		{
			Name: "account_summary_Get", Verb: Select, Operation: "GetAccountSummary",
			Required: []string{"region"}, Permissions: []string{"iam:GetAccountSummary"},
			Doc: "Returns the account's IAM usage and quotas.",
		},
	},
	Examples: []Example{
		{"Does the root user have access keys?", "SELECT AccountAccessKeysPresent FROM account_summary WHERE region = 'us-east-1';"},
	},
}

// Accounts is AWS Organizations' ListAccounts: the accounts org mode spans.
var Accounts = Resource{
	Name:       "accounts",
	StackQLIDs: []string{"aws.organizations.accounts"},
	Doc: "The AWS accounts of the organization (Organizations ListAccounts, all pages, with the management account's own credentials; " +
		"in --profiles mode the accounts of the profiles). Needs no region. Joined with another table on account_id, " +
		"it chooses the accounts that table reads (e.g. by name or parent OU).",
	List: &Listing{Operation: "ListAccounts", Organization: true},
	Columns: []Column{
		{Name: "Id", Type: Varchar, Size: 12, Key: true, Doc: "The 12-digit account id."},
		{Name: "Name", Type: Varchar, Size: 64, Doc: "The account's friendly name."},
		{Name: "Email", Type: Varchar, Size: 64, Doc: "The email address of the account's owner."},
		{Name: "Status", Type: Varchar, Size: 16, Doc: "ACTIVE, SUSPENDED or PENDING_CLOSURE; org mode reads only ACTIVE accounts."},
		{Name: "JoinedMethod", Type: Varchar, Size: 16, Doc: "INVITED or CREATED."},
		{Name: "JoinedTimestamp", Type: Datetime, Doc: "When the account became part of the organization (UTC)."},
		{Name: "Arn", Type: Varchar, Size: 2048, Doc: "The account's Organizations ARN."},
		{Name: "ParentId", Type: Varchar, Size: 100, Hydrate: "ListParents", From: "Id",
			Doc: "The id of the root (r-...) or organizational unit (ou-...) the account is in. Costs one ListParents call per account, made only when a query needs it."},
		{Name: "ParentType", Type: Varchar, Size: 32, Hydrate: "ListParents", From: "Type",
			Doc: "ROOT or ORGANIZATIONAL_UNIT."},
	},
	Methods: []Method{
		{
			Name: "accounts_List", Verb: Select, Operation: "ListAccounts",
			Permissions: []string{"organizations:ListAccounts (management account)", "organizations:ListParents (ParentId, ParentType)"},
			Doc:         "Lists the organization's accounts, all pages.",
		},
	},
	Examples: []Example{
		{"The organization's accounts", "SELECT Id, Name, Status FROM accounts ORDER BY Name;"},
		{"Keys of the accounts whose name starts with prod",
			"SELECT a.Name, k.UserName, k.AccessKeyId FROM accounts a JOIN access_keys k ON k.account_id = a.Id WHERE k.region = 'us-east-1' AND a.Name LIKE 'prod%' ORDER BY a.Name, k.UserName, k.AccessKeyId;"},
	},
}

// Methods lists every method of every resource: how each SQL verb maps to
// an IAM operation and which parameters it requires. It is read from this
// package; it makes no IAM call.
var Methods = Resource{
	Name: "methods",
	Doc: "Every method of every iamsql table: the SQL verb or procedure that reaches it, the IAM operation it calls, " +
		"its required and optional parameters and the IAM permissions it needs. Local: no IAM call.",
	Columns: []Column{
		{Name: "TableName", Type: Varchar, Size: 64, Doc: "The table the method belongs to."},
		{Name: "Method", Type: Varchar, Size: 64, Doc: "The StackQL method name (access_keys_List)."},
		{Name: "Verb", Type: Varchar, Size: 8, Doc: "The SQL verb: SELECT, INSERT, UPDATE, DELETE or EXEC."},
		{Name: "Operation", Type: Varchar, Size: 64, Doc: "The IAM API operation called."},
		{Name: "ProcedureCall", Type: Varchar, Size: 128, Doc: "The CALL signature, when the method is a procedure; NULL otherwise."},
		{Name: "RequiredParams", Type: Varchar, Size: 255, Doc: "Parameters that must be given, comma-separated."},
		{Name: "OptionalParams", Type: Varchar, Size: 255, Doc: "Parameters that may be given, comma-separated."},
		{Name: "Permissions", Type: Varchar, Size: 512, Doc: "IAM permissions the caller needs."},
	},
	Examples: []Example{
		{"What does each verb of access_keys need?", "SELECT Verb, Operation, RequiredParams, ProcedureCall FROM methods WHERE TableName = 'access_keys';"},
	},
}
