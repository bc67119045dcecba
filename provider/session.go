package provider

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/dolthub/go-mysql-server/sql"
)

// CreatedKey is an access key created through this session, with the
// secret that IAM returns only once.
type CreatedKey struct {
	AccessKeyID     string
	UserName        string
	Status          string
	CreateDate      time.Time
	SecretAccessKey string
	Region          string
	// Account is the account_id the key was created in, when named.
	Account string

	// delivered is set once the secret reached its creator; orphaned when
	// the key could neither be delivered nor deleted again.
	delivered, orphaned bool
	// entry is the key's custody journal entry, when there is a journal.
	entry JournalEntry
}

// Orphaned reports whether the key exists while its secret was neither
// delivered nor could the key be deleted again.
func (k CreatedKey) Orphaned() bool { return k.orphaned }

// Row is the key as a created_access_keys row.
func (k CreatedKey) Row() sql.Row {
	return sql.Row{k.AccessKeyID, k.UserName, k.Status, k.CreateDate, k.SecretAccessKey, k.Region}
}

// Session is one connection's (or one shell's) state: the GMS session plus
// the keys it created. The created keys live in memory only and die with
// the session.
type Session struct {
	*sql.BaseSession
	// ReadOnly refuses mutating statements for this session's user.
	ReadOnly bool
	// Confirm, when set, is asked before a statement changes more than
	// one access key (the interactive shell asks its user); false fails
	// the statement before any IAM call.
	Confirm ConfirmFunc

	mu sync.Mutex
	// parseHeld is what the running command's text holds of the parse
	// budget (memory.go).
	parseHeld int64
	created   []CreatedKey
	// stmt is the running statement's view of IAM (statement.go), and
	// stmtKey tells which statement it belongs to.
	stmt    *statement
	stmtKey stmtKey
	// incomplete lists what the last statement could not read.
	incomplete []Incomplete
	// fragments are the pieces of the secrets the session created (see
	// secretFragments): kept after a key is deleted, so an echo of its
	// secret is still scrubbed.
	fragments map[string]bool
	// prepared holds, by name, the shape of each statement prepared with
	// PREPARE (shape.go).
	prepared map[string]string
	// local marks a session of this process's shell or exec
	// (Engine.NewSession); a server's sessions are not.
	local bool
}

// Incomplete is a part of the account a statement could not read: its
// result is partial (a Warning with code WarnPartial says so too).
type Incomplete struct {
	Table     string // the table being read
	Operation string // the IAM call refused
	Code      string // IAM's error code
	// UserName and AccessKeyID name what is missing, when one thing is.
	UserName    string
	AccessKeyID string
	// Account and AccountName name the account in org mode.
	Account, AccountName string
	Reason               string
}

// Incomplete returns what the last statement could not read; empty when
// its result is complete.
func (s *Session) Incomplete() []Incomplete {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Incomplete(nil), s.incomplete...)
}

func (s *Session) addIncomplete(in Incomplete) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.incomplete = append(s.incomplete, in)
}

// stmtKey identifies a statement: its subqueries run with contexts made
// from the statement's, which keep its query time.
type stmtKey struct {
	pid  uint64
	time time.Time
}

func keyOf(ctx *sql.Context) stmtKey { return stmtKey{ctx.Pid(), ctx.QueryTime()} }

// beginStatement returns the scope of the statement ctx runs; fresh is
// true when this call started it.
func (s *Session) beginStatement(ctx *sql.Context, p *Provider) (st *statement, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(ctx)
	if s.stmt != nil && s.stmtKey == k {
		return s.stmt, false
	}
	s.stmt, s.stmtKey = newStatement(p), k
	s.stmt.session = s
	s.incomplete = nil
	return s.stmt, true
}

// endStatement drops a statement's scope (and the IAM answers it held).
func (s *Session) endStatement(st *statement) {
	st.mem.releaseAll()
	s.ReleaseParse()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stmt == st {
		s.stmt = nil
	}
}

