package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Severity ranks findings for the reader.
type Severity string

// The severities, most urgent first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Rule is one kind of finding: the name the command line selects it by,
// what it means and what to do, the stand-alone SQL that expresses it, and
// the same test applied to the inventory a report fetched once.
type Rule struct {
	Name     string
	Title    string
	Short    string // a title for a summary card
	Severity Severity
	// Remedy says what to do about a finding.
	Remedy string
	// describe says what the rule flags, with its threshold.
	describe func(t Thresholds) string
	// sql is the rule as one statement (region, thresholds filled in).
	sql func(region string, t Thresholds) string
	// find picks the rule's findings from a report's inventory.
	find func(r *Report) []Finding
}

// Describe says what the rule flags with the given thresholds.
func (ru Rule) Describe(t Thresholds) string { return ru.describe(t.withDefaults()) }

// SQL is the stand-alone statement that lists the rule's findings, which
// `iamsql exec` runs as it is. Dates are compared with UTC_TIMESTAMP()
// because IAM dates are UTC.
func (ru Rule) SQL(region string, t Thresholds) string {
	if region == "" {
		region = DefaultRegion
	}
	return ru.sql(region, t.withDefaults())
}

// joinFrom is the inventory join every user-key rule starts from.
const joinFrom = "FROM users u JOIN access_keys k ON k.UserName = u.UserName\n" +
	"WHERE u.region = '%[1]s' AND k.region = '%[1]s'\n"

// Rules are the findings a report looks for, most urgent first.
var Rules = []Rule{
	{
		Name:     "root-keys",
		Short:    "Root keys",
		Title:    "Root user access keys",
		Severity: Critical,
		Remedy: "Delete the root user's access keys; use IAM users or roles for programmatic access. " +
			"Only the root user can list or delete them: sign in as root.",
		describe: func(Thresholds) string {
			return "The account's root user has access keys (any status). Root keys cannot be restricted by IAM policies."
		},
		sql: func(region string, _ Thresholds) string {
			return fmt.Sprintf("SELECT AccountAccessKeysPresent FROM account_summary WHERE region = '%[1]s';\n"+
				"-- with root credentials (IAM lists the caller's own keys when no UserName is given):\n"+
				"SELECT UserName, AccessKeyId, Status, CreateDate, LastUsedDate FROM access_keys WHERE region = '%[1]s'", region)
		},
		find: nil, // see findAll: it also needs the summary's answer
	},
	{
		Name:     "old-keys",
		Short:    "Old keys",
		Title:    "Active keys older than the rotation limit",
		Severity: High,
		Remedy:   "Rotate: create a new key, move its users to it, deactivate the old key, then delete it.",
		describe: func(t Thresholds) string {
			return fmt.Sprintf("Active keys created more than %d days ago (--max-key-age).", t.MaxKeyAge)
		},
		sql: func(region string, t Thresholds) string {
			return fmt.Sprintf("SELECT u.UserName, k.AccessKeyId, k.CreateDate, TIMESTAMPDIFF(DAY, k.CreateDate, UTC_TIMESTAMP()) AS AgeDays\n"+
				joinFrom+
				"  AND k.Status = 'Active' AND k.CreateDate < UTC_TIMESTAMP() - INTERVAL %[2]d DAY\n"+
				"ORDER BY k.CreateDate", region, t.MaxKeyAge)
		},
		find: func(r *Report) []Finding {
			cut := r.cutoff(r.Thresholds.MaxKeyAge)
			return r.userKeys("old-keys", func(k Key) (string, bool) {
				return fmt.Sprintf("%d days old", k.AgeDays(r.GeneratedAt)), k.Active() && k.CreateDate.Before(cut)
			}, func(k Key) time.Time { return k.CreateDate })
		},
	},
	{
		Name:     "unused-keys",
		Short:    "Unused keys",
		Title:    "Active keys not used recently",
		Severity: Medium,
		Remedy:   "Deactivate keys nobody uses (and delete them once nothing breaks); an unused key is risk without benefit.",
		describe: func(t Thresholds) string {
			return fmt.Sprintf("Active keys not used in the last %[1]d days (--max-unused), including keys never used "+
				"that were created more than %[1]d days ago.", t.MaxUnused)
		},
		sql: func(region string, t Thresholds) string {
			return fmt.Sprintf("SELECT u.UserName, k.AccessKeyId, k.CreateDate, k.LastUsedDate, k.LastUsedServiceName\n"+
				joinFrom+
				"  AND k.Status = 'Active'\n"+
				"  AND (k.LastUsedDate < UTC_TIMESTAMP() - INTERVAL %[2]d DAY\n"+
				"       OR (k.LastUsedDate IS NULL AND k.CreateDate < UTC_TIMESTAMP() - INTERVAL %[2]d DAY))\n"+
				"ORDER BY COALESCE(k.LastUsedDate, k.CreateDate)", region, t.MaxUnused)
		},
		find: func(r *Report) []Finding {
			cut := r.cutoff(r.Thresholds.MaxUnused)
			return r.userKeys("unused-keys", func(k Key) (string, bool) {
				if !k.Active() || k.LastUsedUnknown {
					return "", false
				}
				if k.LastUsedDate == nil {
					return fmt.Sprintf("never used (created %d days ago)", k.AgeDays(r.GeneratedAt)), k.CreateDate.Before(cut)
				}
				return "last used " + daysAgo(k.IdleDays(r.GeneratedAt)), k.LastUsedDate.Before(cut)
			}, func(k Key) time.Time {
				if k.LastUsedDate != nil {
					return *k.LastUsedDate
				}
				return k.CreateDate
			})
		},
	},
	{
		Name:     "two-active-keys",
		Short:    "Two active keys",
		Title:    "Users with two active keys",
		Severity: Medium,
		Remedy: "Finish the rotation: deactivate and delete the key that is no longer in use " +
			"(compare the last-used dates). A user normally needs one active key.",
		describe: func(Thresholds) string {
			return "IAM users with two active access keys, usually a rotation left half done. One row per key."
		},
		sql: func(region string, _ Thresholds) string {
			return fmt.Sprintf("SELECT u.UserName, COUNT(*) AS ActiveKeys,\n"+
				"       GROUP_CONCAT(k.AccessKeyId ORDER BY k.AccessKeyId SEPARATOR ', ') AS AccessKeyIds\n"+
				joinFrom+
				"  AND k.Status = 'Active'\n"+
				"GROUP BY u.UserName HAVING COUNT(*) > 1", region)
		},
		find: func(r *Report) []Finding {
			active := map[string]int{}
			for _, k := range r.Keys {
				if !k.Root() && k.Active() {
					active[k.UserName]++
				}
			}
			return r.userKeys("two-active-keys", func(k Key) (string, bool) {
				n := active[k.UserName]
				return fmt.Sprintf("%s has %d active keys", k.UserName, n), k.Active() && n > 1
			}, nil)
		},
	},
	{
		Name:     "inactive-keys",
		Short:    "Inactive keys",
		Title:    "Inactive keys left behind",
		Severity: Low,
		Remedy:   "Delete inactive keys that are no longer needed; an inactive key can be re-activated by anyone allowed to.",
		describe: func(t Thresholds) string {
			return fmt.Sprintf("Inactive keys created more than %d days ago (--max-inactive-age).", t.MaxInactiveAge)
		},
		sql: func(region string, t Thresholds) string {
			return fmt.Sprintf("SELECT u.UserName, k.AccessKeyId, k.CreateDate, TIMESTAMPDIFF(DAY, k.CreateDate, UTC_TIMESTAMP()) AS AgeDays\n"+
				joinFrom+
				"  AND k.Status = 'Inactive' AND k.CreateDate < UTC_TIMESTAMP() - INTERVAL %[2]d DAY\n"+
				"ORDER BY k.CreateDate", region, t.MaxInactiveAge)
		},
		find: func(r *Report) []Finding {
			cut := r.cutoff(r.Thresholds.MaxInactiveAge)
			return r.userKeys("inactive-keys", func(k Key) (string, bool) {
				return fmt.Sprintf("inactive, %d days old", k.AgeDays(r.GeneratedAt)), !k.Active() && k.CreateDate.Before(cut)
			}, func(k Key) time.Time { return k.CreateDate })
		},
	},
}

