package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy is what a team decides about findings beyond the thresholds:
// severities of its own, and exemptions. It comes from the report section
// of the configuration file (internal/config); flags override parts of it.
type Policy struct {
	// Severities overrides rules' severities, by rule name.
	Severities map[string]Severity
	// Exemptions accept findings for a reason until a date.
	Exemptions []Exemption
	// Controls limits the controls shown (and, on the command line, the
	// findings selected) to some framework versions; nil shows all.
	Controls ControlFilter
}

// Exemption accepts the findings about a key, a user, or the users with a
// tag, for a reason, until it expires. Exempted findings are still
// reported, marked as exempted; they do not fail a --fail-on gate. An
// expired exemption is itself a finding (expired-exemptions).
type Exemption struct {
	// What it covers: exactly one of AccessKeyID, UserName, Tag.
	AccessKeyID string
	UserName    string
	Tag         *Tag
	// Account limits it to one account (org mode); "" is every account.
	Account string
	// Findings limits it to some rules; empty is every rule.
	Findings []string
	Reason   string
	// Expires is the last day it holds (UTC): it lapses at the end of it.
	Expires time.Time
	// Origin says where it was written, e.g. "config.yaml line 12".
	Origin string
}

// Tag is a user tag an exemption matches (IAM's ListUserTags).
type Tag struct{ Key, Value string }

// Subject says what the exemption covers, as a reader would.
func (e Exemption) Subject() string {
	var s string
	switch {
	case e.AccessKeyID != "":
		s = "key " + e.AccessKeyID
	case e.UserName != "":
		s = "user " + e.UserName
	case e.Tag != nil:
		s = "users tagged " + e.Tag.Key + "=" + e.Tag.Value
	}
	if e.Account != "" {
		s += " in account " + e.Account
	}
	if len(e.Findings) > 0 {
		s += " (" + strings.Join(e.Findings, ", ") + ")"
	}
	return s
}

// expiredAt reports whether the exemption has lapsed at now: it holds
// through its Expires day, UTC.
func (e Exemption) expiredAt(now time.Time) bool {
	return !now.Before(e.Expires.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
}

// covers reports whether the exemption applies to a finding, given the
// tags of the finding's user (by key).
func (e Exemption) covers(f Finding, tags map[string]string) bool {
	if len(e.Findings) > 0 && !slices.Contains(e.Findings, f.Rule) {
		return false
	}
	if e.Account != "" && e.Account != f.Key.Account {
		return false
	}
	switch {
	case e.AccessKeyID != "":
		return f.Key.AccessKeyID == e.AccessKeyID // exactly: ids are case-sensitive
	case e.UserName != "":
		return f.Key.UserName == e.UserName // exactly: never bob for bobby
	case e.Tag != nil:
		v, ok := tags[e.Tag.Key]
		return ok && v == e.Tag.Value
	}
	return false
}

// Check refuses an exemption no report could apply.
func (e Exemption) Check() error {
	n := 0
	for _, set := range []bool{e.AccessKeyID != "", e.UserName != "", e.Tag != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("an exemption names exactly one of access_key_id, user or user_tag")
	}
	if strings.TrimSpace(e.Reason) == "" {
		return fmt.Errorf("an exemption needs a reason")
	}
	if e.Expires.IsZero() {
		return fmt.Errorf("an exemption needs an expiry date (expires: YYYY-MM-DD)")
	}
	for _, name := range e.Findings {
		if _, ok := LookupRule(name); !ok || name == ExpiredExemptions.Name {
			return fmt.Errorf("an exemption names an unknown finding %q (one of %s)", name, strings.Join(RuleNames(), ", "))
		}
	}
	return nil
}

// ExpiredExemptions is the policy's own finding: an exemption past its
// date. It is not a condition on a key, so it has no SQL.
var ExpiredExemptions = Rule{
	Name:     "expired-exemptions",
	Short:    "Expired exemptions",
	Title:    "Exemptions past their expiry date",
	Severity: Medium,
	Remedy: "Fix what the exemption covered, or renew it with a new date and reason in the report policy; " +
		"meanwhile the findings it covered count again.",
	describe: func(Thresholds) string {
		return "Exemptions in the report policy whose expiry date has passed; the findings they covered are no longer exempted."
	},
}

// kinds are every kind of finding: the rules, then the policy's own.
func kinds() []Rule { return append(slices.Clone(Rules), ExpiredExemptions) }

// SeverityOf is a rule's severity under the report's policy.
func (r *Report) SeverityOf(rule string) Severity {
	if s, ok := r.Policy.Severities[rule]; ok {
		return s
	}
	ru, _ := LookupRule(rule)
	return ru.Severity
}

// Severities lists the severities, most urgent first.
var Severities = []Severity{Critical, High, Medium, Low}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	sev := Severity(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Severities, sev) {
		return sev, nil
	}
	return "", fmt.Errorf("unknown severity %q (choose critical, high, medium or low)", s)
}

