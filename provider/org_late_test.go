package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/iamsql/iamsql/internal/emulator"
)

// An account has all its rows in a statement or none, across the
// statement's lookups too: when a later lookup of an account fails after
// an earlier one returned its rows, the statement fails with a clear
// error (its result would hold a part of the account that looks whole);
// when the failure comes first, the later rows are not returned.
func TestOrgAccountFailingInALaterLookup(t *testing.T) {
	w := newOrgWorld(t, orgWorldOptions{seed: "org:3x2", maxAttempts: 2,
		transport: func(next http.RoundTripper) http.RoundTripper {
			return throttleWhen{next, func(f url.Values) bool { return f.Get("Action") == "ListAccessKeys" && f.Get("UserName") == "zz-late" }}
		}})
	a := w.org.Account(acct2)
	for _, u := range []string{"aa-early", "zz-late"} {
		if err := a.AddUser(emulator.User{UserName: u}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAEARLY00000000001", UserName: "aa-early", Status: "Active"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		// One lookup per user, in the order of the IN list.
		"SELECT account_id, UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND account_id = '" + acct2 + "' AND UserName IN ('aa-early', 'zz-late')",
		"SELECT account_id, UserName, AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName IN ('aa-early', 'zz-late')",
		// A lookup per row of the outer side.
		"SELECT k.account_id, k.UserName, k.AccessKeyId FROM users u JOIN access_keys k ON k.UserName = u.UserName AND k.account_id = u.account_id " +
			"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' AND u.UserName IN ('aa-early', 'zz-late')",
	} {
		r := w.exec(q)
		early := strings.Contains(fmt.Sprint(r.rows), "AKIAEARLY00000000001")
		switch {
		case r.err != nil:
			if !strings.Contains(r.err.Error(), "account "+acct2) || !strings.Contains(r.err.Error(), "after") {
				t.Errorf("%s: error %v, want one naming account %s failing after its rows were returned", q, r.err, acct2)
			}
		case early:
			t.Errorf("%s: account %s failed, yet its rows %v are in the result", q, acct2, r.rows)
		default:
			in := w.sess.Incomplete()
			if len(in) != 1 || in[0].Account != acct2 {
				t.Errorf("%s: incomplete %+v, want account %s", q, in, acct2)
			}
		}
	}
}
