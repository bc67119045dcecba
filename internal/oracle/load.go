package oracle

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/schema"
)

// Regions is the generator's region universe: every generated query pins
// region to these (three of the aws partition, one of aws-cn), and the
// oracle holds each table's rows once per region.
var Regions = []string{"us-east-1", "us-west-2", "eu-west-1", "cn-north-1"}

// The tables the oracle models, as iamsql declares them.
var oracleTables = []schema.Resource{schema.Users, schema.AccessKeys, schema.AccountSummary}

// Oracle is a plain go-mysql-server memory database named iam holding, for
// every region of Regions, what a full scan of each iamsql table must
// return for one account. Queries run on it are the expected answers.
type Oracle struct {
	engine  *sqle.Engine
	session *memory.Session
	// Rows are the loaded rows by table, in schema column order: the
	// generator draws its constants from them.
	Rows map[string][]sql.Row
	// Schemas are the loaded tables' schemas by table.
	Schemas map[string]sql.Schema
	// Extra are constants the generator draws for a column besides its
	// loaded values (in org mode, the ids of accounts with no rows).
	Extra map[string][]any
}

// Snapshot is what the oracle is loaded from: the emulator's account, the
// GetAccountSummary answer and whether the caller is the root user (whose
// own keys are then rows of access_keys).
type Snapshot struct {
	State        emulator.State
	Summary      map[string]int
	CallerIsRoot bool
}

// TakeSnapshot reads an emulator's account, and its GetAccountSummary
// answer to the caller signing with signerKeyID. The one call it makes is
// not counted against any query: the caller resets the emulator's counters
// after.
func TakeSnapshot(emu *emulator.Emulator, signerKeyID string, callerIsRoot bool) (Snapshot, error) {
	res, err := emu.Invoke(context.Background(), signerKeyID, "GetAccountSummary", nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("oracle: GetAccountSummary: %w", err)
	}
	sum, ok := res.(*emulator.GetAccountSummaryResult)
	if !ok {
		return Snapshot{}, fmt.Errorf("oracle: GetAccountSummary answered %T", res)
	}
	m := map[string]int{}
	for _, e := range sum.SummaryMap {
		m[e.Key] = e.Value
	}
	return Snapshot{State: emu.Snapshot(), Summary: m, CallerIsRoot: callerIsRoot}, nil
}

// columnType is the SQL type iamsql gives a schema column: the oracle's
// columns must compare, sort and convert exactly as iamsql's do.
func columnType(c schema.Column) (sql.Type, error) {
	switch c.Type {
	case schema.Varchar:
		size := int64(c.Size)
		if size == 0 {
			size = 255
		}
		return types.MustCreateStringWithDefaults(sqltypes.VarChar, size), nil
	case schema.Datetime:
		return types.DatetimeMaxPrecision, nil
	case schema.BigInt:
		return types.Int64, nil
	case schema.Boolean:
		return types.Boolean, nil
	}
	return nil, fmt.Errorf("oracle: column %s has type %q, which the oracle does not know", c.Name, c.Type)
}

// NewOracle builds the memory database for a snapshot: plain tables
// without indexes, so every query is answered by full scans.
func NewOracle(snap Snapshot) (*Oracle, error) { return buildOracle([]Snapshot{snap}, 0, false) }

// buildOracle builds the memory database. For the generator's self-test, a
// non-zero shuffle inserts each table's rows in an order drawn from it, and
// indexed gives every table a primary key (region plus the row's identity)
// with an index, so that the oracle's own plans use index lookups and
// lookup joins as iamsql's do: no generated query may depend on either.
func buildOracle(snaps []Snapshot, shuffle uint64, indexed bool) (*Oracle, error) {
	db := memory.NewDatabase("iam")
	if indexed {
		db.EnablePrimaryKeyIndexes()
	}
	pro := memory.NewDBProvider(db)
	sess := memory.NewSession(sql.NewBaseSession(), pro)
	ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
	ctx.SetCurrentDatabase("iam")
	o := &Oracle{engine: sqle.NewDefault(pro), session: sess, Rows: map[string][]sql.Row{}, Schemas: map[string]sql.Schema{}}
	for _, r := range oracleTables {
		sch := make(sql.Schema, len(r.Columns))
		for i, c := range r.Columns {
			t, err := columnType(c)
			if err != nil {
				return nil, err
			}
			sch[i] = &sql.Column{Name: c.Name, Type: t, Nullable: true, Source: r.Name, DatabaseSource: "iam"}
			if indexed && (c.Name == "region" || c.Name == "AccessKeyId" || (r.Name == schema.Users.Name && c.Name == "UserName") ||
				(c.Name == schema.AccountIDColumn && len(snaps) > 1)) {
				sch[i].PrimaryKey, sch[i].Nullable = true, false
			}
		}
		var rows []sql.Row
		for _, snap := range snaps {
			more, err := tableRows(r, snap)
			if err != nil {
				return nil, err
			}
			rows = append(rows, more...)
		}
		if shuffle != 0 {
			rng := mrand.New(mrand.NewPCG(shuffle, uint64(len(rows))))
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		}
		tbl := memory.NewTable(db, r.Name, sql.NewPrimaryKeySchema(sch), db.GetForeignKeyCollection())
		db.AddTable(r.Name, tbl)
		for _, row := range rows {
			if err := tbl.Insert(ctx, row); err != nil {
				return nil, fmt.Errorf("oracle: loading %s: %w", r.Name, err)
			}
		}
		o.Rows[r.Name] = rows
		o.Schemas[r.Name] = sch
	}
	return o, nil
}

