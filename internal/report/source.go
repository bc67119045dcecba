package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Source is where a report reads the keys it judges from.
type Source string

// The sources.
const (
	// SourceLive reads every key of the account from IAM: ListUsers, one
	// ListAccessKeys per user, one GetAccessKeyLastUsed per key. It is
	// the default: exact as of now, and it needs no more permissions than
	// listing keys.
	SourceLive Source = "live"
	// SourceCredentialReport reads IAM's credential report first (two
	// calls for the whole account, up to 4 hours old), picks the users
	// whose keys could match a finding, and confirms each of those with
	// live calls: on a large account with few findings it costs hundreds
	// of calls instead of tens of thousands. Its inventory holds the
	// candidates' keys only (the report has no key ids), and keys made
	// after the report was generated are seen only for users it picked.
	SourceCredentialReport Source = "credential-report"
)

// Sources lists the sources, the default first.
var Sources = []Source{SourceLive, SourceCredentialReport}

// ParseSource reads a --source value.
func ParseSource(s string) (Source, error) {
	for _, src := range Sources {
		if strings.EqualFold(s, string(src)) {
			return src, nil
		}
	}
	names := make([]string, len(Sources))
	for i, src := range Sources {
		names[i] = string(src)
	}
	return "", fmt.Errorf("unknown source %q (choose one of %s)", s, strings.Join(names, ", "))
}

// maxCandidates bounds the users a credential-report pass confirms with
// live calls: past it, a full live scan is about as cheap and is made
// instead (the report says so).
const maxCandidates = 2000

// CredentialReportInfo says what a report read from the credential
// report.
type CredentialReportInfo struct {
	// GeneratedTime is when IAM made it; Stale is set when it was more
	// than 4 hours old when read.
	GeneratedTime time.Time
	Stale         bool
	// Users is how many users it lists (the root user aside); Candidates
	// how many it picked to confirm live (the root user included).
	Users, Candidates int
	// FellBack is set when there were too many candidates and the report
	// read every key live instead.
	FellBack bool
}

// credentialReportSQL reads what candidate selection needs.
func credentialReportSQL(region string) string {
	return fmt.Sprintf("SELECT account_id, user, access_key_1_active, access_key_1_last_rotated, access_key_1_last_used_date, "+
		"access_key_2_active, access_key_2_last_rotated, access_key_2_last_used_date, GeneratedTime "+
		"FROM credential_report WHERE region = %s ORDER BY account_id, user", sqlString(region))
}

type reportLine struct {
	Account       string     `sql:"account_id"`
	User          string     `sql:"user"`
	Key1Active    *bool      `sql:"access_key_1_active"`
	Key1Rotated   *time.Time `sql:"access_key_1_last_rotated"`
	Key1Used      *time.Time `sql:"access_key_1_last_used_date"`
	Key2Active    *bool      `sql:"access_key_2_active"`
	Key2Rotated   *time.Time `sql:"access_key_2_last_rotated"`
	Key2Used      *time.Time `sql:"access_key_2_last_used_date"`
	GeneratedTime *time.Time `sql:"GeneratedTime"`
}

// reportKey is one key slot of a credential report line.
type reportKey struct {
	active        bool
	rotated, used *time.Time
}

func (l reportLine) keys() []reportKey {
	var out []reportKey
	if l.Key1Rotated != nil {
		out = append(out, reportKey{l.Key1Active != nil && *l.Key1Active, l.Key1Rotated, l.Key1Used})
	}
	if l.Key2Rotated != nil {
		out = append(out, reportKey{l.Key2Active != nil && *l.Key2Active, l.Key2Rotated, l.Key2Used})
	}
	return out
}

// candidate says whether a user's keys, as the credential report saw
// them, could match a finding now. Each date is compared with the rule's
// cut-off moved later by the report's age and a day, so that what has
// aged into a finding since the report was made is picked too; the live
// confirmation then decides. A user with two active keys is picked.
func (r *Report) candidate(l reportLine, generated time.Time) bool {
	slack := r.GeneratedAt.Sub(generated) + 24*time.Hour
	before := func(t *time.Time, days int) bool {
		return t != nil && t.Before(r.GeneratedAt.Add(-time.Duration(days)*24*time.Hour+slack))
	}
	active := 0
	for _, k := range l.keys() {
		switch {
		case k.active:
			active++
			idle := k.used
			if idle == nil {
				idle = k.rotated
			}
			if before(k.rotated, r.Thresholds.MaxKeyAge) || before(idle, r.Thresholds.MaxUnused) {
				return true
			}
		case before(k.rotated, r.Thresholds.MaxInactiveAge):
			return true
		}
	}
	return active > 1
}

// rootAccountUser is the credential report's name for the root user.
const rootAccountUser = "<root_account>"

