package provider

import (
	"fmt"
	"strings"
	"testing"
)

func repeatJoin(n int, f func(i int) string, sep string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, sep)
}

func plusChain(n int) string {
	return repeatJoin(n, func(int) string { return "1" }, "+")
}

// starJoin joins n copies of users to the first.
func starJoin(n int) string {
	return "SELECT COUNT(*) FROM users u " +
		repeatJoin(n-1, func(i int) string { return fmt.Sprintf("JOIN users t%d ON t%d.UserName = u.UserName", i, i) }, " ") +
		" WHERE u.region = 'us-east-1'" + repeatJoin(n-1, func(i int) string { return fmt.Sprintf(" AND t%d.region = 'us-east-1'", i) }, "")
}

func nestedSubqueries(n int) string {
	return "SELECT " + strings.Repeat("1 + (SELECT ", n) + "1" + strings.Repeat(")", n)
}

// Each statement limit: a statement at it is planned and runs (its result
// is checked), one just beyond it is refused before planning with error
// 3170 naming the limit, and no IAM call is made.
func TestStatementLimitsRefuseBeforePlanning(t *testing.T) {
	w := newWorld(t, worldOptions{})
	tests := []struct {
		name        string
		at, beyond  string
		atRows      string
		beyondError string
	}{
		{
			name:        "expression depth",
			at:          "SELECT " + plusChain(256),
			atRows:      "256\n",
			beyond:      "SELECT " + plusChain(257),
			beyondError: "the nesting depth of its expressions is 257, more than the 256",
		},
		{
			name:        "depth of AND and OR chains",
			at:          "SELECT " + repeatJoin(2000, func(int) string { return "1" }, " OR "),
			atRows:      "true\n",
			beyond:      "SELECT " + repeatJoin(2100, func(int) string { return "1" }, " OR "),
			beyondError: "the nesting depth of its expressions is 257, more than the 256",
		},
		{
			name:        "work of several deep expressions",
			at:          "SELECT " + plusChain(250) + ", " + plusChain(250),
			atRows:      "250 | 250\n",
			beyond:      "SELECT " + plusChain(250) + ", " + plusChain(250) + ", " + plusChain(250),
			beyondError: "the work of its deep expressions",
		},
		{
			name:        "expression size",
			at:          "SELECT COUNT(*) FROM (SELECT " + repeatJoin(19_990, func(int) string { return "1" }, ", ") + ") t",
			atRows:      "1\n",
			beyond:      "SELECT " + repeatJoin(20_001, func(int) string { return "1" }, ", "),
			beyondError: "the size of its expressions",
		},
		{
			name:        "IN list",
			at:          "SELECT 5 IN (" + repeatJoin(10_000, func(i int) string { return fmt.Sprint(i) }, ", ") + ")",
			atRows:      "true\n",
			beyond:      "SELECT 5 IN (" + repeatJoin(10_001, func(i int) string { return fmt.Sprint(i) }, ", ") + ")",
			beyondError: "the length of an IN list is 10001, more than the 10000",
		},
		{
			name:        "nested subqueries",
			at:          nestedSubqueries(4),
			atRows:      "5\n",
			beyond:      nestedSubqueries(5),
			beyondError: "the nesting of its subqueries in expressions is 5, more than the 4",
		},
		{
			name:        "work of nested subqueries",
			at:          "SELECT " + repeatJoin(7, func(int) string { return strings.TrimPrefix(nestedSubqueries(4), "SELECT ") }, " + "),
			atRows:      "35\n",
			beyond:      "SELECT " + repeatJoin(8, func(int) string { return strings.TrimPrefix(nestedSubqueries(4), "SELECT ") }, " + "),
			beyondError: "the work of its nested subqueries",
		},
		{
			name:        "subqueries in expressions",
			at:          "SELECT " + repeatJoin(64, func(int) string { return "(SELECT 1)" }, " + "),
			atRows:      "64\n",
			beyond:      "SELECT " + repeatJoin(65, func(int) string { return "(SELECT 1)" }, " + "),
			beyondError: "the number of its subqueries in expressions is 65, more than the 64",
		},
		{
			name:        "UNION branches",
			at:          "SELECT COUNT(*) FROM (" + repeatJoin(64, func(i int) string { return fmt.Sprintf("SELECT %d", i) }, " UNION ALL ") + ") t",
			atRows:      "64\n",
			beyond:      repeatJoin(65, func(i int) string { return fmt.Sprintf("SELECT %d", i) }, " UNION ALL "),
			beyondError: "the work of its UNIONs",
		},
		{
			name:        "tables in one join",
			at:          starJoin(8),
			atRows:      "6\n",
			beyond:      starJoin(9),
			beyondError: "the number of tables in one join is 9, more than the 8",
		},
		{
			name:        "work of many joins",
			at:          starJoin(8),
			atRows:      "6\n",
			beyond:      starJoin(8) + " UNION ALL " + starJoin(3),
			beyondError: "the work of its joins",
		},
		{
			name:        "SELECTs",
			at:          "WITH " + repeatJoin(255, func(i int) string { return fmt.Sprintf("c%d AS (SELECT %d AS x)", i, i) }, ", ") + " SELECT x FROM c254",
			atRows:      "254\n",
			beyond:      "WITH " + repeatJoin(256, func(i int) string { return fmt.Sprintf("c%d AS (SELECT %d AS x)", i, i) }, ", ") + " SELECT x FROM c255",
			beyondError: "the number of its SELECTs is 257, more than the 256",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			{
				r := w.exec(tt.at)
				if r.err != nil || rowsString(r.rows) != tt.atRows {
					t.Errorf("at the limit: rows %q, err %v", rowsString(r.rows), r.err)
				}
			}
			r := w.exec(tt.beyond)
			if r.errNum != ErrNumStatementLimit || r.err == nil || !strings.Contains(r.err.Error(), tt.beyondError) ||
				!strings.Contains(r.err.Error(), "statement refused before planning") || !strings.Contains(r.err.Error(), "no IAM call was made") {
				t.Errorf("beyond the limit: errno %d, err %v", r.errNum, r.err)
			}
			if len(r.calls) != 0 {
				t.Errorf("beyond the limit: IAM calls %v", callsString(r.calls))
			}
		})
	}
}

