package provider

import (
	"strings"
	"testing"
)

// Hostile values never reach IAM: a clear error where they are a
// parameter of a call (a mutation, a procedure, a region), and in a
// SELECT's lookup, where no row can have them, no row (with a note).
func TestHostileValuesNeverReachIAM(t *testing.T) {
	// The longest value a statement can carry: max_allowed_packet less
	// the rest of the statement (a longer statement is refused whole).
	big := strings.Repeat("A", MaxStatementBytes-200)
	runScriptTests(t, []scriptTest{
		{name: "injection-looking UserName", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'' OR ''1''=''1'",
			want: [][]string{}},
		{name: "injection-looking UserName in UPDATE", query: "UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND UserName = 'alice'' OR ''1''=''1'",
			wantErr: `invalid UserName "alice' OR '1'='1"`, errNum: ErrNumBadParam},
		{name: "injection-looking AccessKeyId", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = 'AKIA1234567890123456; DROP TABLE users'",
			wantErr: "invalid AccessKeyId", errNum: ErrNumBadParam},
		{name: "Unicode UserName", query: "INSERT INTO access_keys (UserName, region) VALUES ('ålice☃', 'us-east-1')",
			wantErr: "invalid UserName", errNum: ErrNumBadParam},
		{name: "Unicode region", query: "SELECT * FROM access_keys WHERE region = 'us‐east‐1'",
			wantErr: "invalid region", errNum: ErrNumBadParam},
		{name: "4 MB UserName literal", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = '" + big + "'",
			want: [][]string{}},
		{name: "4 MB UserName literal in DELETE", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND UserName = '" + big + "'",
			wantErr: "must be 1-64 characters", errNum: ErrNumBadParam},
		{name: "4 MB AccessKeyId in a procedure", query: "CALL update_access_key('" + big + "', 'Active', 'us-east-1')",
			wantErr: "must be 16-128 characters", errNum: ErrNumBadParam},
		{name: "10 MB UserName literal", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = '" + big + big + big + "'",
			wantErr: "Got a packet bigger than 'max_allowed_packet' bytes", errNum: ErrNumPacketTooLarge},
		{name: "NULL region in INSERT", query: "INSERT INTO access_keys (UserName, region) VALUES ('dave', NULL)",
			wantErr: "INSERT requires region", errNum: ErrNumBadParam},
		{name: "NULL AccessKeyId in DELETE", query: "DELETE FROM access_keys WHERE region = 'us-east-1' AND AccessKeyId = NULL",
			wantErr: "requires AccessKeyId", errNum: ErrNumBadParam},
		{name: "NULL UserName lookup", query: "SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName = NULL",
			want: [][]string{}},
		{name: "a number as region", query: "SELECT * FROM access_keys WHERE region = 5",
			wantErr: `invalid region "5"`, errNum: ErrNumBadParam},
		{name: "a number as Status", query: "CALL update_access_key('AKIABOB0000000000001', 1, 'us-east-1', 'bob')",
			wantErr: `invalid Status "1"`, errNum: ErrNumBadParam},
		{name: "a date as UserName", query: "INSERT INTO access_keys (UserName, region) VALUES (NOW(), 'us-east-1')",
			wantErr: "invalid UserName", errNum: ErrNumBadParam},
		{name: "empty region", query: "SELECT * FROM access_keys WHERE region = ''",
			wantErr: `invalid region ""`, errNum: ErrNumBadParam},
	})
}
