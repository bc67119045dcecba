package provider

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// The IAM side of the user-context tables (user_tags, mfa_devices,
// login_profiles, user_groups, user_attached_policies, user_policies),
// each listed per user like access_keys, and of credential_report.

// maxContextPages bounds the pages of one user's listing: IAM caps each
// list (50 tags, 8 MFA devices, 10 groups... per user), so a listing
// that never ends is a faulty answer, not a long one.
const maxContextPages = 100

// The items of the per-user listings: each carries the user's name (IAM's
// answers for tags, groups and policies do not).
type (
	userTag struct {
		UserName, Key, Value *string
	}
	userMFADevice struct {
		UserName, SerialNumber *string
		EnableDate             *time.Time
	}
	userLoginProfile struct {
		UserName              *string
		CreateDate            *time.Time
		PasswordResetRequired bool
	}
	userGroup struct {
		UserName, GroupName, GroupId, Arn, Path *string
	}
	userAttachedPolicy struct {
		UserName, PolicyName, PolicyArn *string
	}
	userInlinePolicy struct {
		UserName, PolicyName *string
	}
)

// contextLister lists one user's items of a context table, all pages.
type contextLister func(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error)

func init() {
	perUser := map[string]contextLister{
		schema.UserTags.Name:             listUserTags,
		schema.MFADevices.Name:           listMFADevices,
		schema.LoginProfiles.Name:        getLoginProfile,
		schema.UserGroups.Name:           listGroupsForUser,
		schema.UserAttachedPolicies.Name: listAttachedUserPolicies,
		schema.UserPolicies.Name:         listUserPolicies,
	}
	for name, list := range perUser {
		res, _ := schema.Lookup(name)
		b := &binding{children: perUserChildren(res.List.Operation, list)}
		b.lookup = perUserLookup(b.children)
		bindings[name] = b
	}
	bindings[schema.CredentialReport.Name] = &binding{scan: scanCredentialReport}
}

// perUserChildren lists one user's items once per statement. The caller's
// own items ("", asked when the users listing was denied) are none: these
// operations are asked of IAM users by name.
func perUserChildren(op string, list contextLister) func(context.Context, *statement, string, string) ([]any, error) {
	return func(ctx context.Context, st *statement, part, user string) ([]any, error) {
		if user == "" {
			return nil, nil
		}
		return once(ctx, st, memoKey{op, part, user}, func(ctx context.Context) ([]any, error) {
			api, err := st.api(ctx, part)
			if err != nil {
				return nil, err
			}
			capi, err := awsiam.ContextOf(api, op)
			if err != nil {
				return nil, err
			}
			return list(ctx, st, part, capi, user)
		})
	}
}

// perUserLookup answers UserName = '…' with that user's listing. IAM
// finds a user whatever the case of its name, and its answers for tags,
// groups and policies do not name the user, so the user's own name is
// asked first (GetUser, once per user and statement): a name that is
// not the user's exact name has no rows, as in the full scan.
func perUserLookup(children func(context.Context, *statement, string, string) ([]any, error)) func(context.Context, *statement, string, params) ([]any, bool, error) {
	return func(ctx context.Context, st *statement, part string, prm params) ([]any, bool, error) {
		user, ok := prm["UserName"]
		if !ok {
			return nil, false, nil
		}
		name, err := st.userName(ctx, part, user)
		if err != nil {
			return nil, true, err
		}
		if name != user {
			return nil, true, nil
		}
		items, err := children(ctx, st, part, user)
		return items, true, err
	}
}

// userName is the exact name of the user IAM finds for name (GetUser).
func (st *statement) userName(ctx context.Context, part, name string) (string, error) {
	return once(ctx, st, memoKey{"GetUser", part, name}, func(ctx context.Context) (string, error) {
		api, err := st.api(ctx, part)
		if err != nil {
			return "", err
		}
		out, err := stmtCall(ctx, st, part, "GetUser", func() (*iam.GetUserOutput, error) {
			return api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		})
		if err != nil {
			return "", err
		}
		if out.User == nil {
			return "", nil
		}
		return aws.ToString(out.User.UserName), nil
	})
}

// pages calls one page after the other until IAM says there are no more
// (a repeated marker ends the listing; maxContextPages bound it).
func pages(ctx context.Context, op string, page func(marker *string) (next *string, truncated bool, err error)) error {
	var marker *string
	for range maxContextPages {
		next, more, err := page(marker)
		if err != nil {
			return err
		}
		if !more || aws.ToString(next) == "" || aws.ToString(next) == aws.ToString(marker) {
			return nil
		}
		marker = next
	}
	return iamError(op, fmt.Errorf("more than %d pages for one user: IAM's answer is not plausible", maxContextPages))
}

