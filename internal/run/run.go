// Package run executes statements for the command-line front ends (exec,
// the shell, scripts on stdin) and prints their results: rows in the
// chosen format on Out, summaries, notes and errors on Err. It is where
// the rule "a created key's secret reaches its creator" is kept for them.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/schema"
)

// SecretReminder follows every printed secret.
const SecretReminder = "Save the secret access key now: IAM returns it only once and iamsql does not keep it."

// Runner runs statements in one session.
type Runner struct {
	Engine  *provider.Engine
	Session *provider.Session
	Out     io.Writer
	Err     io.Writer
	Format  output.Format
	// Quiet suppresses "Query OK" summaries.
	Quiet bool

	// Last describes the most recent statement.
	Last Stats
	// Partial is set once a statement's result was partial: a part of the
	// account could not be read (Session.Incomplete; a warning says what).
	Partial bool

	// printedCreated is set when the statement's own result rows already
	// showed the created keys (CALL create_access_key).
	printedCreated bool
}

// Stats are what \timing shows.
type Stats struct {
	Elapsed time.Duration
	Calls   map[string]int
	Rows    int
}

// CallCount is the total number of IAM calls.
func (s Stats) CallCount() int {
	n := 0
	for _, v := range s.Calls {
		n += v
	}
	return n
}

// Run executes one statement and prints its result. Keys the statement
// created are printed with their secrets even when it fails.
func (r *Runner) Run(ctx context.Context, stmt string) (err error) {
	start := time.Now()
	r.Last = Stats{}
	mark := r.Session.CreatedCount()
	var res *provider.Result
	defer func() {
		r.Last.Elapsed = time.Since(start)
		if res != nil {
			r.Last.Calls = res.Stats.Snapshot()
		}
		if created := r.Session.Created(mark); len(created) > 0 && !r.printedCreated {
			if perr := r.printCreated(created); perr != nil && err == nil {
				err = perr
			}
		}
		r.printedCreated = false
		if len(r.Session.Incomplete()) > 0 {
			r.Partial = true
		}
		if res != nil && res.Ctx != nil {
			r.printWarnings(res.Ctx)
		}
	}()
	res, err = r.Engine.Query(ctx, r.Session, stmt)
	if err != nil {
		return err
	}
	if len(res.Schema) == 0 || types.IsOkResultSchema(res.Schema) {
		return r.finishOK(res)
	}
	return r.printRows(res)
}

func (r *Runner) finishOK(res *provider.Result) error {
	var affected uint64
	var info string
	for {
		row, err := res.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Close()
			return err
		}
		if len(row) > 0 {
			if ok, isOK := row[0].(types.OkResult); isOK {
				affected += ok.RowsAffected
				if ok.Info != nil {
					info = fmt.Sprint(ok.Info)
				}
			}
		}
	}
	if err := res.Close(); err != nil {
		return err
	}
	r.Last.Rows = int(affected)
	if !r.Quiet {
		plural := "s"
		if affected == 1 {
			plural = ""
		}
		fmt.Fprintf(r.Err, "Query OK, %d row%s affected", affected, plural)
		if info != "" {
			fmt.Fprintf(r.Err, " (%s)", info)
		}
		fmt.Fprintln(r.Err)
	}
	return nil
}

func (r *Runner) printRows(res *provider.Result) error {
	cols := make([]string, len(res.Schema))
	secret := false
	for i, c := range res.Schema {
		cols[i] = c.Name
		if c.Name == "SecretAccessKey" {
			secret = true
		}
	}
	// The first row is fetched before anything is printed, so a statement
	// that fails at once prints only its error.
	row, err := res.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		res.Close()
		return err
	}
	w := output.NewWriter(r.Out, r.Format, cols)
	n := 0
	var iterErr error
	for err == nil {
		if iterErr = w.WriteRow(row); iterErr != nil {
			break
		}
		n++
		row, err = res.Next()
	}
	if iterErr == nil && !errors.Is(err, io.EOF) {
		iterErr = err
	}
	closeErr := res.Close()
	// A statement that failed part way is not rendered as a finished
	// result: buffered formats print nothing, streamed ones stop where
	// the error came, and the error follows.
	if iterErr == nil {
		iterErr = w.Close()
	}
	if iterErr == nil {
		iterErr = closeErr
	}
	r.Last.Rows = n
	if secret && n > 0 {
		r.printedCreated = true
		fmt.Fprintln(r.Err, SecretReminder)
	}
	return iterErr
}

// printCreated shows the keys a statement created, secrets included, in
// the session's output format.
func (r *Runner) printCreated(keys []provider.CreatedKey) error {
	cols := make([]string, len(schema.CreatedAccessKeys.Columns))
	for i, c := range schema.CreatedAccessKeys.Columns {
		cols[i] = c.Name
	}
	w := output.NewWriter(r.Out, r.Format, cols)
	for _, k := range keys {
		if err := w.WriteRow(k.Row()); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintln(r.Err, SecretReminder)
	return nil
}

func (r *Runner) printWarnings(ctx *sql.Context) {
	for _, w := range ctx.Session.Warnings() {
		if w.Code == provider.NoteCreatedKeys {
			continue // the created keys were printed in full
		}
		fmt.Fprintf(r.Err, "%s (Code %d): %s\n", w.Level, w.Code, w.Message)
	}
	ctx.Session.ClearWarnings()
}
