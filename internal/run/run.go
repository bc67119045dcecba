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
	"os"
	"strings"
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
	// Footers adds mysql's "N rows in set (0.01 sec)" after a result in
	// the table and vertical formats, and the time to "Query OK" (for a
	// person at a terminal; scripts and the csv/json formats get none).
	Footers bool

	// Last describes the most recent statement.
	Last Stats
	// Partial is set once a statement's result was partial: a part of the
	// account could not be read (Session.Incomplete; a warning says what).
	Partial bool

	// statement is the one running, since start.
	statement string
	start     time.Time
	// printed is set once a result was written: a Markdown result after
	// another is set apart by a blank line, so the tables do not merge.
	printed bool
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

// Run executes one statement and prints its result. Every key the
// statement created ends with its secret written to Out, or deleted again
// (see settle).
func (r *Runner) Run(ctx context.Context, stmt string) (err error) {
	start := time.Now()
	r.Last = Stats{}
	r.statement, r.start = stmt, start
	mark := r.Session.CreatedCount()
	var res *provider.Result
	defer func() {
		r.Last.Elapsed = time.Since(start)
		if res != nil {
			r.Last.Calls = res.Stats.Snapshot()
		}
		err = r.settle(ctx, mark, err)
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
	switch {
	case r.Quiet:
	case r.footers():
		// mysql's: "Query OK, 1 row affected (0.01 sec)", then the info.
		fmt.Fprintf(r.Err, "Query OK, %s affected %s\n", rows(affected), r.took())
		if info != "" {
			fmt.Fprintln(r.Err, info)
		}
	default:
		fmt.Fprintf(r.Err, "Query OK, %s affected", rows(affected))
		if info != "" {
			fmt.Fprintf(r.Err, " (%s)", info)
		}
		fmt.Fprintln(r.Err)
	}
	return nil
}

func rows(n uint64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// footers reports whether results get mysql's footers: asked for, in a
// format for people.
func (r *Runner) footers() bool {
	return r.Footers && (r.Format == output.Table || r.Format == output.Vertical)
}

// took is the statement's time so far as mysql shows it: "(0.01 sec)".
func (r *Runner) took() string {
	return fmt.Sprintf("(%.2f sec)", time.Since(r.start).Seconds())
}

// closeResult renders a result, set apart from the one before it in
// Markdown.
func (r *Runner) closeResult(w output.Writer) error {
	if r.Format == output.Markdown && r.printed {
		if _, err := fmt.Fprintln(r.Out); err != nil {
			return err
		}
	}
	r.printed = true
	return w.Close()
}

func (r *Runner) printRows(res *provider.Result) error {
	cols := make([]string, len(res.Schema))
	secretCol := -1
	for i, c := range res.Schema {
		cols[i] = c.Name
		if c.Name == "SecretAccessKey" {
			secretCol = i
		}
	}
	var secrets []string
	// The first row is fetched before anything is printed, so a statement
	// that fails at once prints only its error.
	row, err := res.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		res.Close()
		return err
	}
	w := output.NewWriter(r.Out, r.Format, cols)
	n := 0
	var writeErr, stmtErr error
	for err == nil {
		if writeErr = w.WriteRow(row); writeErr != nil {
			break
		}
		if secretCol >= 0 && row[secretCol] != nil {
			// A NULL secret (a rotation's plan row) is no secret to save.
			secrets = append(secrets, output.Text(row[secretCol]))
		}
		n++
		row, err = res.Next()
	}
	if writeErr == nil && !errors.Is(err, io.EOF) {
		stmtErr = err
	}
	closeErr := res.Close()
	// A statement that failed part way is not rendered as a finished
	// result: buffered formats print nothing, streamed ones stop where
	// the error came, and the error follows.
	if writeErr == nil && stmtErr == nil {
		writeErr = r.closeResult(w)
	}
	if writeErr == nil && stmtErr == nil && len(secrets) > 0 {
		writeErr = flushed(r.Out)
	}
	r.Last.Rows = n
	switch {
	case stmtErr != nil:
		return stmtErr
	case writeErr != nil && secretCol >= 0:
		return writeError{writeErr}
	case writeErr != nil:
		return writeErr
	case closeErr != nil:
		return closeErr
	}
	if r.footers() {
		if n == 0 {
			fmt.Fprintf(r.Err, "Empty set %s\n", r.took())
		} else {
			fmt.Fprintf(r.Err, "%s in set %s\n", rows(uint64(n)), r.took())
		}
	}
	if len(secrets) > 0 {
		// The rows carrying these secrets were written and flushed.
		if ids := r.Session.SecretSent(secrets); len(ids) > 0 {
			r.Engine.Delivered(context.Background(), r.Session, r.statement, ids...)
		}
		fmt.Fprintln(r.Err, SecretReminder)
	}
	return nil
}

// settle ends the custody of the keys a statement created (mark is how
// many the session held before it): those whose secrets its result rows
// did not deliver are written to Out now (an INSERT's); if that write
// fails, or the statement failed, they are deleted again — except a key
// that could not be deleted (orphaned), whose secret is then written
// rather than lost. The error says what happened to each.
func (r *Runner) settle(ctx context.Context, mark int, stmtErr error) error {
	var pending []provider.CreatedKey
	for _, k := range r.Session.Created(mark) {
		if !r.delivered(k) {
			pending = append(pending, k)
		}
	}
	if len(pending) == 0 {
		return stmtErr
	}
	var keep, withdraw []provider.CreatedKey
	for _, k := range pending {
		if stmtErr == nil || k.Orphaned() {
			keep = append(keep, k)
		} else {
			withdraw = append(withdraw, k)
		}
	}
	err := stmtErr
	var we writeError
	if errors.As(stmtErr, &we) {
		// The statement ran; its result rows, secrets included, could
		// not be written.
		if werr := r.Engine.Withdraw(ctx, r.Session, idList(withdraw), "its secret could not be written"); werr != nil {
			return fmt.Errorf("could not write the secret access key of %s (%w); %w", ids(withdraw), we.err, werr)
		}
		return fmt.Errorf("could not write the secret access key of %s (%w): nobody holds it, so the key was deleted again", ids(withdraw), we.err)
	}
	if len(keep) > 0 {
		if werr := r.printCreated(keep); werr != nil {
			withdraw = append(withdraw, keep...)
			err = fmt.Errorf("could not write the secret access key of %s (%w): nobody holds it, so the key was deleted again", ids(keep), werr)
			if stmtErr != nil {
				err = fmt.Errorf("%w; %v", stmtErr, err)
			}
		}
	}
	if len(withdraw) > 0 {
		why := "the statement failed"
		if stmtErr == nil {
			why = "its secret could not be written"
		}
		if werr := r.Engine.Withdraw(ctx, r.Session, idList(withdraw), why); werr != nil {
			err = fmt.Errorf("%v; %w", err, werr)
		} else if stmtErr != nil {
			err = fmt.Errorf("%w (keys it created meanwhile were deleted again: %s)", stmtErr, ids(withdraw))
		}
	}
	return err
}

// writeError is a failure to write result rows that carried secrets.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

func (r *Runner) delivered(k provider.CreatedKey) bool {
	for _, u := range r.Session.Undelivered() {
		if u.AccessKeyID == k.AccessKeyID {
			return false
		}
	}
	return true
}

func idList(keys []provider.CreatedKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.AccessKeyID
	}
	return out
}

func ids(keys []provider.CreatedKey) string { return strings.Join(idList(keys), ", ") }

// flushed makes sure what was written to w reached the file system: a
// regular file is synced (a full disk may only say so then).
func flushed(w io.Writer) error {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return f.Sync()
}

// printCreated shows the keys a statement created, secrets included, in
// the session's output format, and records them delivered once written
// and flushed.
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
	if err := r.closeResult(w); err != nil {
		return err
	}
	if err := flushed(r.Out); err != nil {
		return err
	}
	r.Engine.Delivered(context.Background(), r.Session, r.statement, idList(keys)...)
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
