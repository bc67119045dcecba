package report

import (
	"strings"
	"testing"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

func schemaOf(names ...string) gmssql.Schema {
	sch := make(gmssql.Schema, len(names))
	for i, n := range names {
		sch[i] = &gmssql.Column{Name: n, Type: types.LongText}
	}
	return sch
}

type owner struct {
	UserName string `sql:"UserName"`
	Note     string `sql:"-"`
}

type readerRow struct {
	owner
	ID      string     `sql:"AccessKeyId"`
	Created time.Time  `sql:"CreateDate"`
	Used    *time.Time `sql:"LastUsedDate"`
	Keys    int
	Flags   map[string]bool `sql:"*"`
}

// Rows are read by column name, whatever the columns' order; embedded
// structs count as the row's own fields; the `sql:"*"` map takes the
// other columns; NULL reads as the zero value.
func TestRowReaderReadsByColumnName(t *testing.T) {
	rd, err := newRowReader[readerRow](schemaOf("keys", "old-keys", "CreateDate", "AccessKeyId", "LastUsedDate", "UserName", "root-keys"))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	got, err := rd.read(gmssql.Row{2.0, true, created, "AKIA1", nil, "alice", nil})
	if err != nil {
		t.Fatal(err)
	}
	if got.UserName != "alice" || got.ID != "AKIA1" || !got.Created.Equal(created) || got.Used != nil || got.Keys != 2 ||
		len(got.Flags) != 2 || !got.Flags["old-keys"] || got.Flags["root-keys"] {
		t.Errorf("read %+v", got)
	}
	// go-mysql-server renders the DATETIMEs of a UNION as text.
	got, err = rd.read(gmssql.Row{int64(1), int8(0), "2025-01-02 03:04:05.250000", "AKIA2", "2025-02-01 00:00:00", "bob", false})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(created.Add(250*time.Millisecond)) || got.Used == nil || got.Used.Month() != time.February || got.Flags["old-keys"] {
		t.Errorf("read %+v", got)
	}
	created2, err := columnOf[readerRow]("createdate")
	if err != nil || !created2(&got).(time.Time).Equal(got.Created) {
		t.Errorf("columnOf: %v", err)
	}
	if _, err := columnOf[readerRow]("Status"); err == nil {
		t.Error("columnOf a column the struct does not read: no error")
	}
}

// A result and a struct that disagree fail before any row is read: a
// column no field takes, a field no column fills, a column twice.
func TestRowReaderFailsOnColumnsItCannotPlace(t *testing.T) {
	type key struct {
		UserName    string
		AccessKeyID string `sql:"AccessKeyId"`
	}
	for _, tc := range []struct {
		cols []string
		want string
	}{
		{[]string{"UserName", "AccessKeyId", "Status"}, `column "Status" has no field`},
		{[]string{"UserName"}, `reads column "AccessKeyId", which the result does not have`},
		{[]string{"UserName", "AccessKeyId", "username"}, `two columns named "username"`},
	} {
		_, err := newRowReader[key](schemaOf(tc.cols...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.cols, err, tc.want)
		}
	}
}

// A value of the wrong kind is an error naming the column, not a guess.
func TestRowReaderFailsOnValuesOfTheWrongKind(t *testing.T) {
	type row struct {
		N    int
		When time.Time
	}
	rd, err := newRowReader[row](schemaOf("N", "When"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []gmssql.Row{{"two", time.Now()}, {2.5, time.Now()}, {2, "yesterday"}} {
		if _, err := rd.read(r); err == nil {
			t.Errorf("%v: read without error", r)
		}
	}
}
