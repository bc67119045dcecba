package schema

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateFollowsIAMConstraints(t *testing.T) {
	tests := []struct {
		param, value string
		ok           bool
	}{
		{"AccessKeyId", "AKIAIOSFODNN7EXAMPLE", true},
		{"AccessKeyId", "AKIA_" + strings.Repeat("A", 11), true},
		{"AccessKeyId", strings.Repeat("A", 15), false},
		{"AccessKeyId", strings.Repeat("A", 128), true},
		{"AccessKeyId", strings.Repeat("A", 129), false},
		{"AccessKeyId", "AKIAIOSFODNN7EXAMPL-", false},
		{"AccessKeyId", "AKIA' OR '1'='1' --", false},
		{"UserName", "alice", true},
		{"UserName", "a+b=c,d.e@f-g_h", true},
		{"UserName", "", false},
		{"UserName", strings.Repeat("u", 64), true},
		{"UserName", strings.Repeat("u", 65), false},
		{"UserName", "bob smith", false},
		{"UserName", "bøb", false},
		{"Status", "Active", true},
		{"Status", "Inactive", true},
		{"Status", "active", false},
		{"region", "us-east-1", true},
		{"region", "cn-north-1", true},
		{"region", "us-gov-west-1", true},
		{"region", "mars-1", false},
		{"region", "", false},
	}
	for _, tt := range tests {
		err := Validate(tt.param, tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%s, %q) = %v, want ok=%v", tt.param, tt.value, err, tt.ok)
		}
		var ip *InvalidParam
		if err != nil && !errors.As(err, &ip) {
			t.Errorf("Validate(%s, %q) error is %T, want *InvalidParam", tt.param, tt.value, err)
		}
	}
}

func TestInvalidParamMessageIsBounded(t *testing.T) {
	err := Validate("UserName", strings.Repeat("x ", 5_000_000))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("message of %d bytes: a 10 MB value must not be echoed whole", len(err.Error()))
	}
}

func TestPartitionPicksTheIAMSigningRegion(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "us-east-1", "eu-west-3": "us-east-1", "cn-northwest-1": "cn-north-1", "us-gov-east-1": "us-gov-west-1"} {
		p, ok := Partition(region)
		if !ok || SigningRegion[p] != want {
			t.Errorf("%s: partition %q signs with %q, want %q", region, p, SigningRegion[p], want)
		}
	}
}

func TestMissingParamMessageNamesParameterAndMethod(t *testing.T) {
	m, _ := AccessKeys.Method(Select)
	got := (&MissingParam{Resource: "access_keys", Param: "region", Method: m}).Error()
	want := "access_keys: SELECT requires region (add WHERE region = '…'); method access_keys_List needs region"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	u, _ := LookupMethod("update_access_key")
	if sig := u.Method.Signature(); sig != "update_access_key(AccessKeyId, Status, region[, UserName[, account_id]])" {
		t.Errorf("signature %q", sig)
	}
}

func TestResourcesAreConsistent(t *testing.T) {
	for _, r := range Resources {
		for _, m := range r.Methods {
			for _, p := range m.Params() {
				if _, ok := r.Column(p); !ok && p != "Status" && !slices.ContainsFunc(m.Arguments, func(c Column) bool { return c.Name == p }) {
					t.Errorf("%s.%s parameter %s is not a column", r.Name, m.Name, p)
				}
			}
			if m.Verb == Select {
				for _, p := range m.Required {
					if c, _ := r.Column(p); !c.Param {
						t.Errorf("%s: required SELECT parameter %s must be a Param column", r.Name, p)
					}
				}
			}
		}
		for _, id := range r.StackQLIDs {
			if got, ok := Lookup(id); !ok || got.Name != r.Name {
				t.Errorf("Lookup(%s) = %v", id, got.Name)
			}
			known := false
			for _, s := range Services {
				known = known || s.ID == ServiceOf(id)
			}
			if !known {
				t.Errorf("%s: its service %s is not in Services (SHOW SERVICES would miss it)", id, ServiceOf(id))
			}
		}
	}
}

// FuzzValidate: validation never panics, and what it accepts matches IAM's
// documented constraints.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", "alice", "Active", "us-east-1", "/ops/", "", "a b", "☃", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	params := []string{"AccessKeyId", "UserName", "Status", "region"}
	f.Fuzz(func(t *testing.T, v string) {
		for _, p := range params {
			err := Validate(p, v)
			if err == nil {
				switch p {
				case "AccessKeyId":
					if len(v) < 16 || len(v) > 128 || !accessKeyIDPattern.MatchString(v) {
						t.Fatalf("accepted AccessKeyId %q", v)
					}
				case "UserName":
					if len(v) < 1 || len(v) > 64 || strings.ContainsAny(v, " '\\\"`;") {
						t.Fatalf("accepted UserName %q", v)
					}
				case "region":
					if _, ok := Partition(v); !ok {
						t.Fatalf("accepted region %q", v)
					}
				}
			} else if len(err.Error()) > 300 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
		}
	})
}
