package provider

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/iamsql/iamsql/schema"
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
}

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

	mu      sync.Mutex
	created []CreatedKey
	// inv is the current statement's inventory join, if it is one.
	inv *inventory
}

// inventory returns the running statement's inventory join (nil-safe).
func (s *Session) inventory() *inventory {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inv
}

func (s *Session) setInventory(inv *inventory) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inv = inv
}

// NewSession wraps a GMS base session.
func NewSession(base *sql.BaseSession) *Session {
	return &Session{BaseSession: base}
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

// createdKeysTable is created_access_keys: the session's own keys.
type createdKeysTable struct {
	*table
}

func (p *Provider) newCreatedKeysTable() *createdKeysTable {
	r := schema.CreatedAccessKeys
	t := &table{prov: p, res: r, sch: sqlSchema(DatabaseName, r)}
	t.fetch = func(ctx *sql.Context, _ params, _ func(string) bool) iter.Seq2[sql.Row, error] {
		return func(yield func(sql.Row, error) bool) {
			s := sessionOf(ctx)
			if s == nil {
				return
			}
			for _, k := range s.Created(0) {
				if !yield(k.Row(), nil) {
					return
				}
			}
		}
	}
	return &createdKeysTable{table: t}
}

func (t *createdKeysTable) WithProjections(cols []string) sql.Table {
	return &createdKeysTable{table: t.table.WithProjections(cols).(*table)}
}

// holdsSecret reports whether v is the secret of a key this session created.
func (s *Session) holdsSecret(v string) bool {
	if s == nil || len(v) < 16 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.created {
		if k.SecretAccessKey == v {
			return true
		}
	}
	return false
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

func (s *Session) scrubText(msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.created {
		if k.SecretAccessKey != "" {
			msg = strings.ReplaceAll(msg, k.SecretAccessKey, SecretPlaceholder)
		}
	}
	return msg
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
