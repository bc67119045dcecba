package schema

// The parameters of the rotation procedures besides the access-key ones.
const (
	// ApplyParam carries a rotation out; without it (or 0, 'plan') the
	// procedure returns the plan and changes nothing.
	ApplyParam = "Apply"
	// SinkParam is where the new secret goes: 'result' (the result row,
	// the default) or 'secretsmanager:NAME'; in the shell and exec also
	// 'file:PATH' and 'profile:NAME'.
	SinkParam = "Sink"
	// GraceParam and DeleteAfterParam are the waits before deactivating
	// and deleting the old key ('7d', '36h', '0').
	GraceParam       = "Grace"
	DeleteAfterParam = "DeleteAfter"
	// RotationIDParam names a rotation of the ledger.
	RotationIDParam = "RotationId"
	// MakeRoomParam allows deleting a user's inactive second key unused
	// for at least this long ('30d') when the user has two keys.
	MakeRoomParam = "MakeRoom"
	// ForceParam lets finish_rotation delete the old key before the
	// last-used lag has passed since its deactivation.
	ForceParam = "Force"
)

// RotationSinkKinds are the sinks a CALL may name.
var RotationSinkKinds = []string{"result", "secretsmanager:NAME", "file:PATH", "profile:NAME"}

// Rotations is the rotation ledger as a table: every rotation iamsql
// rotate and CALL rotate_access_key started, as the local ledger file
// records it (never a secret).
var Rotations = Resource{
	Name: "rotations",
	Doc: "The key rotations of the rotation ledger (~/.iamsql/rotations.json, or IAMSQL_ROTATION_LEDGER): one row per rotation " +
		"started by iamsql rotate or CALL rotate_access_key, with its keys, its step and its times. Local: read from the ledger file, no IAM call; " +
		"it never holds a secret. rotate_access_key plans and starts a rotation, finish_rotation and rollback_rotation end one.",
	Columns: []Column{
		{Name: "RotationId", Type: Varchar, Size: 128, Key: true, Doc: "The rotation's id in the ledger (rot-OLDKEY-TIME-RANDOM); finish_rotation and rollback_rotation take it."},
		{Name: AccountIDColumn, Type: Varchar, Size: 12, Doc: "The AWS account of the key; NULL when it was not known."},
		{Name: "region", Type: Varchar, Size: 32, Doc: regionDoc},
		{Name: "UserName", Type: Varchar, Size: 64, Doc: "The user whose key is rotated."},
		{Name: "OldKeyId", Type: Varchar, Size: 128, Doc: "The key being replaced."},
		{Name: "NewKeyId", Type: Varchar, Size: 128, Doc: "The new key; NULL before it was created."},
		{Name: "RemovedKeyId", Type: Varchar, Size: 128, Doc: "An inactive second key deleted to make room (--make-room); NULL otherwise."},
		{Name: "Step", Type: Varchar, Size: 16,
			Enum: []string{"making_room", "creating", "created", "delivering", "delivered", "verified", "deactivating", "deactivated", "deleting", "finished", "kept", "rolling_back", "rolled_back", "failed"},
			Doc:  "Where the rotation stands. finished, kept (the old key was used after the switch: left inactive), rolled_back and failed have ended."},
		{Name: GraceParam, Type: Varchar, Size: 16, Doc: "The wait between verification and deactivating the old key (7d, 36h, 0)."},
		{Name: DeleteAfterParam, Type: Varchar, Size: 16, Doc: "The wait between deactivating the old key and deleting it."},
		{Name: "Sink", Type: Varchar, Size: 16, Doc: "The kind of sink the new secret went to: stdout, result, file, profile or secretsmanager (never the secret)."},
		{Name: "Started", Type: Datetime, Doc: "When the rotation started (UTC)."},
		{Name: "Created", Type: Datetime, Doc: "When the new key was created (UTC)."},
		{Name: "Delivered", Type: Datetime, Doc: "When the sink received the new key (UTC)."},
		{Name: "Verified", Type: Datetime, Doc: "When the new key signed sts:GetCallerIdentity as its user (UTC)."},
		{Name: "Deactivated", Type: Datetime, Doc: "When the old key was made inactive (UTC)."},
		{Name: "Ended", Type: Datetime, Doc: "When the rotation ended (UTC); NULL while it is open."},
		{Name: "NextStepDue", Type: Datetime, Doc: "When the next step (deactivating, then deleting the old key) is due (UTC); NULL when due now or ended."},
		{Name: "Note", Type: Varchar, Size: 1024, Doc: "Why a rotation stopped, failed or kept its old key."},
	},
	Methods: []Method{
		{
			Name: "rotations_Rotate", Verb: Exec, Operation: "CreateAccessKey", Procedure: "rotate_access_key",
			Required: []string{"UserName", "region"},
			Optional: []string{"AccessKeyId", ApplyParam, SinkParam, GraceParam, DeleteAfterParam, MakeRoomParam, AccountIDColumn},
			Defaults: map[string]string{"UserName": CallerDefault},
			Mutating: true,
			Arguments: []Column{
				{Name: "AccessKeyId", Type: Varchar, Size: 128, Doc: "The key to rotate; NULL when the user has one key."},
				{Name: ApplyParam, Type: Varchar, Size: 8, Doc: "1 (or 'apply') carries the rotation out; NULL, 0 or 'plan' returns the plan and changes nothing."},
				{Name: MakeRoomParam, Type: Varchar, Size: 16, Doc: "When the user has two keys: allow deleting the inactive one if it has not been used (or, never used, was created) for at least this long ('30d'); " +
					"an active second key is never touched. NULL: a user with two keys is blocked."},
			},
			Returns: []string{"RotationId", AccountIDColumn, "UserName", "OldKeyId", "NewKeyId", "Step", "Sink", "SecretAccessKey", "NextStepDue", "Note"},
			Permissions: []string{"iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed",
				"sts:GetCallerIdentity (signed by the new key)", "secretsmanager:PutSecretValue, secretsmanager:CreateSecret (sink secretsmanager:NAME)"},
			Doc: "Rotates a user's access key (AccessKeyId when the user has two); UserName DEFAULT (or left out of EXEC) rotates the caller's own key " +
				"(the root user's only with SET iamsql_allow_root_keys = 1 or --allow-root-keys), while NULL or '' is an error. Without Apply it returns the plan, one row per key " +
				"(Step plan or blocked, the steps or what blocks it in Note), and changes nothing. With Apply = 1 it creates the new key, " +
				"verifies it signs as the user, and delivers it to Sink: 'result' (the default) returns the secret once in the result row " +
				"(SecretAccessKey), which counts as delivered once the row was sent without error, else the new key is deleted again; " +
				"'secretsmanager:NAME' stores it in Secrets Manager. Over the MySQL protocol only these two sinks exist (never a file on the server's host); " +
				"the shell and exec also take 'file:PATH' and 'profile:NAME'. The old key is deactivated after Grace (default 7d) and deleted after DeleteAfter " +
				"(default 7d) by finish_rotation or iamsql rotate --continue, only if nothing used it after the new key was verified. In org mode account_id is required.",
		},
		{
			Name: "rotations_Finish", Verb: Exec, Operation: "UpdateAccessKey", Procedure: "finish_rotation",
			Required: []string{RotationIDParam}, Optional: []string{ForceParam}, Mutating: true,
			Arguments: []Column{
				{Name: ForceParam, Type: Varchar, Size: 8, Doc: "1 deletes the old key at once after deactivating it; NULL or 0 waits until GetAccessKeyLastUsed's lag (about 4 hours) has passed since the deactivation, so that the delete check sees every use."},
			},
			Returns:     []string{"RotationId", AccountIDColumn, "UserName", "OldKeyId", "NewKeyId", "Step", "Sink", "NextStepDue", "Note"},
			Permissions: []string{"iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed", "iam:DeleteAccessKey", "sts:GetCallerIdentity (when the new key is still to be verified)"},
			Doc: "Runs the rest of a rotation now, without waiting for its grace period: deactivates the old key, then deletes it unless it was used " +
				"after the new key's verification (then it is left inactive: step kept) — once GetAccessKeyLastUsed's lag (about 4 hours) has passed since the deactivation " +
				"(until then the rotation stays deactivated, NextStepDue saying when), or at once with Force = 1. The rotation's account is the one its ledger entry names.",
		},
		{
			Name: "rotations_Rollback", Verb: Exec, Operation: "DeleteAccessKey", Procedure: "rollback_rotation",
			Required: []string{RotationIDParam}, Mutating: true,
			Returns:     []string{"RotationId", AccountIDColumn, "UserName", "OldKeyId", "NewKeyId", "Step", "Sink", "NextStepDue", "Note"},
			Permissions: []string{"iam:UpdateAccessKey", "iam:DeleteAccessKey"},
			Doc:         "Undoes a rotation while both keys exist: the old key is made active again and the new key deleted (and taken out of its sink).",
		},
	},
	Examples: []Example{
		{"Plan rotating a user's key (changes nothing)", "CALL rotate_access_key('ci-deploy', 'us-east-1');"},
		{"Plan rotating your own key", "CALL rotate_access_key(DEFAULT, 'us-east-1');"},
		{"Plan it for a user with two keys, allowing an inactive key unused for 30 days to be deleted to make room",
			"CALL rotate_access_key('alice', 'us-east-1', 'AKIAALICE00000000001', NULL, NULL, NULL, NULL, '30d');"},
		{"Rotate it: the new secret is returned once, as the result row",
			"CALL rotate_access_key('bob', 'us-east-1', 'AKIABOB0000000000001', 1, 'result', '0', '7d');"},
		{"The same in StackQL's EXEC form, into Secrets Manager",
			"EXEC rotations_Rotate @UserName = 'ci-deploy', @region = 'us-east-1', @Apply = 1, @Sink = 'secretsmanager:iam/ci-deploy';"},
		{"Open rotations and when their next step is due",
			"SELECT RotationId, UserName, OldKeyId, NewKeyId, Step, Sink, NextStepDue FROM rotations WHERE Ended IS NULL ORDER BY Started;"},
	},
}