// AtLeast reports whether s is as urgent as min or more.
func (s Severity) AtLeast(min Severity) bool {
	return slices.Index(Severities, s) <= slices.Index(Severities, min)
}

// applyPolicy gives each finding its severity and controls, marks those
// an exemption in force covers, and adds a finding per expired exemption.
// Tag exemptions need the tags of the flagged users: they are read in one
// statement (user_tags, narrowed to those users) only when one is in force.
func (r *Report) applyPolicy(ctx context.Context, q *querier) error {
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Severity = r.SeverityOf(f.Rule)
		f.Controls = ControlsOf(f.Rule, r.Policy.Controls)
	}
	var inForce []*Exemption
	var expired []Finding
	byKey := map[string]Key{}
	for _, k := range r.Keys {
		byKey[k.AccessKeyID] = k
	}
	needTags := false
	for i := range r.Policy.Exemptions {
		e := &r.Policy.Exemptions[i]
		if !e.expiredAt(r.GeneratedAt) {
			inForce = append(inForce, e)
			needTags = needTags || e.Tag != nil
			continue
		}
		k, ok := byKey[e.AccessKeyID]
		if !ok {
			k = Key{Account: e.Account, UserName: e.UserName, AccessKeyID: e.AccessKeyID}
			if k.Account == "" {
				k.Account = r.Account // the account the report ran in
			}
			if k.UserName == "" && e.Tag != nil {
				k.UserName = "tag:" + e.Tag.Key + "=" + e.Tag.Value
			}
		}
		expired = append(expired, Finding{
			Rule: ExpiredExemptions.Name, Severity: r.SeverityOf(ExpiredExemptions.Name), Key: k,
			Detail: fmt.Sprintf("the exemption of %s (%s) expired at the end of %s: %s", e.Subject(), e.Origin, e.Expires.Format(time.DateOnly), e.Reason),
		})
	}
	var tags map[string]map[string]string // account/user → tag key → value
	if needTags {
		var err error
		if tags, err = r.flaggedUsersTags(ctx, q); err != nil {
			return err
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		for _, e := range inForce {
			if e.covers(*f, tags[f.Key.Account+"/"+f.Key.UserName]) {
				f.Exemption = e
				break
			}
		}
	}
	r.Findings = append(r.Findings, expired...)
	return nil
}

// flaggedUsersTags are the tags of the users with findings, by
// account/user: from the owners' context where it was read, else read
// from user_tags (readTags), so an exemption by tag costs at most one
// ListUserTags per flagged user, not per user, and none more when the
// context already asked.
func (r *Report) flaggedUsersTags(ctx context.Context, q *querier) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var unread []string
	for _, f := range r.Findings {
		k := f.Key
		if k.Root() {
			continue
		}
		id := k.Account + "/" + k.UserName
		if _, ok := out[id]; ok {
			continue
		}
		if k.Context != nil {
			out[id] = k.Context.tags
			continue
		}
		if !slices.Contains(unread, k.UserName) {
			unread = append(unread, k.UserName)
		}
	}
	read, err := r.readTags(ctx, q, unread)
	for id, t := range read {
		if _, ok := out[id]; !ok {
			out[id] = t
		}
	}
	return out, err
}

// readTags reads the tags of the named users (user_tags), by account/user.
func (r *Report) readTags(ctx context.Context, q *querier, users []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if len(users) == 0 {
		return out, nil
	}
	quoted := make([]string, len(users))
	for i, u := range users {
		quoted[i] = "'" + strings.ReplaceAll(u, "'", "''") + "'" // user names are [\w+=,.@-]: no quote
	}
	type tagRow struct {
		UserName, TagKey, TagValue string
		Account                    string `sql:"account_id"`
	}
	stmt := fmt.Sprintf("SELECT UserName, TagKey, TagValue, account_id FROM user_tags WHERE region = '%s' AND UserName IN (%s)",
		r.Region, strings.Join(quoted, ", "))
	err := query(ctx, q, stmt, nil, func(row tagRow) error {
		k := row.Account + "/" + row.UserName
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		out[k][row.TagKey] = row.TagValue
		return nil
	})
	// Users whose tags could not be read: their findings stay unexempted
	// by tag, and the report says why.
	for _, in := range q.sess.Incomplete() {
		r.Incomplete = append(r.Incomplete, Incomplete{Source: "user tags", Code: in.Code, Account: in.Account, UserName: in.UserName,
			Reason: "the user's tags could not be read, so exemptions by tag do not cover its findings: " + in.Reason})
	}
	if err != nil {
		return nil, fmt.Errorf("user tags (for the exemptions by tag): %w", err)
	}
	return out, nil
}
