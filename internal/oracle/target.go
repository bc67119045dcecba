package oracle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// Target is one account under test: the emulator, iamsql over it, and the
// oracle loaded with the same account.
type Target struct {
	Spec    AccountSpec
	Emu     *emulator.Emulator
	Engine  *provider.Engine
	Session *provider.Session
	Oracle  *Oracle
	// Snapshot is what the oracle was loaded from (in org mode, the
	// management account's; snapshots are every readable account's).
	Snapshot  Snapshot
	snapshots []Snapshot
	// FullScan is the IAM calls of one full scan of every table in one
	// partition (see FullScanCost).
	FullScan int
	// ContextScan is, by table, what a reference to a context table or
	// credential_report adds to FullScan (see ContextScanCost).
	ContextScan map[string]int
	server      *emulator.Server
	// sent counts the requests iamsql wrote to the emulator over HTTP
	// since the last ResetCalls (nil in process).
	sent *sentCounter
	// subject answers the queries under test: iamsql (IAMSQL), or in the
	// generator's self-test a second oracle.
	subject func(string) Outcome
	// org is the organization of an org campaign (Emu is then its
	// management account); calls are counted across its accounts.
	org *emulator.Org
}

// QueryTimeout bounds one statement on iamsql.
var QueryTimeout = 30 * time.Second

// OrgTimeoutFactor multiplies QueryTimeout for an organization, whose
// tables hold four accounts' rows: a join go-mysql-server plans as nested
// loops over them (a three-way join on UserName with region IN lists) does
// 16 to 64 times the work it does over one account — 4 s alone on the
// 2-core machine of the campaign, past 30 s while other work loads it.
// The timeout is a ceiling for a hang, not a speed target.
const OrgTimeoutFactor = 4

// NewTarget builds the account, iamsql over it and the oracle.
func NewTarget(spec AccountSpec) (*Target, error) {
	if spec.Org {
		return newOrgTarget(spec)
	}
	emu, err := spec.NewEmulator()
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", spec.Name(), err)
	}
	t := &Target{Spec: spec, Emu: emu}
	var clients *awsiam.Clients
	signer, _ := emu.RootCredentials()
	if spec.CallerUser {
		key := callerKey(emu.Snapshot())
		signer = key.AccessKeyID
		srv, err := emu.Listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		t.server = srv
		httpClient := emulator.NewHTTPClient()
		t.sent = &sentCounter{next: httpClient.Transport}
		httpClient.Transport = t.sent
		clients = awsiam.NewClients(awsiam.Options{
			EndpointURL: srv.URL,
			MaxBackoff:  5 * time.Millisecond,
			Config: &aws.Config{
				Region:      "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, ""),
				HTTPClient:  httpClient,
			},
		})
	} else {
		clients = sandbox.Clients(emu, awsiam.Options{MaxBackoff: 5 * time.Millisecond})
	}
	t.Engine = provider.NewEngine(provider.Config{Clients: clients, Concurrency: 16, PageSize: spec.PageSize})
	t.Session = t.Engine.NewSession("oracle", "localhost")
	if spec.CallerUser {
		// Signing records the use of the caller's key (GetAccessKeyLastUsed
		// then reports it): make that happen before the snapshot, in the
		// only partition this account's queries touch.
		if out := t.IAMSQL("SELECT COUNT(*) FROM account_summary WHERE region = 'us-east-1'"); out.Err != nil {
			t.Close()
			return nil, fmt.Errorf("account %s: first call: %w", spec.Name(), out.Err)
		}
	}
	snap, err := TakeSnapshot(emu, signer, !spec.CallerUser)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Snapshot, t.snapshots = snap, []Snapshot{snap}
	t.Oracle, err = NewOracle(snap)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.FullScan = FullScanCost(snap.State, spec.PageSize)
	t.ContextScan = ContextScanCost(snap.State, spec.PageSize)
	t.subject = t.IAMSQL
	emu.ResetCalls()
	return t, nil
}

// Regions is the region universe of this account's queries. A caller
// that signs over HTTP records its key's last use with the partition's
// signing region, so such accounts stay in the aws partition (the
// sandbox's in-process calls always record us-east-1).
func (t *Target) Regions() []string {
	if t.Spec.CallerUser {
		return Regions[:3]
	}
	return Regions
}

// Close stops the emulator's HTTP server, if any.
func (t *Target) Close() {
	if t.server != nil {
		_ = t.server.Close()
	}
}