// statementOf is the scope of the statement ctx runs. A table read outside
// a statement the engine started (a client's field list) gets a scope of
// its own.
func statementOf(ctx *sql.Context, p *Provider) *statement {
	if s := sessionOf(ctx); s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stmt != nil && s.stmtKey == keyOf(ctx) {
			return s.stmt
		}
	}
	return newStatement(p)
}

// NewSession wraps a GMS base session, with MySQL's safe updates on: an
// UPDATE or DELETE must name the keys it changes (see schema.Method.OneOf)
// unless the session sets sql_safe_updates = 0.
func NewSession(base *sql.BaseSession) *Session {
	s := &Session{BaseSession: base}
	_ = base.SetSessionVariable(sql.NewContext(context.Background(), sql.WithSession(s)), "sql_safe_updates", int8(1))
	return s
}

func sessionOf(ctx *sql.Context) *Session {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Session.(*Session)
	return s
}

func (s *Session) addCreated(k CreatedKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, k)
	if s.fragments == nil {
		s.fragments = map[string]bool{}
	}
	for _, f := range secretFragments(k.SecretAccessKey) {
		s.fragments[f] = true
	}
}

// fragmentLen is the length of the pieces of a secret iamsql recognises
// anywhere: a value or a message holding 12 characters of a secret — in
// any letter case, reversed, or hex-encoded — is treated as holding it.
const fragmentLen = 12

// secretFragments are the pieces of a secret (lower case) that mark a
// value computed from it: the secret, its reverse, its hex encoding.
func secretFragments(secret string) []string {
	if len(secret) < fragmentLen {
		return nil
	}
	rev := []byte(secret)
	slices.Reverse(rev)
	var out []string
	for _, v := range []string{secret, string(rev), hex.EncodeToString([]byte(secret))} {
		v = asciiLower(v)
		for i := 0; i+fragmentLen <= len(v); i++ {
			out = append(out, v[i:i+fragmentLen])
		}
	}
	return out
}

// asciiLower lowers ASCII letters only, so byte offsets stay put.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// secretSpans finds where text holds a piece of a secret; the caller
// holds s.mu.
func (s *Session) secretSpans(text string) [][2]int {
	if len(s.fragments) == 0 || len(text) < fragmentLen {
		return nil
	}
	lower := asciiLower(text)
	var spans [][2]int
	for i := 0; i+fragmentLen <= len(lower); i++ {
		if !s.fragments[lower[i:i+fragmentLen]] {
			continue
		}
		if n := len(spans); n > 0 && spans[n-1][1] >= i {
			spans[n-1][1] = i + fragmentLen
		} else {
			spans = append(spans, [2]int{i, i + fragmentLen})
		}
	}
	return spans
}

func (s *Session) removeCreated(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.created {
		if k.AccessKeyID == id {
			s.created = append(s.created[:i:i], s.created[i+1:]...)
			return
		}
	}
}

// Undelivered returns the keys whose secrets have not reached their
// creator yet.
func (s *Session) Undelivered() []CreatedKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CreatedKey
	for _, k := range s.created {
		if !k.delivered {
			out = append(out, k)
		}
	}
	return out
}

// deliver marks keys delivered and returns those it marked.
func (s *Session) deliver(ids []string) []CreatedKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CreatedKey
	for i, k := range s.created {
		if !k.delivered && slices.Contains(ids, k.AccessKeyID) {
			s.created[i].delivered = true
			out = append(out, s.created[i])
		}
	}
	return out
}

func (s *Session) markOrphaned(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.created {
		if k.AccessKeyID == id {
			s.created[i].orphaned = true
		}
	}
}

// SecretSent reports which undelivered keys' secrets appear among values
// (a result row being sent to a client).
func (s *Session) SecretSent(values []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range s.created {
		if !k.delivered && slices.Contains(values, k.SecretAccessKey) {
			out = append(out, k.AccessKeyID)
		}
	}
	return out
}

