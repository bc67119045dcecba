package provider

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
)

// A statement's shape is what the audit log and the custody journal
// record of it: the statement the engine runs, without its values
// (redactLiterals). For EXECUTE of a statement prepared with PREPARE, that
// is the prepared statement, which the session keeps the shape of.

// statementShape is the shape of the statement ctx runs.
func statementShape(ctx *sql.Context) string {
	q := ctx.Query()
	if name, ok := executeName(q); ok {
		if shape := sessionOf(ctx).preparedShape(name); shape != "" {
			return shape
		}
	}
	return redactLiterals(q)
}

// executeName is the name in `EXECUTE name [USING …]`, when that is the
// first statement of q as the engine reads it.
func executeName(q string) (string, bool) {
	toks := firstTokens(q)
	sig := significant(toks)
	if !isWords(toks, sig, 0, "EXECUTE") || len(sig) < 2 {
		return "", false
	}
	name, ok := identText(toks[sig[1]])
	return strings.ToLower(name), ok
}

// notePrepared keeps, for EXECUTE, the shape of a statement PREPARE
// caches (from its text or from the user variable holding it, as the
// engine reads it), and forgets it at DEALLOCATE PREPARE.
func notePrepared(ctx *sql.Context, n sql.Node) {
	s := sessionOf(ctx)
	if s == nil {
		return
	}
	switch n := n.(type) {
	case *plan.PrepareQuery:
		text := n.PrepStmt.Expr
		if name, ok := strings.CutPrefix(text, "@"); ok {
			if _, v, err := ctx.GetUserVariable(ctx, name); err == nil {
				if str, ok := v.(string); ok {
					text = str
				}
			}
		}
		s.setPrepared(strings.ToLower(n.Name), redactLiterals(text))
	case *plan.DeallocateQuery:
		s.setPrepared(strings.ToLower(n.Name), "")
	}
}

func (s *Session) setPrepared(name, shape string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if shape == "" {
		delete(s.prepared, name)
		return
	}
	if s.prepared == nil {
		s.prepared = map[string]string{}
	}
	s.prepared[name] = shape
}

func (s *Session) preparedShape(name string) string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prepared[name]
}
