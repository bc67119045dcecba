// Package provider turns iamsql's declarative resources (package schema)
// into a go-mysql-server database: virtual tables whose SQL verbs call IAM,
// stored procedures for the methods SQL has no verb for, a parser front-end
// that accepts StackQL's names and EXEC, and the engine the shell, exec and
// the MySQL server share.
package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/iamsql/iamsql/provider/awsiam"
	"github.com/iamsql/iamsql/schema"
)

// DatabaseName is the database iamsql serves.
const DatabaseName = "iam"

var ioEOF = io.EOF

const sqltypesVarchar = sqltypes.VarChar

// AuditRecord is one mutating IAM call, as written to --audit-log. It never
// holds a secret.
type AuditRecord struct {
	Time        time.Time `json:"time"`
	Principal   string    `json:"principal"`
	SQLUser     string    `json:"sql_user,omitempty"`
	Client      string    `json:"client,omitempty"`
	Statement   string    `json:"statement"`
	Operation   string    `json:"operation"`
	AccessKeyID string    `json:"access_key_id,omitempty"`
	Outcome     string    `json:"outcome"`
	Error       string    `json:"error,omitempty"`
}

// Config configures a Provider.
type Config struct {
	Clients *awsiam.Clients
	// Concurrency bounds parallel IAM calls of one statement (default 16).
	Concurrency int
	// ReadOnly refuses every statement that would change IAM.
	ReadOnly bool
	Logger   *slog.Logger
	// Audit receives one record per mutating IAM call.
	Audit func(AuditRecord)
	// PageSize is the MaxItems of List calls (0 = IAM's default of 100).
	PageSize int32
	// Journal, when set, records every CreateAccessKey until its secret is
	// delivered or the key deleted again (custody.go).
	Journal Journal
	// CustodyWait bounds waiting for an in-flight create's answer after a
	// cancel, and rolling keys back (DefaultCustodyWait when 0).
	CustodyWait time.Duration
	// HardStop, when done, cuts custody work short (a second signal).
	HardStop context.Context
	// AllowRootKeys lets a root caller create root access keys.
	AllowRootKeys bool
	// CallBudget bounds the IAM calls of each statement (budget.go); 0
	// is the default, which scales with the account.
	CallBudget int
	// Org, when set, turns org mode on (org.go): the tables span several
	// accounts, and Concurrency bounds the calls of all of them.
	Org *OrgConfig
	// Rotation configures the rotation procedures and the rotations
	// table (rotation.go); nil: the default ledger, the clients' AWS
	// configuration.
	Rotation *RotationConfig
}

// Provider is the GMS database provider: the iam database plus the stored
// procedures derived from schema.
type Provider struct {
	clients     *awsiam.Clients
	concurrency int
	readOnly    bool
	log         *slog.Logger
	auditFn     func(AuditRecord)
	pageSize    int32
	journal     Journal
	custodyWait time.Duration
	hardStop    context.Context
	allowRoot   bool
	callBudget  int
	size        accountSize
	org         *orgMode
	orgOn       bool
	rotation    *RotationConfig

	db    *database
	procs sql.ExternalStoredProcedureRegistry

	mu         sync.Mutex
	calls      map[string]int
	identities map[string]*identity
	// rowsBuilt counts the rows built from IAM answers (see
	// rowBuilder.materialize), for tests that show a plan cannot
	// multiply that work either.
	rowsBuilt atomic.Int64
}

var (
	_ sql.DatabaseProvider                = (*Provider)(nil)
	_ sql.ExternalStoredProcedureProvider = (*Provider)(nil)
)

