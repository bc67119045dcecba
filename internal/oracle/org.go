package oracle

import (
	"fmt"
	"time"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// The organization campaign (AccountSpec.Org): the same generated
// queries against iamsql in org mode over an emulated AWS Organization,
// and an oracle holding the rows of every account iamsql can read, each
// with its account_id. The organization is a management account (iamsql
// signs as its root user: its root keys are rows) and six members read
// through OrganizationAccountAccessRole:
//
//	member-1 … member-3  random accounts (RandomAccount), readable
//	member-4             its role removed: AssumeRole is refused
//	member-5             every IAM call throttled past its retry budget
//	member-6             SUSPENDED: org mode does not read it
//
// The last three must have no rows in any plan: a full scan, an
// account_id pushdown naming them, a join that looks up each user in each
// account; their ids are among the generator's account_id constants.
const orgMembers = 6

// orgMemberID is member i's account id (1-based).
func orgMemberID(i int) string { return fmt.Sprintf("2000000000%02d", i) }

// orgUnreadable are the members with no rows, by why.
var orgUnreadable = map[int]string{4: "role removed", 5: "throttled", 6: "suspended"}

// newOrgTarget builds the organization, iamsql in org mode over it (in
// process, as --sandbox --org reaches it) and the oracle.
func newOrgTarget(spec AccountSpec) (*Target, error) {
	now := func() time.Time { return Now }
	org, err := emulator.NewOrg(emulator.OrgOptions{Seed: "org:1x0", Now: now, RandSeed: int64(spec.Seed) + 1})
	if err != nil {
		return nil, err
	}
	mgmt := org.Management()
	if err := RandomAccount(spec.Seed).fill(mgmt); err != nil {
		return nil, err
	}
	rootKey, _ := mgmt.RootCredentials()
	snap, err := TakeSnapshot(mgmt, rootKey, true)
	if err != nil {
		return nil, err
	}
	snaps := []Snapshot{snap}
	full := FullScanCost(snap.State, 0)
	ctxScan := ContextScanCost(snap.State, 0)
	var unreadable []any
	for i := 1; i <= orgMembers; i++ {
		id := orgMemberID(i)
		e, err := org.AddAccount(emulator.AccountInfo{ID: id, Name: fmt.Sprintf("member-%d", i)},
			emulator.Options{RootAccessKeyID: "AKIAROOT" + id, RootSecretAccessKey: "orgOracleRootSecret" + id + "EXAMPLE00000000"})
		if err != nil {
			return nil, err
		}
		if err := RandomAccount(spec.Seed*31 + uint64(i)).fill(e); err != nil {
			return nil, err
		}
		switch orgUnreadable[i] {
		case "role removed":
			e.RemoveRole(emulator.DefaultOrgRole)
		case "throttled":
			e.SetThrottleRate(1)
		case "suspended":
			if err := org.SetAccountStatus(id, emulator.AccountSuspended); err != nil {
				return nil, err
			}
		}
		if orgUnreadable[i] != "" {
			unreadable = append(unreadable, id)
			continue
		}
		// Read through a role: the member's root keys are no rows.
		s, err := TakeSnapshot(e, "AKIAROOT"+id, false)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
		full += FullScanCost(s.State, 0)
		for table, n := range ContextScanCost(s.State, 0) {
			ctxScan[table] += n
		}
	}
	t := &Target{Spec: spec, Emu: mgmt, org: org}
	clients := sandbox.OrgClients(org, awsiam.Options{MaxBackoff: 5 * time.Millisecond})
	t.Engine = provider.NewEngine(provider.Config{Clients: clients, Concurrency: 16,
		Org: &provider.OrgConfig{AccountConcurrency: 4, MaxAttempts: 2, MaxBackoff: time.Millisecond}})
	t.Session = t.Engine.NewSession("oracle", "localhost")
	t.Snapshot, t.snapshots = snap, snaps
	if t.Oracle, err = buildOracle(snaps, 0, false); err != nil {
		return nil, err
	}
	// The unreadable accounts' ids are constants of account_id too.
	t.Oracle.Extra = map[string][]any{"account_id": unreadable}
	// One full scan of the organization: every readable account's, and
	// what org mode adds: ListAccounts, an AssumeRole per member, and the
	// unreadable members' refused calls (each tried within its budget).
	t.FullScan = full + 1 + 2*orgMembers + 4*len(orgUnreadable)
	t.ContextScan = ctxScan
	t.subject = t.IAMSQL
	org.ResetCalls()
	return t, nil
}

// orgCalls are the calls of every account of the organization, by
// operation.
func orgCalls(org *emulator.Org) map[string]int {
	out := map[string]int{}
	for _, a := range org.Accounts() {
		for op, n := range org.Account(a.ID).Calls() {
			out[op] += n
		}
	}
	return out
}