// A statement longer than max_allowed_packet is refused before it is
// parsed, with MySQL's error for it.
func TestStatementLongerThanMaxAllowedPacketIsRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	literal := strings.Repeat("x", MaxStatementBytes-100)
	r := w.exec("SELECT LENGTH('" + literal + "')")
	if r.err != nil || rowsString(r.rows) != fmt.Sprintf("%d\n", len(literal)) {
		t.Fatalf("a statement within max_allowed_packet: rows %q, err %v", rowsString(r.rows), r.err)
	}
	r = w.exec("SELECT LENGTH('" + literal + strings.Repeat("x", 200) + "')")
	if r.errNum != ErrNumPacketTooLarge || !strings.Contains(r.err.Error(), "Got a packet bigger than 'max_allowed_packet' bytes") {
		t.Errorf("errno %d, err %v", r.errNum, r.err)
	}
}

// Limits count what the engine executes: an executable comment's
// statement, a statement inside a CTE, a subquery in an UPDATE's WHERE.
func TestStatementLimitsSeeEveryPartOfTheStatement(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for _, q := range []string{
		"/*!SELECT " + plusChain(300) + " */",
		"WITH c AS (SELECT " + plusChain(300) + " AS x) SELECT x FROM c",
		"UPDATE access_keys SET Status = 'Inactive' WHERE region = 'us-east-1' AND AccessKeyId = 'AKIABOB0000000000001' AND " + plusChain(300) + " = 0",
		"SELECT * FROM access_keys WHERE region = 'us-east-1' AND UserName IN (SELECT 'a' FROM dual WHERE " + plusChain(300) + " > 0)",
	} {
		r := w.exec(q)
		if r.errNum != ErrNumStatementLimit {
			t.Errorf("%.60s…: errno %d, err %v", q, r.errNum, r.err)
		}
		if len(r.calls) != 0 {
			t.Errorf("%.60s…: IAM calls %v", q, callsString(r.calls))
		}
	}
}
