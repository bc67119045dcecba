package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// Mutation is what a statement is about to do to more than one access
// key, for a front end to confirm (the interactive shell asks).
type Mutation struct {
	// Operation is the IAM call made per key: CreateAccessKey,
	// UpdateAccessKey or DeleteAccessKey.
	Operation string
	// Keys are the keys changed ("AKIA… (alice)"), or for a create the
	// users who get a new key.
	Keys []string
	// Status is the new status of an update.
	Status string
}

// Question is the mutation as a question: "Delete 2 access keys:
// AKIA… (alice), AKIA… (alice)?".
func (m Mutation) Question() string {
	var what string
	switch m.Operation {
	case "CreateAccessKey":
		what = fmt.Sprintf("Create %d access keys, for %s", len(m.Keys), strings.Join(m.Keys, ", "))
	case "UpdateAccessKey":
		what = fmt.Sprintf("Set %d access keys %s: %s", len(m.Keys), m.Status, strings.Join(m.Keys, ", "))
	default:
		what = fmt.Sprintf("Delete %d access keys: %s", len(m.Keys), strings.Join(m.Keys, ", "))
	}
	return what + "?"
}

// confirm asks the session's Confirm, if any, before a statement changes
// more than one key; a refusal fails the statement before any IAM call.
func confirm(ctx *sql.Context, m Mutation) error {
	s := sessionOf(ctx)
	if s == nil || s.Confirm == nil || len(m.Keys) < 2 {
		return nil
	}
	if s.Confirm(ctx, m) {
		return nil
	}
	return mysql.NewSQLError(ErrNumInterrupted, "70100", "not confirmed: nothing was changed")
}

// ConfirmFunc answers whether to go ahead with a mutation.
type ConfirmFunc func(ctx context.Context, m Mutation) bool