// NewProvider builds the provider. It makes no IAM or AWS configuration
// calls.
func NewProvider(cfg Config) *Provider {
	p := &Provider{
		clients:     cfg.Clients,
		concurrency: cfg.Concurrency,
		readOnly:    cfg.ReadOnly,
		log:         cfg.Logger,
		auditFn:     cfg.Audit,
		pageSize:    cfg.PageSize,
		journal:     cfg.Journal,
		custodyWait: cfg.CustodyWait,
		hardStop:    cfg.HardStop,
		allowRoot:   cfg.AllowRootKeys,
		callBudget:  cfg.CallBudget,
		calls:       map[string]int{},
		identities:  map[string]*identity{},
		org:         newOrgMode(cfg.Org),
		orgOn:       cfg.Org != nil,
		rotation:    cfg.Rotation,
	}
	if p.concurrency <= 0 {
		p.concurrency = 16
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.custodyWait <= 0 {
		p.custodyWait = DefaultCustodyWait
	}
	if p.hardStop == nil {
		p.hardStop = context.Background()
	}
	local := map[string]func(*sql.Context) ([]sql.Row, error){
		schema.CreatedAccessKeys.Name: infallible(createdRows),
		schema.Methods.Name:           infallible(methodRows),
		schema.Rotations.Name:         p.rotationRows,
	}
	p.db = &database{tables: map[string]*table{}}
	for _, r := range schema.Resources {
		t := p.newTable(r, local[r.Name])
		if r.List == nil && t.local == nil {
			panic("provider: resource " + r.Name + " has neither a listing nor local rows")
		}
		p.db.tables[strings.ToLower(r.Name)] = t
		p.db.names = append(p.db.names, r.Name)
	}
	p.procs = sql.NewExternalStoredProcedureRegistry()
	for _, ref := range schema.Procedures() {
		p.procs.Register(p.procedure(ref))
	}
	return p
}

// pageSize sets MaxItems on a List call when configured.
func (p *Provider) maxItems() *int32 {
	if p.pageSize <= 0 {
		return nil
	}
	n := p.pageSize
	return &n
}

// Calls returns how many IAM calls of each operation this provider made.
func (p *Provider) Calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.calls))
	for k, v := range p.calls {
		out[k] = v
	}
	return out
}

func (p *Provider) Database(_ *sql.Context, name string) (sql.Database, error) {
	if strings.EqualFold(name, DatabaseName) {
		return p.db, nil
	}
	if strings.EqualFold(name, "mysql") {
		// GMS looks for the mysql database before every statement; Kind.New
		// would capture a stack trace each time.
		return nil, errNoMySQLDatabase
	}
	return nil, sql.ErrDatabaseNotFound.New(name)
}

var errNoMySQLDatabase = sql.ErrDatabaseNotFound.New("mysql")

func (p *Provider) HasDatabase(_ *sql.Context, name string) bool {
	return strings.EqualFold(name, DatabaseName)
}

func (p *Provider) AllDatabases(*sql.Context) []sql.Database { return []sql.Database{p.db} }

func (p *Provider) ExternalStoredProcedure(_ *sql.Context, name string, n int) (*sql.ExternalStoredProcedureDetails, error) {
	return p.procs.LookupByNameAndParamCount(name, n)
}

func (p *Provider) ExternalStoredProcedures(_ *sql.Context, name string) ([]sql.ExternalStoredProcedureDetails, error) {
	return p.procs.LookupByName(name)
}

// checkWritable refuses a mutating call on a read-only provider or session.
func (p *Provider) checkWritable(ctx *sql.Context, op string) error {
	if p.readOnly || sessionOf(ctx).ReadOnly {
		return &ReadOnlyError{Statement: op}
	}
	return nil
}

// audit records a mutating IAM call, or the custody outcome of a key
// (outcome: ok, or one of the Outcome constants). It never receives a
// secret.
type auditStatementKey struct{}

// withAuditStatement names, in the audit log, work iamsql does on its own
// rather than for a statement (deleting keys whose secrets were not
// delivered): text is iamsql's, never a user's, so it is kept as is.
func withAuditStatement(ctx context.Context, text string) context.Context {
	return context.WithValue(ctx, auditStatementKey{}, text)
}

// auditStatement is what the audit log records as a call's statement:
// the statement without its values, or iamsql's own words.
func auditStatement(ctx *sql.Context) string {
	if s, ok := ctx.Value(auditStatementKey{}).(string); ok {
		return s
	}
	return statementShape(ctx)
}

func (p *Provider) audit(ctx *sql.Context, op, keyID, outcome string, err error) {
	rec := AuditRecord{
		Time:        time.Now().UTC(),
		Statement:   auditStatement(ctx),
		Operation:   op,
		AccessKeyID: keyID,
		Outcome:     outcome,
	}
	if c := ctx.Client(); c.User != "" || c.Address != "" {
		rec.SQLUser, rec.Client = c.User, c.Address
	}
	if err != nil {
		// Only the error's code: its message may echo a value the
		// statement carried, and the audit log never holds a value.
		if rec.Outcome == "ok" {
			rec.Outcome = "error"
		}
		rec.Error = errorCode(err)
	}
	p.log.Info("iam call", "op", op, "access_key_id", keyID, "outcome", rec.Outcome)
	if p.auditFn != nil {
		rec.Principal = p.principal(ctx)
		p.auditFn(rec)
	}
}