func listUserTags(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	var items []any
	err := pages(ctx, "ListUserTags", func(marker *string) (*string, bool, error) {
		out, err := stmtCall(ctx, st, part, "ListUserTags", func() (*iam.ListUserTagsOutput, error) {
			return api.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(user), Marker: marker, MaxItems: st.p.maxItems()})
		})
		if err != nil {
			return nil, false, err
		}
		for _, t := range out.Tags {
			items = append(items, userTag{UserName: aws.String(user), Key: t.Key, Value: t.Value})
		}
		return out.Marker, out.IsTruncated, nil
	})
	return items, err
}

func listMFADevices(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	var items []any
	err := pages(ctx, "ListMFADevices", func(marker *string) (*string, bool, error) {
		out, err := stmtCall(ctx, st, part, "ListMFADevices", func() (*iam.ListMFADevicesOutput, error) {
			return api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(user), Marker: marker, MaxItems: st.p.maxItems()})
		})
		if err != nil {
			return nil, false, err
		}
		for _, d := range out.MFADevices {
			items = append(items, userMFADevice{UserName: aws.String(user), SerialNumber: d.SerialNumber, EnableDate: d.EnableDate})
		}
		return out.Marker, out.IsTruncated, nil
	})
	return items, err
}

// getLoginProfile is the user's console password, or no item: IAM
// answers NoSuchEntity for a user without one ("Login Profile for User …
// cannot be found."), which is not the user being gone.
func getLoginProfile(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	out, err := stmtCall(ctx, st, part, "GetLoginProfile", func() (*iam.GetLoginProfileOutput, error) {
		return api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	})
	var ie *IAMError
	if errors.As(err, &ie) && ie.Code == "NoSuchEntity" && strings.Contains(ie.Message, "Login Profile") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.LoginProfile == nil {
		return nil, nil
	}
	return []any{userLoginProfile{UserName: aws.String(user), CreateDate: out.LoginProfile.CreateDate, PasswordResetRequired: out.LoginProfile.PasswordResetRequired}}, nil
}

func listGroupsForUser(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	var items []any
	err := pages(ctx, "ListGroupsForUser", func(marker *string) (*string, bool, error) {
		out, err := stmtCall(ctx, st, part, "ListGroupsForUser", func() (*iam.ListGroupsForUserOutput, error) {
			return api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(user), Marker: marker, MaxItems: st.p.maxItems()})
		})
		if err != nil {
			return nil, false, err
		}
		for _, g := range out.Groups {
			items = append(items, userGroup{UserName: aws.String(user), GroupName: g.GroupName, GroupId: g.GroupId, Arn: g.Arn, Path: g.Path})
		}
		return out.Marker, out.IsTruncated, nil
	})
	return items, err
}

func listAttachedUserPolicies(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	var items []any
	err := pages(ctx, "ListAttachedUserPolicies", func(marker *string) (*string, bool, error) {
		out, err := stmtCall(ctx, st, part, "ListAttachedUserPolicies", func() (*iam.ListAttachedUserPoliciesOutput, error) {
			return api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user), Marker: marker, MaxItems: st.p.maxItems()})
		})
		if err != nil {
			return nil, false, err
		}
		for _, p := range out.AttachedPolicies {
			items = append(items, userAttachedPolicy{UserName: aws.String(user), PolicyName: p.PolicyName, PolicyArn: p.PolicyArn})
		}
		return out.Marker, out.IsTruncated, nil
	})
	return items, err
}

func listUserPolicies(ctx context.Context, st *statement, part string, api awsiam.UserContextAPI, user string) ([]any, error) {
	var items []any
	err := pages(ctx, "ListUserPolicies", func(marker *string) (*string, bool, error) {
		out, err := stmtCall(ctx, st, part, "ListUserPolicies", func() (*iam.ListUserPoliciesOutput, error) {
			return api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user), Marker: marker, MaxItems: st.p.maxItems()})
		})
		if err != nil {
			return nil, false, err
		}
		for _, n := range out.PolicyNames {
			items = append(items, userInlinePolicy{UserName: aws.String(user), PolicyName: aws.String(n)})
		}
		return out.Marker, out.IsTruncated, nil
	})
	return items, err
}

// ---- the credential report ----

