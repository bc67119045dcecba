package report

import (
	"fmt"
	"maps"
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

// Rule is one kind of finding. Its decision is SQL, and only SQL: a
// condition on one row of the inventory relation (see inputs.relation).
// The report evaluates every rule's condition for every key in its one
// inventory statement; Rule.SQL wraps the same condition in a stand-alone
// statement for docs/reports.md and `iamsql exec`. The rest of a Rule is
// presentation: names, severity, remedy, the words a finding is told in.
type Rule struct {
	Name     string
	Title    string
	Short    string // a title for a summary card
	Severity Severity
	// Remedy says what to do about a finding.
	Remedy string
	// describe says what the rule flags, with its threshold.
	describe func(t Thresholds) string
	// where is the decision: an SQL condition on a row of the inventory
	// relation, given the thresholds and now, an SQL DATETIME expression
	// for the current UTC time.
	where func(t Thresholds, now string) string
	// orderBy names the relation's date column the rule's findings are
	// listed by, earliest first, then in the inventory's order; "" keeps
	// the inventory's order.
	orderBy string
	// graceColumn is the date a key's grace (Thresholds.GraceDays) runs
	// from for the rule: "" for none (root keys are never in grace).
	graceColumn string
	// readsLastUse says the condition reads the last-use columns: a key
	// whose last use IAM refused to tell has NULLs there that would read
	// as "never used", so such a key is not judged by the rule.
	readsLastUse bool
	// detail says what the finding is about one flagged row.
	detail func(r *Report, row inventoryRow) string
}

// Describe says what the rule flags with the given thresholds.
func (ru Rule) Describe(t Thresholds) string { return ru.describe(t.withDefaults()) }

// SQL is the stand-alone statement that lists the rule's findings, which
// `iamsql exec` runs as it is: the rule's condition on the inventory
// relation, with the clock UTC_TIMESTAMP() (IAM dates are UTC) and the
// account summary asked in the statement itself.
func (ru Rule) SQL(region string, t Thresholds) string {
	return ru.statement(asking(region), t.withDefaults())
}

// condition is the rule's decision with the thresholds: its own
// condition, and outside the grace period for new keys when there is one.
func (ru Rule) condition(t Thresholds, now string) string {
	c := ru.where(t, now)
	if t.GraceDays > 0 && ru.graceColumn != "" {
		c += " AND " + olderThan(ru.graceColumn, now, t.GraceDays)
	}
	return c
}

func (ru Rule) statement(in inputs, t Thresholds) string {
	order := inventoryOrder
	if ru.orderBy != "" {
		order = append([]string{ru.orderBy}, slices.DeleteFunc(slices.Clone(order), func(c string) bool { return c == ru.orderBy })...)
	}
	return in.relation() + "\n" +
		"SELECT UserName, AccessKeyId, Status, CreateDate, TIMESTAMPDIFF(DAY, CreateDate, " + in.now + ") AS AgeDays,\n" +
		"       LastUsedDate, LastUsedServiceName, account_id\n" +
		"FROM inventory\n" +
		"WHERE " + ru.condition(t, in.now) + "\n" +
		"ORDER BY " + strings.Join(order, ", ")
}

// inputs are what the rules' SQL takes from outside access_keys: the
// region, the clock, and whether GetAccountSummary reports root keys.
// Stand-alone statements ask for them in SQL (asking); the report hands in
// what it already knows as literals (Report.known), so its inventory
// statement asks IAM nothing twice and a test's clock is exact.
type inputs struct {
	region string
	now    string // a DATETIME expression
	// rootKeysReported is a relation of one column, account_id: the
	// accounts whose GetAccountSummary reports root keys
	// (AccountAccessKeysPresent = 1).
	rootKeysReported string
}

func asking(region string) inputs {
	if region == "" {
		region = DefaultRegion
	}
	return inputs{
		region:           region,
		now:              "UTC_TIMESTAMP()",
		rootKeysReported: fmt.Sprintf("SELECT account_id FROM account_summary WHERE region = '%s' AND AccountAccessKeysPresent = 1", region),
	}
}

// relation is the inventory relation the rules are decided on, as a CTE
// named inventory: every access key of the account — of every account,
// in org mode — (access_keys), with IdleSince (when the key was last used,
// or created when it never was), ActiveKeys (how many active keys its
// owner has in its account) and NewestActive (when the newest of them was
// created), plus one row without a key id for the root
// user of each account whose GetAccountSummary reports root keys that the
// caller cannot list (it is not that account's root user).
//
// The first branch keeps access_keys' own column order: go-mysql-server
// v0.20.0 pushes a WHERE on a UNION into its branches by column position,
// which tests the wrong column of a branch that reorders a table's
// columns. The NULL dates are typed so the union keeps its dates DATETIME.
func (in inputs) relation() string {
	return fmt.Sprintf(`WITH inventory AS (
  SELECT AccessKeyId, UserName, Status, CreateDate, region, LastUsedDate, LastUsedServiceName, LastUsedRegion, account_id,
         COALESCE(LastUsedDate, CreateDate) AS IdleSince,
         SUM(Status = 'Active') OVER (PARTITION BY account_id, UserName) AS ActiveKeys,
         MAX(CASE WHEN Status = 'Active' THEN CreateDate END) OVER (PARTITION BY account_id, UserName) AS NewestActive
  FROM access_keys WHERE region = '%[1]s'
  UNION ALL
  SELECT NULL, 'root', NULL, CAST(NULL AS DATETIME(6)), '%[1]s', CAST(NULL AS DATETIME(6)), NULL, NULL, reported.account_id, CAST(NULL AS DATETIME(6)), NULL, CAST(NULL AS DATETIME(6))
  FROM (%[2]s) reported
  WHERE NOT EXISTS (SELECT 1 FROM access_keys k WHERE k.region = '%[1]s' AND k.UserName = 'root' AND k.account_id = reported.account_id)
)`, in.region, in.rootKeysReported)
}

// inventoryOrder lists, account by account, the root user's keys first,
// then by owner and creation.
var inventoryOrder = []string{"account_id", "UserName <> 'root'", "LOWER(UserName)", "UserName", "CreateDate", "AccessKeyId"}

// inventoryStatement reads the inventory relation with one boolean column
// per rule, named by the rule: its condition on the row.
func inventoryStatement(in inputs, t Thresholds) string {
	var b strings.Builder
	b.WriteString(in.relation())
	b.WriteString("\nSELECT inventory.*")
	for _, ru := range Rules {
		fmt.Fprintf(&b, ",\n  (%s) AS `%s`", ru.condition(t, in.now), ru.Name)
	}
	b.WriteString("\nFROM inventory\nORDER BY " + strings.Join(inventoryOrder, ", "))
	return b.String()
}

// InventorySQL is the statement the report reads the account with, as it
// runs stand-alone (the report itself hands in the clock and the account
// summary's answer as literals).
func InventorySQL(region string, t Thresholds) string {
	return inventoryStatement(asking(region), t.withDefaults())
}

// iamUsersOnly starts the condition of every rule about IAM users' keys:
// the root user's keys have a rule of their own.
const iamUsersOnly = "UserName <> 'root' AND "

// olderThan is "the date is more than n days before now".
func olderThan(column, now string, n int) string {
	return fmt.Sprintf("%s < %s - INTERVAL %d DAY", column, now, n)
}

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
		where: func(Thresholds, string) string { return "UserName = 'root'" },
		detail: func(r *Report, row inventoryRow) string {
			k := row.Key
			if k.AccessKeyID == "" {
				return "GetAccountSummary reports root access keys (AccountAccessKeysPresent = 1); " + r.rootNoteFor(k.Account)
			}
			detail := "root access key, " + strings.ToLower(k.Status)
			if k.LastUsedDate == nil {
				return detail + ", never used"
			}
			return detail + ", last used " + daysAgo(days(r.GeneratedAt.Sub(row.IdleSince)))
		},
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
		where: func(t Thresholds, now string) string {
			return iamUsersOnly + "Status = 'Active' AND " + olderThan("CreateDate", now, t.MaxKeyAge)
		},
		orderBy:     "CreateDate",
		graceColumn: "CreateDate",
		detail: func(r *Report, row inventoryRow) string {
			return fmt.Sprintf("%d days old", row.AgeDays(r.GeneratedAt))
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
		where: func(t Thresholds, now string) string {
			return iamUsersOnly + "Status = 'Active' AND " + olderThan("IdleSince", now, t.MaxUnused)
		},
		orderBy:      "IdleSince",
		graceColumn:  "CreateDate",
		readsLastUse: true,
		detail: func(r *Report, row inventoryRow) string {
			if row.LastUsedDate == nil {
				return fmt.Sprintf("never used (created %d days ago)", row.AgeDays(r.GeneratedAt))
			}
			return "last used " + daysAgo(days(r.GeneratedAt.Sub(row.IdleSince)))
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
		where: func(Thresholds, string) string {
			return iamUsersOnly + "Status = 'Active' AND ActiveKeys > 1"
		},
		graceColumn: "NewestActive", // a rotation under way
		detail: func(_ *Report, row inventoryRow) string {
			return fmt.Sprintf("%s has %d active keys", row.UserName, row.ActiveKeys)
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
		where: func(t Thresholds, now string) string {
			return iamUsersOnly + "Status = 'Inactive' AND " + olderThan("CreateDate", now, t.MaxInactiveAge)
		},
		orderBy:     "CreateDate",
		graceColumn: "CreateDate",
		detail: func(r *Report, row inventoryRow) string {
			return fmt.Sprintf("inactive, %d days old", row.AgeDays(r.GeneratedAt))
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

// LookupRule finds a kind of finding by name: a rule, or the policy's
// expired-exemptions.
func LookupRule(name string) (Rule, bool) {
	for _, ru := range kinds() {
		if ru.Name == name {
			return ru, true
		}
	}
	return Rule{}, false
}

// KindNames lists the names of every kind of finding, in order.
func KindNames() []string {
	var out []string
	for _, ru := range kinds() {
		out = append(out, ru.Name)
	}
	return out
}

// RuleNames lists the rules' names in order.
func RuleNames() []string {
	out := make([]string, len(Rules))
	for i, ru := range Rules {
		out[i] = ru.Name
	}
	return out
}

// inventoryRow is one row of the inventory statement.
type inventoryRow struct {
	Key
	Region       string     `sql:"region"` // the relation keeps access_keys' columns
	IdleSince    time.Time  `sql:"IdleSince"`
	ActiveKeys   int        `sql:"ActiveKeys"`
	NewestActive *time.Time `sql:"NewestActive"`
	// Flagged holds each rule's condition on the row, by rule name.
	Flagged map[string]bool `sql:"*"`
}

// judge lists the findings of every rule in the inventory's rows: the
// rows whose rule column is true, listed by the rule's orderBy column.
func (r *Report) judge(rows []inventoryRow) ([]Finding, error) {
	var out []Finding
	for _, ru := range Rules {
		var found []inventoryRow
		for _, row := range rows {
			flagged, ok := row.Flagged[ru.Name]
			if !ok || len(row.Flagged) != len(Rules) {
				return nil, fmt.Errorf("the inventory's rule columns %v are not the rules %v", slices.Sorted(maps.Keys(row.Flagged)), RuleNames())
			}
			if flagged && !(ru.readsLastUse && row.LastUsedUnknown) {
				found = append(found, row)
			}
		}
		if ru.orderBy != "" {
			if err := sortByColumn(found, ru.orderBy); err != nil {
				return nil, fmt.Errorf("rule %s: %w", ru.Name, err)
			}
		}
		for _, row := range found {
			out = append(out, Finding{Rule: ru.Name, Severity: ru.Severity, Key: row.Key, Detail: ru.detail(r, row)})
		}
	}
	return out, nil
}

// sortByColumn orders rows by the date they hold in a column, keeping the
// order of equal ones.
func sortByColumn(rows []inventoryRow, column string) error {
	get, err := columnOf[inventoryRow](column)
	if err != nil {
		return err
	}
	type dated struct {
		date time.Time
		row  inventoryRow
	}
	byDate := make([]dated, len(rows))
	for i := range rows {
		d, ok := get(&rows[i]).(time.Time)
		if !ok {
			return fmt.Errorf("findings are ordered by a date, and %s is a %T", column, get(&rows[i]))
		}
		byDate[i] = dated{d, rows[i]}
	}
	slices.SortStableFunc(byDate, func(a, b dated) int { return a.date.Compare(b.date) })
	for i, d := range byDate {
		rows[i] = d.row
	}
	return nil
}
