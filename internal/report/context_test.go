package report_test

import (
	"bytes"
	"encoding/csv"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/report"
)

// contextWorld is an account whose users have context: ann and dan have
// findings (an old key), ben has none, eve has one but IAM refuses to
// list her groups.
func contextWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, worldOptions{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.emu.AddUser(emulator.User{UserName: "ann", CreateDate: ago(400 * day),
		Tags:         []emulator.Tag{{Key: "Owner", Value: "ann@example.com"}, {Key: "team", Value: "payments"}, {Key: "AKIAANN0000000000001", Value: "billing export"}},
		LoginProfile: &emulator.LoginProfile{CreateDate: ago(300 * day)}, MFADevices: []emulator.MFADevice{{}},
		Groups: []string{"payments", "developers"}, AttachedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
		InlinePolicies: []string{"export"}}))
	must(w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAANN0000000000001", UserName: "ann", CreateDate: ago(200 * day), LastUsed: &emulator.LastUsed{Date: ago(day), ServiceName: "s3", Region: "us-east-1"}}))
	must(w.emu.AddUser(emulator.User{UserName: "ben", CreateDate: ago(400 * day), Tags: []emulator.Tag{{Key: "owner", Value: "ben@example.com"}}}))
	must(w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIABEN0000000000001", UserName: "ben", CreateDate: ago(10 * day), LastUsed: &emulator.LastUsed{Date: ago(day), ServiceName: "s3", Region: "us-east-1"}}))
	must(w.emu.AddUser(emulator.User{UserName: "dan", CreateDate: ago(400 * day)}))
	must(w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIADAN0000000000001", UserName: "dan", CreateDate: ago(300 * day), LastUsed: &emulator.LastUsed{Date: ago(day), ServiceName: "s3", Region: "us-east-1"}}))
	must(w.emu.AddUser(emulator.User{UserName: "eve", CreateDate: ago(400 * day), Groups: []string{"ops"}}))
	must(w.emu.AddAccessKey(emulator.AccessKey{AccessKeyID: "AKIAEVE0000000000001", UserName: "eve", CreateDate: ago(300 * day), LastUsed: &emulator.LastUsed{Date: ago(day), ServiceName: "s3", Region: "us-east-1"}}))
	w.emu.Deny("ListGroupsForUser", "eve")
	w.emu.ResetCalls()
	return w
}

// TestReportReadsContextForOwnersWithFindingsOnly: the owners of keys
// with findings get their tags, key description, console access, MFA,
// groups and policy counts; the others cost no context call; a user IAM
// refuses to tell about is incomplete, not silently without context.
func TestReportReadsContextForOwnersWithFindingsOnly(t *testing.T) {
	w := contextWorld(t)
	r := w.run(t, report.Options{})
	got := map[string]*report.Context{}
	for _, k := range r.Keys {
		got[k.UserName] = k.Context
	}
	wantAnn := &report.Context{Owner: "ann@example.com", Team: "payments", Description: "billing export", ConsoleAccess: true, MFA: true,
		Groups: []string{"developers", "payments"}, AttachedPolicies: 2, InlinePolicies: 1}
	if !sameContext(got["ann"], wantAnn) {
		t.Errorf("ann's context %+v, want %+v", got["ann"], wantAnn)
	}
	if !sameContext(got["dan"], &report.Context{}) {
		t.Errorf("dan's context %+v, want an empty one (read, nothing there)", got["dan"])
	}
	if got["ben"] != nil || got["eve"] != nil || got["root"] != nil {
		t.Errorf("no context for ben (no finding), eve (refused) or root: %+v %+v %+v", got["ben"], got["eve"], got["root"])
	}
	for _, f := range r.Findings {
		if f.Key.UserName == "ann" && !sameContext(f.Key.Context, wantAnn) {
			t.Errorf("ann's finding %s lacks the context: %+v", f.Rule, f.Key.Context)
		}
	}
	var eveIncomplete bool
	for _, in := range r.Incomplete {
		eveIncomplete = eveIncomplete || (in.Source == "context" && in.UserName == "eve" && in.Code == "AccessDenied")
	}
	if !eveIncomplete || len(r.Incomplete) != 1 {
		t.Errorf("incomplete %+v, want eve's context refused", r.Incomplete)
	}
	calls := w.emu.Calls()
	want := map[string]int{"GetAccountSummary": 1, "ListUsers": 1, "ListAccessKeys": 5, "GetAccessKeyLastUsed": 5, "GetUser": 4, "GetCallerIdentity": 1,
		"ListUserTags": 3, "GetLoginProfile": 3, "ListMFADevices": 3, "ListGroupsForUser": 3, "ListAttachedUserPolicies": 3, "ListUserPolicies": 3}
	if !maps.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if !maps.Equal(r.Calls, want) {
		t.Errorf("report counted %v, want %v", r.Calls, want)
	}

	// CSV: one row per key with the context columns.
	var b bytes.Buffer
	if err := report.Write(&b, r, output.CSV, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Join(recs[0], ",")
	if !strings.HasSuffix(header, ",Owner,Team,Description,ConsoleAccess,MFA,Groups,AttachedPolicies,InlinePolicies") {
		t.Fatalf("CSV header %s", header)
	}
	var annRow, benRow []string
	for _, rec := range recs {
		switch rec[1] {
		case "ann":
			annRow = rec
		case "ben":
			benRow = rec
		}
	}
	if tail := strings.Join(annRow[len(annRow)-8:], "|"); tail != "ann@example.com|payments|billing export|true|true|developers, payments|2|1" {
		t.Errorf("ann's CSV context %s", tail)
	}
	if tail := strings.Join(benRow[len(benRow)-8:], "|"); tail != "|||||||" {
		t.Errorf("ben's CSV context %s", tail)
	}

	b.Reset()
	if err := report.WriteHTML(&b, r, report.SelectAll); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<div class="context">owner ann@example.com; team payments; “billing export”; console with MFA; groups developers, payments; 2 attached policies; 1 inline policy</div>`) {
		t.Errorf("the HTML page lacks ann's context")
	}

	// Without context, none of its calls.
	w.emu.ResetCalls()
	r = w.run(t, report.Options{NoContext: true})
	for op := range w.emu.Calls() {
		if op == "ListUserTags" || op == "GetLoginProfile" || op == "ListMFADevices" {
			t.Errorf("NoContext made %s calls", op)
		}
	}
	for _, k := range r.Keys {
		if k.Context != nil {
			t.Errorf("NoContext: %s has context", k.UserName)
		}
	}
}

func sameContext(a, b *report.Context) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	if len(x.Groups) == 0 && len(y.Groups) == 0 {
		x.Groups, y.Groups = nil, nil
	}
	return x.Owner == y.Owner && x.Team == y.Team && x.Description == y.Description && x.ConsoleAccess == y.ConsoleAccess &&
		x.MFA == y.MFA && reflect.DeepEqual(x.Groups, y.Groups) && x.AttachedPolicies == y.AttachedPolicies && x.InlinePolicies == y.InlinePolicies
}

// contextWorldUser adds a user with one key (and a second active one when
// second), created and last used (never, when used is zero) as given.
func contextWorldUser(t *testing.T, w *world, name string, created, used time.Time, second bool) {
	t.Helper()
	if err := w.emu.AddUser(emulator.User{UserName: name, CreateDate: ago(400 * day), Tags: []emulator.Tag{{Key: "owner", Value: name + "@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	k := emulator.AccessKey{UserName: name, CreateDate: created}
	if !used.IsZero() {
		k.LastUsed = &emulator.LastUsed{Date: used, ServiceName: "s3", Region: "us-east-1"}
	}
	if err := w.emu.AddAccessKey(k); err != nil {
		t.Fatal(err)
	}
	if second {
		k.CreateDate = ago(5 * day)
		if err := w.emu.AddAccessKey(k); err != nil {
			t.Fatal(err)
		}
	}
}

func diffLines(got, want []string) string {
	var out []string
	g := map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	wm := map[string]bool{}
	for _, s := range want {
		wm[s] = true
		if !g[s] {
			out = append(out, "- "+s)
		}
	}
	for _, s := range got {
		if !wm[s] {
			out = append(out, "+ "+s)
		}
	}
	return strings.Join(out, "\n")
}