func daysAgo(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", n)
}

// LookupRule finds a rule by name.
func LookupRule(name string) (Rule, bool) {
	for _, ru := range Rules {
		if ru.Name == name {
			return ru, true
		}
	}
	return Rule{}, false
}

// RuleNames lists the rules' names in order.
func RuleNames() []string {
	out := make([]string, len(Rules))
	for i, ru := range Rules {
		out[i] = ru.Name
	}
	return out
}

// cutoff is the instant a key date must be before to be more than n days
// old (the SQL's UTC_TIMESTAMP() - INTERVAL n DAY).
func (r *Report) cutoff(n int) time.Time { return r.GeneratedAt.AddDate(0, 0, -n) }

// userKeys applies a test to the IAM users' keys (root keys have a rule
// of their own), ordering the findings by order (oldest first), then user.
func (r *Report) userKeys(rule string, test func(Key) (string, bool), order func(Key) time.Time) []Finding {
	var out []Finding
	for _, k := range r.Keys {
		if k.Root() {
			continue
		}
		if detail, ok := test(k); ok {
			out = append(out, Finding{Rule: rule, Key: k, Detail: detail})
		}
	}
	if order != nil {
		slices.SortStableFunc(out, func(a, b Finding) int {
			return cmp.Or(order(a.Key).Compare(order(b.Key)), cmp.Compare(strings.ToLower(a.Key.UserName), strings.ToLower(b.Key.UserName)))
		})
	}
	return out
}

// findAll applies every rule. rootNote, when set, says why root keys the
// account summary reports could not be listed.
func findAll(r *Report, rootNote string) []Finding {
	var out []Finding
	for _, ru := range Rules {
		if ru.find != nil {
			out = append(out, ru.find(r)...)
			continue
		}
		// root-keys
		found := false
		for _, k := range r.Keys {
			if k.Root() {
				found = true
				detail := "root access key, " + strings.ToLower(k.Status)
				if k.LastUsedDate != nil {
					detail += ", last used " + daysAgo(k.IdleDays(r.GeneratedAt))
				} else {
					detail += ", never used"
				}
				out = append(out, Finding{Rule: ru.Name, Key: k, Detail: detail})
			}
		}
		if !found && r.RootKeysPresent != nil && *r.RootKeysPresent {
			out = append(out, Finding{Rule: ru.Name, Key: Key{Account: r.Account, UserName: RootUserName},
				Detail: "GetAccountSummary reports root access keys (AccountAccessKeysPresent = 1); " + rootNote})
		}
	}
	return out
}
