package provider

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/vitess/go/mysql"
)

// AllProcesses is a process list that shows a user only their own
// connections (as the server's does, like MySQL for a user without the
// PROCESS privilege) and can still list every connection, so that KILL
// tells another user's connection from one that does not exist.
type AllProcesses interface {
	AllProcesses() []sql.Process
}

// checkKill lets a KILL [CONNECTION | QUERY] end only the connections and
// statements of its own user, as MySQL does for a user without
// CONNECTION_ADMIN (go-mysql-server alone lets anyone kill anything). It
// judges the plan, so every spelling of a KILL — an executable comment,
// a prepared statement, one of several statements — is judged the same.
// A connection that does not exist is MySQL's "Unknown thread id".
func checkKill(ctx *sql.Context, k *plan.Kill) error {
	if ctx.Session != nil && k.ConnID == ctx.Session.ID() {
		return nil
	}
	var procs []sql.Process
	switch pl := ctx.ProcessList.(type) {
	case nil:
	case AllProcesses:
		procs = pl.AllProcesses()
	default:
		procs = pl.Processes()
	}
	for _, p := range procs {
		if p.Connection != k.ConnID {
			continue
		}
		if ctx.Session != nil && p.User != "" && p.User == ctx.Session.Client().User {
			return nil
		}
		return mysql.NewSQLError(ErrNumKillDenied, "HY000", "You are not owner of thread %d", k.ConnID)
	}
	return mysql.NewSQLError(ErrNumNoSuchThread, "HY000", "Unknown thread id: %d", k.ConnID)
}