// credentialReportRow is one line of the credential report. IAM's N/A,
// no_information and not_supported are nil.
type credentialReportRow struct {
	User, Arn                                                   *string
	UserCreationTime                                            *time.Time
	PasswordEnabled                                             *bool
	PasswordLastUsed, PasswordLastChanged, PasswordNextRotation *time.Time
	MFAActive                                                   *bool
	Key1Active                                                  *bool
	Key1LastRotated, Key1LastUsedDate                           *time.Time
	Key1LastUsedRegion, Key1LastUsedService                     *string
	Key2Active                                                  *bool
	Key2LastRotated, Key2LastUsedDate                           *time.Time
	Key2LastUsedRegion, Key2LastUsedService                     *string
	Cert1Active                                                 *bool
	Cert1LastRotated                                            *time.Time
	Cert2Active                                                 *bool
	Cert2LastRotated                                            *time.Time
	GeneratedTime                                               *time.Time
	Stale                                                       bool
}

// credentialReportColumns are the report's CSV columns, in AWS's order,
// with the field of credentialReportRow each fills.
var credentialReportColumns = func() []schema.Column {
	var out []schema.Column
	for _, c := range schema.CredentialReport.Columns {
		if c.Name == "GeneratedTime" {
			break
		}
		out = append(out, c)
	}
	return out
}()

// maxReportWait bounds the GetCredentialReport calls made while IAM is
// still making the report (ReportInProgress), and reportPoll is the
// first wait between them (doubling, up to 2 s).
var (
	maxReportWait = 30
	reportPoll    = 100 * time.Millisecond
)

// reportClock is the clock a report's age (Stale) is measured with.
var reportClock = time.Now

// WarnReportAsIs is the code of the warning a read of credential_report
// leaves when IAM refused to make a new report: the last one is read as
// it is, however old (its Stale column says).
const WarnReportAsIs = 4106

// maxReportBytes bounds the report iamsql reads: the CSV of 5,000 users
// (IAM's quota of users per account) is about 2 MB.
const maxReportBytes = 64 << 20

func scanCredentialReport(ctx context.Context, st *statement, part string) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		items, err := once(ctx, st, memoKey{"GetCredentialReport", part, ""}, func(ctx context.Context) ([]any, error) {
			return readCredentialReport(ctx, st, part)
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

func readCredentialReport(ctx context.Context, st *statement, part string) ([]any, error) {
	api, err := st.api(ctx, part)
	if err != nil {
		return nil, err
	}
	capi, err := awsiam.ContextOf(api, "GetCredentialReport")
	if err != nil {
		return nil, err
	}
	_, err = stmtCall(ctx, st, part, "GenerateCredentialReport", func() (*iam.GenerateCredentialReportOutput, error) {
		return capi.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	})
	if err != nil {
		if iamCode(err) != "AccessDenied" {
			return nil, err
		}
		if sctx, ok := ctx.(*sql.Context); ok {
			st.note(sctx, &sql.Warning{Level: "Warning", Code: WarnReportAsIs,
				Message: "credential_report: GenerateCredentialReport was denied; the last report is read as it is (see its GeneratedTime and Stale)"})
		}
	}
	wait := reportPoll
	for attempt := 1; ; attempt++ {
		out, err := stmtCall(ctx, st, part, "GetCredentialReport", func() (*iam.GetCredentialReportOutput, error) {
			return capi.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		})
		if iamCode(err) == "ReportInProgress" && attempt < maxReportWait {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, iamError("GetCredentialReport", ctx.Err())
			}
			wait = min(2*wait, 2*time.Second)
			continue
		}
		if err != nil {
			return nil, err
		}
		return parseCredentialReport(out.Content, aws.ToTime(out.GeneratedTime), reportClock())
	}
}

// parseCredentialReport reads the report's CSV by its header's column
// names (a column AWS adds is ignored; one it dropped is an error).
func parseCredentialReport(content []byte, generated, now time.Time) ([]any, error) {
	if len(content) > maxReportBytes {
		return nil, fmt.Errorf("credential_report: the report is %d bytes, more than iamsql reads (%d)", len(content), maxReportBytes)
	}
	r := csv.NewReader(bytes.NewReader(content))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("credential_report: the report has no header: %v", err)
	}
	at := map[string]int{}
	for i, h := range header {
		at[strings.TrimSpace(h)] = i
	}
	for _, c := range credentialReportColumns {
		if _, ok := at[c.Name]; !ok {
			return nil, fmt.Errorf("credential_report: the report has no column %s", c.Name)
		}
	}
	var gen *time.Time
	if !generated.IsZero() {
		g := generated.UTC()
		gen = &g
	}
	stale := !generated.IsZero() && now.Sub(generated) > schema.CredentialReportMaxAge*time.Hour
	var items []any
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("credential_report: line %d: %v", line, err)
		}
		row := credentialReportRow{GeneratedTime: gen, Stale: stale}
		for _, c := range credentialReportColumns {
			if err := setReportField(&row, c, rec[at[c.Name]]); err != nil {
				return nil, fmt.Errorf("credential_report: line %d, column %s: %v", line, c.Name, err)
			}
		}
		items = append(items, row)
	}
	return items, nil
}