// readCandidates reads the credential report and picks, per account, the
// users to confirm live (RootUserName always: the root user's keys are
// listed, as in a live report, when the caller is root). ok is false when
// there are too many (a live scan is made instead).
func (r *Report) readCandidates(ctx context.Context, q *querier, prog *progressDisplay) (map[string][]string, bool, error) {
	t := prog.step("Credential report", 1)
	var lines []reportLine
	err := query(ctx, q, credentialReportSQL(r.Region), nil, func(l reportLine) error {
		lines = append(lines, l)
		return nil
	})
	t.done(err)
	if err != nil {
		return nil, false, fmt.Errorf("credential report: %w", err)
	}
	for _, in := range q.sess.Incomplete() {
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "credential report", Code: in.Code, Account: in.Account, Reason: in.Reason})
	}
	info := &CredentialReportInfo{}
	r.CredentialReport = info
	picked := map[string][]string{}
	for _, a := range r.Accounts {
		picked[a.ID] = []string{RootUserName}
	}
	for _, l := range lines {
		if l.GeneratedTime != nil && (info.GeneratedTime.IsZero() || l.GeneratedTime.Before(info.GeneratedTime)) {
			info.GeneratedTime = *l.GeneratedTime // the oldest, across accounts
		}
		if _, ok := picked[l.Account]; !ok {
			picked[l.Account] = []string{RootUserName}
		}
		if l.User == rootAccountUser {
			continue
		}
		info.Users++
		generated := r.GeneratedAt
		if l.GeneratedTime != nil {
			generated = *l.GeneratedTime
		}
		if r.candidate(l, generated) {
			picked[l.Account] = append(picked[l.Account], l.User)
		}
	}
	// Stale as of the report's own clock (the table's Stale column is
	// as of the machine's).
	info.Stale = r.GeneratedAt.Sub(info.GeneratedTime) > 4*time.Hour
	for _, users := range picked {
		info.Candidates += len(users)
	}
	if info.Candidates > maxCandidates {
		info.FellBack = true
		return nil, false, nil
	}
	return picked, true, nil
}

// restrictTo narrows the inventory statement's reading of access_keys
// to the picked users of each account: the rules then judge those users'
// keys, read live, exactly as a full scan would (a rule's window over a
// user's keys sees all of them).
func restrictTo(stmt, region string, picked map[string][]string) (string, error) {
	from := fmt.Sprintf("FROM access_keys WHERE region = '%s'", region)
	if strings.Count(stmt, from) != 1 {
		return "", fmt.Errorf("internal: the inventory statement does not read access_keys as %q once", from)
	}
	accounts := make([]string, 0, len(picked))
	for a := range picked {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	var ors []string
	for _, a := range accounts {
		users := slices.Clone(picked[a])
		slices.SortFunc(users, func(x, y string) int { return cmp.Compare(x, y) })
		quoted := make([]string, len(users))
		for i, u := range users {
			quoted[i] = sqlString(u)
		}
		ors = append(ors, fmt.Sprintf("(account_id = %s AND UserName IN (%s))", sqlString(a), strings.Join(quoted, ", ")))
	}
	if len(ors) == 0 {
		ors = []string{"FALSE"}
	}
	return strings.Replace(stmt, from, from+" AND ("+strings.Join(ors, " OR ")+")", 1), nil
}

// SourceNote says where the report's data came from and how old it is.
func (r *Report) SourceNote() string {
	info := r.CredentialReport
	if r.Source != SourceCredentialReport || info == nil {
		return "Source: every key read live from IAM at " + r.GeneratedAt.Format("2006-01-02 15:04 UTC") + "."
	}
	age := "under a minute"
	if d := r.GeneratedAt.Sub(info.GeneratedTime); d >= time.Minute {
		age = d.Round(time.Minute).String()
		age = strings.TrimSuffix(age, "0s")
	}
	stale := ""
	if info.Stale {
		stale = " (stale: more than 4 hours old)"
	}
	if info.FellBack {
		return fmt.Sprintf("Source: the credential report of %s%s picked %d of %d users, too many to confirm one by one, so every key was read live from IAM.",
			info.GeneratedTime.Format("2006-01-02 15:04 UTC"), stale, info.Candidates, info.Users)
	}
	return fmt.Sprintf("Source: the credential report generated %s (%s old)%s picked %d of %d users (the root user included) whose keys could match a finding; "+
		"their keys, findings and context were read live from IAM at %s. The inventory lists those users' keys only; keys created after the credential report are seen only for them.",
		info.GeneratedTime.Format("2006-01-02 15:04 UTC"), age, stale, info.Candidates, info.Users+1, r.GeneratedAt.Format("2006-01-02 15:04 UTC"))
}