// CreatedCount is how many keys the session holds; with Created it lets a
// caller find the keys one statement created.
func (s *Session) CreatedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.created)
}

// Created returns the keys created since the session held n keys.
func (s *Session) Created(n int) []CreatedKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > len(s.created) {
		return nil
	}
	return append([]CreatedKey(nil), s.created[n:]...)
}

// createdRows are created_access_keys' rows: the session's own keys.
func createdRows(ctx *sql.Context) []sql.Row {
	s := sessionOf(ctx)
	if s == nil {
		return nil
	}
	var rows []sql.Row
	for _, k := range s.Created(0) {
		rows = append(rows, k.Row())
	}
	return rows
}

// holdsSecret reports whether v holds (a value computed from) a secret of
// a key this session created: a piece of it, in any case, reversed or
// hex-encoded.
func (s *Session) holdsSecret(v string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secretSpans(v)) > 0
}

// scrubSecrets removes from an error message every secret the session
// holds: a secret fed back as a value must not come back in an error.
func scrubSecrets(ctx *sql.Context, err error) error {
	return sessionOf(ctx).Scrub(err)
}

// Scrub returns err with every secret the session holds replaced in its
// message (a secret fed back as a value, say to CAST or JSON_EXTRACT, must
// not come back in an error); an error that is not a MySQL error comes
// back as one (1105) when it had to change. The MySQL server applies it to
// whatever the engine answers a statement with; Engine.Query does for the
// shell and exec.
func (s *Session) Scrub(err error) error {
	if err == nil || s == nil {
		return err
	}
	var sqlErr *mysql.SQLError
	if !errors.As(err, &sqlErr) {
		if msg := s.scrubText(err.Error()); msg != err.Error() {
			return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", msg)
		}
		return err
	}
	if msg := s.scrubText(sqlErr.Message); msg != sqlErr.Message {
		return mysql.NewSQLError(sqlErr.Num, sqlErr.State, "%s", msg)
	}
	return err
}

// Warn records a warning with the session's secrets scrubbed from its
// message (go-mysql-server's conversions quote the value they could not
// convert: CAST(SecretAccessKey AS DATETIME) warns "Incorrect datetime
// value: <the secret>"), so SHOW WARNINGS and the clients that fetch it
// after a statement never see one.
func (s *Session) Warn(w *sql.Warning) {
	if w != nil {
		if msg := s.scrubText(w.Message); msg != w.Message {
			c := *w
			c.Message = msg
			w = &c
		}
	}
	s.BaseSession.Warn(w)
}

// MentionsSecret reports whether text holds a piece of one of the
// session's secrets, also once split by whitespace, quotes or other
// punctuation (a statement spread over lines, CONCAT('…', '…')): the
// shell keeps such input out of its history.
func (s *Session) MentionsSecret(text string) bool {
	if s.holdsSecret(text) {
		return true
	}
	var b strings.Builder
	for _, c := range []byte(text) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '+' {
			b.WriteByte(c)
		}
	}
	return s.holdsSecret(b.String())
}

// scrubText replaces every piece of a secret in msg (see holdsSecret).
func (s *Session) scrubText(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	spans := s.secretSpans(msg)
	if len(spans) == 0 {
		return msg
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(msg[last:sp[0]])
		b.WriteString(SecretPlaceholder)
		last = sp[1]
	}
	b.WriteString(msg[last:])
	return b.String()
}

// SecretPlaceholder stands in messages where a secret would have been.
const SecretPlaceholder = "[secret access key]"

// refuseSecrets stops a statement that would send one of the session's
// secrets to IAM as a parameter (it would land in CloudTrail).
func refuseSecrets(ctx *sql.Context, prm params) error {
	s := sessionOf(ctx)
	for name, v := range prm {
		if s.holdsSecret(v) {
			return paramError(fmt.Errorf("refusing to send a secret access key to IAM as %s", name))
		}
	}
	return nil
}