// principal is the AWS identity iamsql acts as (GetUser without a name
// answers for the caller), looked up once, and only when auditing.
func (p *Provider) principal(ctx context.Context) string {
	part := "aws"
	if _, err := p.callerIsRoot(ctx, part); err != nil {
		return "unknown (GetUser failed)"
	}
	if id := p.identityOf(part); id.arn != "" {
		return id.arn
	}
	return "unknown (not an IAM user)"
}

// errorCode names an error without its message.
func errorCode(err error) string {
	var ie *IAMError
	if errors.As(err, &ie) {
		return ie.Code
	}
	var sqlErr *mysql.SQLError
	if errors.As(ToSQLError(err), &sqlErr) {
		return fmt.Sprintf("MySQL error %d", sqlErr.Num)
	}
	return "error"
}

// CallStats counts the IAM calls one statement made, by operation, and
// in org mode the accounts it has read and has to read.
type CallStats struct {
	mu    sync.Mutex
	Calls map[string]int

	// pending counts, per account the statement reads, its reads not
	// yet ended: a statement may read an account several times (two
	// tables, a lookup per row), and counts it once.
	pending map[string]int
}

// Accounts is how many accounts the statement has read (none of their
// reads still to end), of how many it reads (org mode; 0, 0 otherwise).
func (s *CallStats) Accounts() (done, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.pending {
		if n == 0 {
			done++
		}
	}
	return done, len(s.pending)
}

// accountsToRead counts reads of accounts about to start.
func (s *CallStats) accountsToRead(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[string]int{}
	}
	for _, id := range ids {
		s.pending[id]++
	}
}

// accountRead counts a read of an account that ended.
func (s *CallStats) accountRead(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[id]--
}

func statsOf(ctx context.Context) *CallStats {
	s, _ := ctx.Value(statsKey{}).(*CallStats)
	return s
}

// Total is the number of IAM calls made.
func (s *CallStats) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.Calls {
		n += v
	}
	return n
}

// FormatCalls renders call counts in operation order, each as
// format(op, count), joined by ", ": how the shell's \timing, reports and
// tests show the IAM calls a statement made.
func FormatCalls(calls map[string]int, format string) string {
	ops := slices.Sorted(maps.Keys(calls))
	for i, op := range ops {
		ops[i] = fmt.Sprintf(format, op, calls[op])
	}
	return strings.Join(ops, ", ")
}

// Snapshot copies the counters.
func (s *CallStats) Snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.Calls))
	for k, v := range s.Calls {
		out[k] = v
	}
	return out
}

type statsKey struct{}

// WithCallStats returns a context whose IAM calls are counted into s.
func WithCallStats(ctx context.Context, s *CallStats) context.Context {
	return context.WithValue(ctx, statsKey{}, s)
}

// call makes one IAM call: it counts it (per provider and per statement)
// and classifies its error.
func call[T any](ctx context.Context, p *Provider, op string, f func() (T, error)) (T, error) {
	p.mu.Lock()
	p.calls[op]++
	p.mu.Unlock()
	if s, ok := ctx.Value(statsKey{}).(*CallStats); ok {
		s.mu.Lock()
		if s.Calls == nil {
			s.Calls = map[string]int{}
		}
		s.Calls[op]++
		s.mu.Unlock()
	}
	start := time.Now()
	out, err := f()
	if err != nil {
		p.log.Debug("iam call failed", "op", op, "elapsed", time.Since(start))
		return out, iamError(op, err)
	}
	p.log.Debug("iam call", "op", op, "elapsed", time.Since(start))
	return out, nil
}

// database is the iam database.
type database struct {
	tables map[string]*table
	names  []string
}

var _ sql.Database = (*database)(nil)

func (d *database) Name() string { return DatabaseName }

func (d *database) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	t, ok := d.tables[strings.ToLower(name)]
	if !ok {
		return nil, false, nil
	}
	return t, true, nil
}

func (d *database) GetTableNames(*sql.Context) ([]string, error) {
	out := append([]string(nil), d.names...)
	sort.Strings(out)
	return out, nil
}

// Errors that are not the user's fault but must still be clear.
var errNoSession = errors.New("internal: statement has no iamsql session")