// tableRows is a table's full-scan answer for every region of Regions,
// filled by column name: a column the oracle does not know how to fill is
// an error, never a guess.
func tableRows(r schema.Resource, snap Snapshot) ([]sql.Row, error) {
	var records []func(col, region string) (any, bool)
	switch r.Name {
	case schema.Users.Name:
		for _, u := range snap.State.Users {
			records = append(records, userColumn(u))
		}
	case schema.AccessKeys.Name:
		for _, k := range snap.State.Keys {
			if k.UserName == emulator.RootUserName && !snap.CallerIsRoot {
				continue // the caller's own listing is added only for the root user
			}
			records = append(records, keyColumn(k))
		}
	case schema.AccountSummary.Name:
		records = append(records, summaryColumn(snap.Summary))
	default:
		return nil, fmt.Errorf("oracle: no loader for table %s", r.Name)
	}
	var rows []sql.Row
	for _, region := range Regions {
		for _, rec := range records {
			row := make(sql.Row, len(r.Columns))
			for i, c := range r.Columns {
				v, ok := rec(c.Name, region)
				if c.Name == schema.AccountIDColumn {
					v, ok = snap.State.AccountID, true // every row is the one account's
				}
				if !ok {
					return nil, fmt.Errorf("oracle: %s.%s: the oracle does not know how to fill this column; teach internal/oracle/load.go", r.Name, c.Name)
				}
				row[i] = v
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func userColumn(u emulator.User) func(col, region string) (any, bool) {
	return func(col, region string) (any, bool) {
		switch col {
		case "UserName":
			return u.UserName, true
		case "UserId":
			return u.UserID, true
		case "Arn":
			return u.Arn, true
		case "Path":
			return u.Path, true
		case "CreateDate":
			return u.CreateDate.UTC(), true
		case "PasswordLastUsed":
			return optTime(u.PasswordLastUsed), true
		case "region":
			return region, true
		}
		return nil, false
	}
}

func keyColumn(k emulator.AccessKey) func(col, region string) (any, bool) {
	return func(col, region string) (any, bool) {
		switch col {
		case "AccessKeyId":
			return k.AccessKeyID, true
		case "UserName":
			return k.UserName, true
		case "Status":
			return k.Status, true
		case "CreateDate":
			return k.CreateDate.UTC(), true
		case "region":
			return region, true
		case "LastUsedDate":
			if k.LastUsed == nil {
				return nil, true
			}
			return k.LastUsed.Date.UTC(), true
		case "LastUsedServiceName":
			if k.LastUsed == nil || k.LastUsed.ServiceName == "N/A" {
				return nil, true
			}
			return k.LastUsed.ServiceName, true
		case "LastUsedRegion":
			if k.LastUsed == nil || k.LastUsed.Region == "N/A" {
				return nil, true
			}
			return k.LastUsed.Region, true
		}
		return nil, false
	}
}

// summaryColumn fills account_summary: region, and every other column
// from the GetAccountSummary entry of the same name.
func summaryColumn(m map[string]int) func(col, region string) (any, bool) {
	return func(col, region string) (any, bool) {
		if col == "region" {
			return region, true
		}
		v, ok := m[col]
		if !ok {
			return nil, false
		}
		return int64(v), true
	}
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// Query runs one statement on the oracle.
func (o *Oracle) Query(query string) Outcome {
	ctx := sql.NewContext(context.Background(), sql.WithSession(o.session))
	ctx.SetCurrentDatabase("iam")
	var out Outcome
	defer func() {
		if v := recover(); v != nil {
			out = Outcome{Err: fmt.Errorf("panic in the oracle: %v", v)}
		}
	}()
	sch, iter, _, err := o.engine.Query(ctx, query)
	if err != nil {
		return Outcome{Err: err}
	}
	out.Columns = columnNames(sch)
	for {
		row, err := iter.Next(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				out.Err = err
			}
			break
		}
		out.Rows = append(out.Rows, NormalizeRow(row))
	}
	if err := iter.Close(ctx); err != nil && out.Err == nil {
		out.Err = err
	}
	if out.Err != nil {
		out.Rows = nil
	}
	return out
}

func columnNames(sch sql.Schema) []string {
	out := make([]string, len(sch))
	for i, c := range sch {
		out[i] = c.Name
	}
	return out
}

// distinctValues lists the distinct non-NULL values of a column of a
// loaded table, in a stable order: the generator's constants.
func (o *Oracle) distinctValues(table, col string) []any {
	sch := o.Schemas[table]
	i := sch.IndexOfColName(col)
	if i < 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []any
	for _, r := range o.Rows[table] {
		v := r[i]
		if v == nil {
			continue
		}
		k := fmt.Sprint(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(a, b int) bool { return strings.Compare(fmt.Sprint(out[a]), fmt.Sprint(out[b])) < 0 })
	return out
}
