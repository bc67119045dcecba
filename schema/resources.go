package schema

// The resources iamsql serves. Order is the order SHOW TABLES and docs use.
var Resources = []Resource{AccessKeys, CreatedAccessKeys, Users, AccountSummary, Methods}

const (
	regionDoc = "The AWS region the request is made for (a parameter, echoed back). " +
		"IAM is global per partition: the region selects the partition (aws, aws-cn, aws-us-gov) and its endpoint."
	userNameDoc    = "The name of the IAM user that the key is associated with (root for the account's root user)."
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
	Doc: "IAM access keys: one row per key of a user (or of the caller, or of the account root user). " +
		"SELECT lists keys, INSERT creates them (the secret is returned once, to its creator), " +
		"UPDATE or update_access_key changes a key's status, DELETE deletes keys.",
	Columns: []Column{
		{Name: "AccessKeyId", Type: Varchar, Size: 128, Param: true, Doc: accessKeyIDDoc},
		{Name: "UserName", Type: Varchar, Size: 64, Param: true, Doc: userNameDoc},
		{Name: "Status", Type: Varchar, Size: 8, Enum: []string{"Active", "Inactive"}, Doc: statusDoc},
		{Name: "CreateDate", Type: Datetime, Doc: createDateDoc},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Doc: regionDoc},
		{Name: "LastUsedDate", Type: Datetime, Hydrated: "GetAccessKeyLastUsed",
			Doc: "When the key was last used to sign a request (UTC); NULL if never used. Costs one GetAccessKeyLastUsed call per key, made only when a query needs it."},
		{Name: "LastUsedServiceName", Type: Varchar, Size: 64, Hydrated: "GetAccessKeyLastUsed",
			Doc: "The AWS service the key was last used with; NULL if never used."},
		{Name: "LastUsedRegion", Type: Varchar, Size: 32, Hydrated: "GetAccessKeyLastUsed",
			Doc: "The region the key was last used in; NULL if never used."},
	},
	Methods: []Method{
		{
			Name: "access_keys_List", Verb: Select, Operation: "ListAccessKeys",
			Required: []string{"region"}, Optional: []string{"UserName", "AccessKeyId"},
			Permissions: []string{"iam:ListAccessKeys", "iam:GetAccessKeyLastUsed (last-used columns, or lookup by AccessKeyId)"},
			Doc: "Returns the access keys of the specified IAM user, all pages. If there is none, the result is empty." + implicitUser +
				" region IN (...) and UserName IN (...) fan out to one call per value; AccessKeyId = '...' finds the key's owner with GetAccessKeyLastUsed first.",
		},
		{
			Name: "access_keys_Create", Verb: Insert, Operation: "CreateAccessKey", Procedure: "create_access_key",
			Required: []string{"region"}, Optional: []string{"UserName"}, Mutating: true,
			Returns:     []string{"AccessKeyId", "UserName", "Status", "CreateDate", "SecretAccessKey", "region"},
			Permissions: []string{"iam:CreateAccessKey"},
			Doc: "Creates a new secret access key and access key ID for the specified user; new keys are Active." + implicitUser +
				" Each user (and the root user) can have at most two keys. The secret access key is returned exactly once, to the caller that created it:" +
				" as the result row of create_access_key, as the printed rows of an INSERT in the shell and in exec, and over the MySQL protocol in the session's created_access_keys table." +
				" CreateAccessKey is never retried after an ambiguous failure.",
		},
		{
			Name: "access_keys_Delete", Verb: Delete, Operation: "DeleteAccessKey", Procedure: "delete_access_key",
			Required: []string{"AccessKeyId", "region"}, Optional: []string{"UserName"}, Mutating: true,
			Permissions: []string{"iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"},
			Doc:         "Deletes the access key pair associated with the specified IAM user. A deleted key cannot be recovered." + implicitUser,
		},
		{
			Name: "access_keys_Update", Verb: Exec, Operation: "UpdateAccessKey", Procedure: "update_access_key",
			Required: []string{"AccessKeyId", "Status", "region"}, Optional: []string{"UserName"}, Mutating: true,
			Permissions: []string{"iam:UpdateAccessKey"},
			Doc: "Changes the status of the specified access key from Active to Inactive, or vice versa, as part of a key rotation workflow." + implicitUser +
				" Also reachable as UPDATE access_keys SET Status = ... WHERE AccessKeyId = ... AND region = ...",
		},
		{
			Name: "access_keys_Update", Verb: Update, Operation: "UpdateAccessKey",
			Required: []string{"AccessKeyId", "Status", "region"}, Optional: []string{"UserName"}, Mutating: true,
			Permissions: []string{"iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"},
			Doc:         "UPDATE access_keys SET Status = 'Active'|'Inactive' WHERE AccessKeyId = ... AND region = ...; only Status can be changed.",
		},
	},
	Examples: []Example{
		{"List the caller's own keys (the root user's, when signed with a root key)",
			"SELECT AccessKeyId, CreateDate, Status, UserName FROM aws.iam_api.access_keys WHERE region = 'us-east-1';"},
		{"List one user's keys with when they were last used",
			"SELECT AccessKeyId, Status, LastUsedDate, LastUsedServiceName FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice';"},
		{"Several users at once (one ListAccessKeys per user)",
			"SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('alice', 'bob') ORDER BY UserName, AccessKeyId;"},
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
	Doc: "IAM users of the account (ListUsers, all pages). Join with access_keys on UserName for an account-wide key inventory: " +
		"iamsql runs it as one ListAccessKeys per user.",
	Columns: []Column{
		{Name: "UserName", Type: Varchar, Size: 64, Doc: "The friendly name identifying the user."},
		{Name: "UserId", Type: Varchar, Size: 128, Doc: "The stable and unique string identifying the user."},
		{Name: "Arn", Type: Varchar, Size: 2048, Doc: "The Amazon Resource Name (ARN) that identifies the user."},
		{Name: "Path", Type: Varchar, Size: 512, Doc: "The path to the user."},
		{Name: "CreateDate", Type: Datetime, Doc: "When the user was created (UTC)."},
		{Name: "PasswordLastUsed", Type: Datetime, Doc: "When the user's password was last used to sign in (UTC); NULL if never."},
		{Name: "PathPrefix", Type: Varchar, Size: 512, Param: true, Doc: "Optional filter: only users whose path starts with this prefix (a parameter, echoed back; / when not given)."},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Doc: regionDoc},
	},
	Methods: []Method{
		{
			Name: "users_List", Verb: Select, Operation: "ListUsers",
			Required: []string{"region"}, Optional: []string{"PathPrefix"},
			Permissions: []string{"iam:ListUsers"},
			Doc:         "Lists the IAM users that have the specified path prefix (all users when none is given), all pages.",
		},
	},
	Examples: []Example{
		{"List users", "SELECT UserName, Path, CreateDate FROM users WHERE region = 'us-east-1' ORDER BY UserName;"},
		{"Every key in the account with its owner",
			"SELECT u.UserName, k.AccessKeyId, k.Status, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' ORDER BY u.UserName, k.AccessKeyId;"},
	},
}

// AccountSummary is the subset of GetAccountSummary a key audit needs.
var AccountSummary = Resource{
	Name:       "account_summary",
	StackQLIDs: []string{"aws.iam_api.account_summary", "aws.iam.account_summary"},
	Doc:        "Account-level facts from GetAccountSummary: one row per region asked for. AccountAccessKeysPresent = 1 means the root user has access keys.",
	Columns: []Column{
		{Name: "AccountAccessKeysPresent", Type: BigInt, Doc: "1 if the account root user has access keys, else 0."},
		{Name: "AccountMFAEnabled", Type: BigInt, Doc: "1 if the root user has MFA enabled, else 0."},
		{Name: "Users", Type: BigInt, Doc: "Number of IAM users."},
		{Name: "UsersQuota", Type: BigInt, Doc: "Maximum number of IAM users."},
		{Name: "AccessKeysPerUserQuota", Type: BigInt, Doc: "Maximum number of access keys per user."},
		{Name: "region", Type: Varchar, Size: 32, Param: true, Doc: regionDoc},
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