// reportAbsent are the report's words for a value that is not there.
func reportAbsent(s string) bool {
	switch s {
	case "", "N/A", "no_information", "not_supported":
		return true
	}
	return false
}

func setReportField(row *credentialReportRow, c schema.Column, s string) error {
	s = strings.TrimSpace(s)
	var v any
	if !reportAbsent(s) {
		switch c.Type {
		case schema.Datetime:
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return fmt.Errorf("not a date: %q", s)
			}
			t = t.UTC()
			v = &t
		case schema.Boolean:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("not true or false: %q", s)
			}
			v = &b
		default:
			v = aws.String(s)
		}
	}
	f, ok := reportFields[c.Field()]
	if !ok {
		return fmt.Errorf("internal: no field %s", c.Field())
	}
	f(row, v)
	return nil
}

// reportFields set credentialReportRow's fields by name (nil: absent).
var reportFields = map[string]func(*credentialReportRow, any){
	"User":                 func(r *credentialReportRow, v any) { r.User = str_(v) },
	"Arn":                  func(r *credentialReportRow, v any) { r.Arn = str_(v) },
	"UserCreationTime":     func(r *credentialReportRow, v any) { r.UserCreationTime = tm(v) },
	"PasswordEnabled":      func(r *credentialReportRow, v any) { r.PasswordEnabled = bl(v) },
	"PasswordLastUsed":     func(r *credentialReportRow, v any) { r.PasswordLastUsed = tm(v) },
	"PasswordLastChanged":  func(r *credentialReportRow, v any) { r.PasswordLastChanged = tm(v) },
	"PasswordNextRotation": func(r *credentialReportRow, v any) { r.PasswordNextRotation = tm(v) },
	"MFAActive":            func(r *credentialReportRow, v any) { r.MFAActive = bl(v) },
	"Key1Active":           func(r *credentialReportRow, v any) { r.Key1Active = bl(v) },
	"Key1LastRotated":      func(r *credentialReportRow, v any) { r.Key1LastRotated = tm(v) },
	"Key1LastUsedDate":     func(r *credentialReportRow, v any) { r.Key1LastUsedDate = tm(v) },
	"Key1LastUsedRegion":   func(r *credentialReportRow, v any) { r.Key1LastUsedRegion = str_(v) },
	"Key1LastUsedService":  func(r *credentialReportRow, v any) { r.Key1LastUsedService = str_(v) },
	"Key2Active":           func(r *credentialReportRow, v any) { r.Key2Active = bl(v) },
	"Key2LastRotated":      func(r *credentialReportRow, v any) { r.Key2LastRotated = tm(v) },
	"Key2LastUsedDate":     func(r *credentialReportRow, v any) { r.Key2LastUsedDate = tm(v) },
	"Key2LastUsedRegion":   func(r *credentialReportRow, v any) { r.Key2LastUsedRegion = str_(v) },
	"Key2LastUsedService":  func(r *credentialReportRow, v any) { r.Key2LastUsedService = str_(v) },
	"Cert1Active":          func(r *credentialReportRow, v any) { r.Cert1Active = bl(v) },
	"Cert1LastRotated":     func(r *credentialReportRow, v any) { r.Cert1LastRotated = tm(v) },
	"Cert2Active":          func(r *credentialReportRow, v any) { r.Cert2Active = bl(v) },
	"Cert2LastRotated":     func(r *credentialReportRow, v any) { r.Cert2LastRotated = tm(v) },
}

func str_(v any) *string {
	s, _ := v.(*string)
	return s
}

func tm(v any) *time.Time {
	t, _ := v.(*time.Time)
	return t
}

func bl(v any) *bool {
	b, _ := v.(*bool)
	return b
}

// Concurrency is the bound of one statement's IAM calls in flight
// (Config.Concurrency).
func (e *Engine) Concurrency() int { return e.Provider.concurrency }