// IAMSQL runs one statement through iamsql and counts the IAM calls the
// emulator received for it.
func (t *Target) IAMSQL(query string) (out Outcome) {
	t.settle()
	if t.org != nil {
		t.org.ResetCalls()
	} else {
		t.Emu.ResetCalls()
	}
	if t.sent != nil {
		t.sent.n.Store(0)
	}
	defer func() {
		t.settle()
		if t.org != nil {
			out.Calls = orgCalls(t.org)
		} else {
			out.Calls = t.Emu.Calls()
		}
	}()
	timeout := QueryTimeout
	if t.org != nil {
		timeout *= OrgTimeoutFactor
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := t.Engine.Query(ctx, t.Session, query)
	if err != nil {
		return Outcome{Err: err}
	}
	out.Columns = columnNames(res.Schema)
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Err = err
			break
		}
		out.Rows = append(out.Rows, NormalizeRow(row))
	}
	if err := res.Close(); err != nil && out.Err == nil {
		out.Err = err
	}
	if out.Err != nil {
		out.Rows = nil
	}
	return out
}

// settle waits until the emulator has taken every request iamsql wrote
// to it. A statement that stops early (a LIMIT, EXISTS) cancels its calls
// in flight and returns; a request already written still reaches the
// server, a moment later, and belongs to that statement, not the next.
func (t *Target) settle() {
	if t.sent == nil {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for t.Emu.TotalCalls() < int(t.sent.n.Load()) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// sentCounter counts the requests written in full to the emulator.
type sentCounter struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *sentCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			c.n.Add(1)
		}
	}}
	return c.next.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// FullScanCost is the IAM calls of a full scan of users, access_keys and
// account_summary in one partition: ListUsers pages, one ListAccessKeys
// pass per user (pages), one for the caller's own keys, one
// GetAccessKeyLastUsed per key, one GetAccountSummary and one identity
// call. A statement may make at most this many calls per table reference
// and partition it touches, plus ContextScanCost for each reference to a
// context table or credential_report (CallBound): a join, a subquery or a
// region IN list may repeat work, never multiply it.
func FullScanCost(st emulator.State, pageSize int32) int {
	ps := pageSizeOf(pageSize)
	perUser := map[string]int{}
	for _, k := range st.Keys {
		perUser[k.UserName]++
	}
	cost := pages(len(st.Users), ps)
	for _, u := range st.Users {
		cost += pages(perUser[u.UserName], ps)
	}
	cost += pages(perUser[emulator.RootUserName], ps)
	cost += len(st.Keys)
	cost += 1 + 1
	return cost
}

func pageSizeOf(pageSize int32) int {
	if pageSize <= 0 {
		return 100
	}
	return int(pageSize)
}

func pages(n, ps int) int { return max(1, (n+ps-1)/ps) }

// ContextScanCost is, by table, the IAM calls of a full scan of each
// table listed per user (provider/usercontext.go) in one partition: its
// ListUsers pages, the user's listing (all pages; GetLoginProfile is one
// call) and the GetUser a UserName lookup asks first (once per user and
// statement), for every user; and credential_report's
// GenerateCredentialReport and GetCredentialReport (the oracle's
// accounts make their report at once).
func ContextScanCost(st emulator.State, pageSize int32) map[string]int {
	ps := pageSizeOf(pageSize)
	out := map[string]int{schema.CredentialReport.Name: 2}
	for _, tbl := range contextTables {
		cost := pages(len(st.Users), ps)
		for _, u := range st.Users {
			cost += pages(contextItems(tbl, u), ps) + 1
		}
		out[tbl] = cost
	}
	return out
}

// contextItems is how many rows a user has in a table listed per user.
func contextItems(table string, u emulator.User) int {
	switch table {
	case schema.UserTags.Name:
		return len(u.Tags)
	case schema.MFADevices.Name:
		return len(u.MFADevices)
	case schema.LoginProfiles.Name:
		return 0 // one call, whatever the answer
	case schema.UserGroups.Name:
		return len(u.Groups)
	case schema.UserAttachedPolicies.Name:
		return len(u.AttachedPolicies)
	case schema.UserPolicies.Name:
		return len(u.InlinePolicies)
	}
	return 0
}

// CallBound is the most IAM calls a query may make: the full-scan cost for
// each table reference and each partition its regions span, plus the
// context scan of each reference to a context table.
func (t *Target) CallBound(q *Query) int {
	b := max(1, q.Refs) * t.FullScan
	for table, n := range q.TableRefs {
		b += n * t.ContextScan[table]
	}
	return q.Partitions * b
}
