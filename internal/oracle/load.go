package oracle

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
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
var oracleTables = []schema.Resource{schema.Users, schema.AccessKeys, schema.AccountSummary,
	schema.UserTags, schema.MFADevices, schema.LoginProfiles, schema.UserGroups, schema.UserAttachedPolicies,
	schema.UserPolicies, schema.CredentialReport}

// contextTables are the tables listed per user (provider/usercontext.go).
var contextTables = []string{schema.UserTags.Name, schema.MFADevices.Name, schema.LoginProfiles.Name,
	schema.UserGroups.Name, schema.UserAttachedPolicies.Name, schema.UserPolicies.Name}

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
			if indexed && ((c.Key && c.Name != schema.AccountIDColumn) || (c.Name == schema.AccountIDColumn && len(snaps) > 1)) {
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
	case schema.UserTags.Name, schema.MFADevices.Name, schema.LoginProfiles.Name, schema.UserGroups.Name,
		schema.UserAttachedPolicies.Name, schema.UserPolicies.Name:
		for _, u := range snap.State.Users {
			records = append(records, contextRecords(r.Name, snap.State.AccountID, u)...)
		}
	case schema.CredentialReport.Name:
		records = credentialReportRecords(snap.State)
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

// contextRecords are one user's rows of a table listed per user, as the
// emulator answers its operation: tags by key, MFA devices by serial
// number, groups by name (path /, id and ARN derived from the name),
// managed policies by ARN (the name is the ARN's last part), inline
// policies by name; a login profile is one row or none.
func contextRecords(table, accountID string, u emulator.User) []func(col, region string) (any, bool) {
	var out []func(col, region string) (any, bool)
	add := func(vals map[string]any) {
		vals["UserName"] = u.UserName
		out = append(out, func(col, region string) (any, bool) {
			if col == "region" {
				return region, true
			}
			v, ok := vals[col]
			return v, ok
		})
	}
	switch table {
	case schema.UserTags.Name:
		for _, t := range u.Tags {
			add(map[string]any{"TagKey": t.Key, "TagValue": t.Value})
		}
	case schema.MFADevices.Name:
		for _, d := range u.MFADevices {
			add(map[string]any{"SerialNumber": d.SerialNumber, "EnableDate": d.EnableDate.UTC()})
		}
	case schema.LoginProfiles.Name:
		if lp := u.LoginProfile; lp != nil {
			add(map[string]any{"CreateDate": lp.CreateDate.UTC(), "PasswordResetRequired": boolValue(lp.PasswordResetRequired)})
		}
	case schema.UserGroups.Name:
		for _, g := range u.Groups {
			add(map[string]any{"GroupName": g, "GroupId": groupID(g), "Arn": "arn:aws:iam::" + accountID + ":group/" + g, "Path": "/"})
		}
	case schema.UserAttachedPolicies.Name:
		for _, p := range u.AttachedPolicies {
			add(map[string]any{"PolicyName": p[strings.LastIndexByte(p, '/')+1:], "PolicyArn": p})
		}
	case schema.UserPolicies.Name:
		for _, p := range u.InlinePolicies {
			add(map[string]any{"PolicyName": p})
		}
	}
	return out
}

// groupID is the id the emulator gives a group, derived from its name.
func groupID(name string) string {
	sum := sha256.Sum256([]byte("iamsql-group:" + strings.ToLower(name)))
	return "AGPA" + base32.StdEncoding.EncodeToString(sum[:10])
}

func boolValue(b bool) any {
	if b {
		return int8(1)
	}
	return int8(0)
}

// credentialReportRecords is the credential report of the account as the
// emulator writes it (internal/emulator/credreport.go): the root user
// first, then every user by name; each owner's first two keys by
// creation; IAM's N/A, no_information and not_supported as NULL. The
// oracle's accounts run on a fixed clock (Now), so the report is made at
// Now (GeneratedTime) and never changes; Stale is whether Now is more
// than 4 hours before the wall clock iamsql measures the report's age
// with.
func credentialReportRecords(st emulator.State) []func(col, region string) (any, bool) {
	keys := map[string][]emulator.AccessKey{}
	for _, k := range st.Keys { // sorted by owner, create date, id
		keys[k.UserName] = append(keys[k.UserName], k)
	}
	stale := boolValue(time.Since(Now) > schema.CredentialReportMaxAge*time.Hour)
	line := func(owner string, vals map[string]any) func(col, region string) (any, bool) {
		ks := keys[owner]
		for i := range 2 {
			p := fmt.Sprintf("access_key_%d_", i+1)
			vals[p+"active"] = boolValue(false)
			for _, c := range []string{"last_rotated", "last_used_date", "last_used_region", "last_used_service"} {
				vals[p+c] = nil
			}
			if i >= len(ks) {
				continue
			}
			k := ks[i]
			vals[p+"active"] = boolValue(k.Status == "Active")
			vals[p+"last_rotated"] = k.CreateDate.UTC()
			if lu := k.LastUsed; lu != nil {
				vals[p+"last_used_date"] = lu.Date.UTC()
				vals[p+"last_used_region"] = reportText(lu.Region)
				vals[p+"last_used_service"] = reportText(lu.ServiceName)
			}
		}
		vals["cert_1_active"], vals["cert_1_last_rotated"] = boolValue(false), nil
		vals["cert_2_active"], vals["cert_2_last_rotated"] = boolValue(false), nil
		vals["GeneratedTime"], vals["Stale"] = Now, stale
		return func(col, region string) (any, bool) {
			if col == "region" {
				return region, true
			}
			v, ok := vals[col]
			return v, ok
		}
	}
	out := []func(col, region string) (any, bool){line(emulator.RootUserName, map[string]any{
		"user": emulator.RootAccountUser, "arn": "arn:aws:iam::" + st.AccountID + ":root", "user_creation_time": st.RootCreated.UTC(),
		"password_enabled": nil, "password_last_used": nil, "password_last_changed": nil, "password_next_rotation": nil,
		"mfa_active": boolValue(false),
	})}
	for _, u := range st.Users {
		vals := map[string]any{"user": u.UserName, "arn": u.Arn, "user_creation_time": u.CreateDate.UTC(),
			"password_enabled": boolValue(u.LoginProfile != nil), "password_last_used": nil, "password_last_changed": nil,
			"password_next_rotation": nil, "mfa_active": boolValue(len(u.MFADevices) > 0)}
		if lp := u.LoginProfile; lp != nil {
			vals["password_last_used"] = optTime(u.PasswordLastUsed)
			vals["password_last_changed"] = lp.CreateDate.UTC()
		}
		out = append(out, line(u.UserName, vals))
	}
	return out
}

// reportText is a text column of the credential report: N/A is NULL.
func reportText(s string) any {
	if s == "" || s == "N/A" {
		return nil
	}
	return s
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
