// Package oracle is iamsql's differential SQL oracle: it proves that every
// SELECT over users, access_keys, account_summary, the user-context tables
// (user_tags, mfa_devices, login_profiles, user_groups,
// user_attached_policies, user_policies) and credential_report answers what SQL
// semantics say over the whole account, whatever the plan go-mysql-server
// picks (pushdowns, lookup joins, hydration of the last-used columns), and
// that its IAM calls stay within the cost of full scans.
//
// In the manner of SQLancer and sqllogictest, a Generator produces random
// SELECTs — predicates of every kind on every column, hydrated columns in
// every clause, joins of every kind and order with and without hints,
// semi- and anti-joins, subqueries, derived tables, CTEs (one recursive),
// UNION, window functions, aggregates, LIMIT/OFFSET — each tagged with the
// shapes it covers. Every table reference pins region in its own scope (a
// WHERE conjunct; the ON clause for the nullable side of an outer join; a
// subquery's own WHERE); a few queries deliberately do not, or pin an
// invalid region, and iamsql must refuse those with an error naming region
// before any IAM call.
//
// Each query runs through iamsql against the IAM emulator (Target) and
// through a plain go-mysql-server memory database loaded with the same
// account (Oracle): for every region of Regions, one row per key of every
// IAM user plus the root user's keys when the caller is root, one row per
// user, one account_summary row, each user's tags, MFA devices, console
// password, groups and policies as the emulator answers them, and the
// credential report the emulator writes (random accounts give their users
// varied context: none, several tags, groups and policies, names that
// differ only by case; see addContext). The oracle's accounts run on a
// fixed clock, so the report's GeneratedTime is that clock and Stale is
// whether it is more than 4 hours before the wall clock. The answers must be equal as multisets,
// as sequences when the ORDER BY determines the order, and as a
// sub-multiset of the right size for a LIMIT the ORDER BY does not
// determine (Compare). A difference is printed with both answers, the
// account, and a shrunk form ready for `iamsql --sandbox exec` when the
// account is the demo one.
//
// The call bound: a statement may make at most FullScanCost IAM calls
// (ListUsers pages, one ListAccessKeys per user and one for the caller's
// own keys, one GetAccessKeyLastUsed per key, one GetAccountSummary, one
// identity call) per table reference and per partition its regions span,
// plus, per reference to a context table, ContextScanCost (its ListUsers
// pass, one listing and one GetUser per user; two calls for
// credential_report). Work repeated per outer row (a quadratic plan)
// exceeds it.
//
// The generator avoids what go-mysql-server v0.20.0 itself gets wrong, on
// both engines alike, so that a difference is iamsql's: GROUP_CONCAT in
// HAVING, a UNION's OFFSET (applied before its ORDER BY), joins comparing
// VARCHARs of different sizes, and the empty schema of a LIMIT 0.
// TestGeneratedQueriesDoNotDependOnRowOrderOrPlan holds the generator to
// that: its queries answer alike on a second oracle with shuffled rows and
// primary-key indexes.
//
// In org mode (AccountSpec.Org, make fuzz-sql ORACLE_ORG=1) the same
// queries run against iamsql spanning an emulated organization (see
// newOrgTarget): the oracle holds every readable account's rows with its
// account_id, and the accounts iamsql cannot read (role refused,
// throttled past its retries, suspended) must have no rows in any plan.
//
// TestDifferentialFixedSeed runs 3,000 queries on four accounts and one
// organization in go test; make fuzz-sql runs TestDifferentialCampaign
// (-oracle.queries=100000).
package oracle
