package server

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamsql/iamsql/internal/termtest"
	"github.com/iamsql/iamsql/provider"
)

const (
	mariadbPath = "/usr/bin/mariadb"
	// The system Python has PyMySQL (python3-pymysql); a python3 earlier
	// on PATH may not.
	pythonPath = "/usr/bin/python3"
	mycliPath  = "/usr/bin/mycli"
	nodePath   = "/usr/bin/node"
	javaPath   = "/usr/bin/java"
	// connectorJ is MariaDB Connector/J from libmariadb-java.
	connectorJ = "/usr/share/java/mariadb-java-client.jar"
)

// mariadb runs the mariadb CLI in batch mode against w as user u and
// returns its stdout, stderr and exit code.
func (w *world) mariadb(t *testing.T, u User, args ...string) (string, string, int) {
	t.Helper()
	bin := requireTool(t, mariadbPath)
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(bin, append([]string{"--no-defaults", "-h", host, "-P", port, "-u", u.Name, "-B"}, args...)...)
	// MYSQL_PWD keeps the password off the command line.
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+u.Password)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("mariadb: %v", err)
		}
		code = ee.ExitCode()
	}
	t.Logf("$ mariadb %s\n%s%s(exit %d)", strings.Join(args, " "), stdout.String(), stderr.String(), code)
	return stdout.String(), stderr.String(), code
}

func TestMariaDBCLI(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	plain := "--skip-ssl"

	out, _, code := w.mariadb(t, rwUser, plain, "-e", "SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
	want := "UserName\tAccessKeyId\tStatus\nalice\tAKIAALICE00000000001\tActive\nalice\tAKIAALICE00000000002\tInactive\n"
	if code != 0 || out != want {
		t.Fatalf("SELECT: got %q, want %q", out, want)
	}

	// INSERT, then read the secret in the same connection.
	out, _, code = w.mariadb(t, rwUser, plain, "-vv", "--show-warnings", "-e",
		"INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1'); SELECT UserName, AccessKeyId, SecretAccessKey FROM created_access_keys")
	if code != 0 {
		t.Fatalf("INSERT exited %d", code)
	}
	if !strings.Contains(out, "Query OK, 1 row affected, 1 warning") || !strings.Contains(out, "Note (Code 4100)") {
		t.Errorf("INSERT should report 1 row and the note: %s", out)
	}
	var daveKey string
	for id, secret := range secretsOf(w) {
		if strings.Contains(out, "dave\t"+id+"\t"+secret+"\n") {
			daveKey = id
		}
	}
	if daveKey == "" {
		t.Fatalf("created_access_keys did not show dave's new key with its secret:\n%s", out)
	}

	// A new connection has no created keys.
	if out, _, _ = w.mariadb(t, rwUser, plain, "-N", "-e", "SELECT COUNT(*) FROM created_access_keys"); out != "0\n" {
		t.Errorf("created_access_keys in a new connection: %q", out)
	}

	_, _, code = w.mariadb(t, rwUser, plain, "-e", "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = '"+daveKey+"' AND region = 'us-east-1'")
	if st := keyStatus(w, daveKey); code != 0 || st != "Inactive" {
		t.Errorf("UPDATE: exit %d, key is %q", code, st)
	}
	_, _, code = w.mariadb(t, rwUser, plain, "-e", "DELETE FROM access_keys WHERE AccessKeyId = '"+daveKey+"' AND region = 'us-east-1'")
	if st := keyStatus(w, daveKey); code != 0 || st != "" {
		t.Errorf("DELETE: exit %d, key is %q", code, st)
	}

	_, stderr, code := w.mariadb(t, rwUser, plain, "-e", "CALL create_access_key('us-east-1', 'alice')")
	if code == 0 || !regexp.MustCompile(`(?m)^ERROR 1226 \(42000\) at line 1: .*LimitExceeded`).MatchString(stderr) {
		t.Errorf("quota error: exit %d, %q", code, stderr)
	}
	_, stderr, code = w.mariadb(t, roUser, plain, "-e", "DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")
	if code == 0 || !regexp.MustCompile(`(?m)^ERROR 1290 \(HY000\) at line 1: .*read-only`).MatchString(stderr) {
		t.Errorf("read-only DELETE: exit %d, %q", code, stderr)
	}
	_, stderr, code = w.mariadb(t, User{Name: rwUser.Name, Password: "wrong"}, plain, "-e", "SELECT 1")
	if code == 0 || !strings.HasPrefix(stderr, "ERROR 1045 (28000)") {
		t.Errorf("wrong password: exit %d, %q", code, stderr)
	}

	// What a GUI or the CLI's own banner asks.
	out, _, _ = w.mariadb(t, rwUser, plain, "-N", "-e", "SELECT @@version, @@version_comment, DATABASE(); SHOW TABLES; SHOW DATABASES")
	for _, s := range []string{"iamsql", "access_keys", "created_access_keys", "information_schema"} {
		if !strings.Contains(out, s) {
			t.Errorf("metadata output lacks %q: %s", s, out)
		}
	}
}

func TestMariaDBCLIOverTLS(t *testing.T) {
	cert := newTestCert(t)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, TLS: cert.serverTLS(t), RequireTLS: true}})
	out, _, code := w.mariadb(t, rwUser, "--ssl-ca="+cert.certFile, "--ssl-verify-server-cert", "-N", "-e", "SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
	if code != 0 || out != "AKIABOB0000000000001\n" {
		t.Fatalf("over TLS: exit %d, %q", code, out)
	}
	w.logs.waitFor(t, time.Second, "client connected", "user=admin", "tls=true", "auth=caching_sha2_password")
	_, stderr, code := w.mariadb(t, rwUser, "--skip-ssl", "-e", "SELECT 1")
	if code == 0 || !strings.Contains(stderr, "3159") {
		t.Errorf("plaintext client on a TLS-only server: exit %d, %q", code, stderr)
	}
}

func TestPyMySQLClient(t *testing.T) {
	python := requireTool(t, pythonPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser, roUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(python, "testdata/pymysql_client.py", host, port, rwUser.Name, rwUser.Password, roUser.Name, roUser.Password)
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s testdata/pymysql_client.py\n%s", python, out)
	if err != nil {
		if strings.Contains(string(out), "No module named 'pymysql'") && os.Getenv("CI") != "true" {
			t.Skip("PyMySQL is not installed (apt-get install python3-pymysql)")
		}
		t.Fatalf("pymysql_client.py: %v", err)
	}
	secrets := secretsOf(w)
	for _, who := range []string{"DAVE_KEY", "ERIN_KEY"} {
		m := regexp.MustCompile(who + ` (\S+) (\S+)`).FindStringSubmatch(string(out))
		if m == nil || secrets[m[1]] != m[2] {
			t.Errorf("%s: the secret PyMySQL received is not the one IAM issued (%v)", who, m)
		}
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" {
		t.Errorf("bob's key after EXEC: %s", st)
	}
}

// cliKey finds, on a client's screen, the key created for user with its
// secret: the row of created_access_keys the client printed.
func cliKey(t *testing.T, w *world, screen, user string) string {
	t.Helper()
	for id, secret := range secretsOf(w) {
		if regexp.MustCompile(`\|\s*` + regexp.QuoteMeta(id) + `\s*\|\s*` + regexp.QuoteMeta(user) + `\s*\|.*\|\s*` + regexp.QuoteMeta(secret) + `\s*\|`).MatchString(screen) {
			return id
		}
	}
	t.Fatalf("the screen shows no key of %s with the secret IAM issued:\n%s", user, screen)
	return ""
}

// TestMariaDBCLIInATerminal is the mariadb CLI as people run it: in a
// terminal, connected to iam, without -A, so that it reads the fields of
// every table at connect for its completion (COM_FIELD_LIST). Reading
// them makes no IAM call; then a query, Tab completion of a table name,
// SQL-level PREPARE and EXECUTE, an UPDATE with its "Rows matched" line,
// and an INSERT whose key and secret are read from created_access_keys
// (so the key is kept when the client quits) each get their own answer.
func TestMariaDBCLIInATerminal(t *testing.T) {
	bin := requireTool(t, mariadbPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	cmd := exec.Command(bin, "--no-defaults", "--skip-ssl", "-h", host, "-P", port, "-u", rwUser.Name, "iam")
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+rwUser.Password, "TERM=xterm", "HOME="+t.TempDir())
	term := termtest.Start(t, cmd, 50, 200)
	const wait = 10 * time.Second
	prompt := "MySQL [iam]> "

	term.Expect("Reading table information for completion", wait)
	term.Expect(prompt, wait)
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("reading the tables' fields at connect made %d IAM calls: %v", n, w.emu.Calls())
	}

	term.Type("SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId;\r")
	out := term.Expect(prompt, wait)
	for _, want := range []string{"| alice    | AKIAALICE00000000001 | Active   |", "| alice    | AKIAALICE00000000002 | Inactive |", "2 rows in set"} {
		if !strings.Contains(out, want) {
			t.Errorf("SELECT: %q not on the screen:\n%s", want, out)
		}
	}

	// Tab completes the table name from what the CLI read at connect.
	term.Type("SELECT COUNT(*) AS created FROM created_acc\t")
	term.Expect("created_access_keys", wait)
	term.Type(";\r")
	if out := term.Expect(prompt, wait); !regexp.MustCompile(`\|\s+0 \|`).MatchString(out) {
		t.Errorf("SELECT COUNT(*) FROM the completed table name:\n%s", out)
	}

	term.Type("PREPARE s FROM 'SELECT UserName FROM access_keys WHERE region = ? AND AccessKeyId = ?';\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 0 rows affected") || !strings.Contains(out, "Statement prepared") || strings.Contains(out, "ERROR") {
		t.Errorf("PREPARE:\n%s", out)
	}
	term.Type("SET @r = 'us-east-1', @k = 'AKIABOB0000000000001';\r")
	term.Expect(prompt, wait)
	term.Type("EXECUTE s USING @r, @k;\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "| bob      |") || !strings.Contains(out, "1 row in set") {
		t.Errorf("EXECUTE:\n%s", out)
	}
	term.Type("DEALLOCATE PREPARE s;\r")
	term.Expect(prompt, wait)

	term.Type("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1';\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 1 row affected") || !strings.Contains(out, "Rows matched: 1  Changed: 1  Warnings: 0") {
		t.Errorf("UPDATE:\n%s", out)
	}
	if st := keyStatus(w, "AKIABOB0000000000001"); st != "Inactive" {
		t.Errorf("bob's key after the UPDATE: %q", st)
	}

	term.Type("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\r")
	if out := term.Expect(prompt, wait); !strings.Contains(out, "Query OK, 1 row affected, 1 warning") {
		t.Errorf("INSERT:\n%s", out)
	}
	term.Type("SELECT * FROM created_access_keys;\r")
	out = term.Expect(prompt, wait)
	if !strings.Contains(out, "1 row in set") {
		t.Errorf("SELECT * FROM created_access_keys:\n%s", out)
	}
	daveKey := cliKey(t, w, out, "dave")

	term.Type("\\q\r")
	term.Expect("Bye", wait)
	if code := term.Exit(wait); code != 0 {
		t.Errorf("mariadb exited %d", code)
	}
	w.logs.waitFor(t, wait, "client disconnected")
	if st := keyStatus(w, daveKey); st != "Active" {
		t.Errorf("dave's key, whose secret the CLI showed, is %q after the CLI quit; want it kept", st)
	}
	if strings.Contains(term.Screen(), "ERROR") {
		t.Errorf("the session shows an error:\n%s", term.Screen())
	}
}

// TestMycliInATerminal is mycli (Debian's package) in a terminal: it
// connects to iam and refreshes its completions in the background (table
// and column names from information_schema, and users and SHOW topics
// from the mysql database, which iamsql does not have) without an IAM
// call; then a query, Tab completion of a table name, and an INSERT read
// back from created_access_keys.
func TestMycliInATerminal(t *testing.T) {
	bin := requireTool(t, mycliPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	home := t.TempDir()
	cmd := exec.Command(bin, "-h", host, "-P", port, "-u", rwUser.Name, "--password", rwUser.Password, "iam")
	// No cursor position requests: the test answers none.
	cmd.Env = append(os.Environ(), "TERM=xterm", "HOME="+home, "PROMPT_TOOLKIT_NO_CPR=1", "LANG=C.UTF-8")
	cmd.Dir = home
	term := termtest.Start(t, cmd, 50, 200)
	const wait = 15 * time.Second

	term.Expect(":iam>", wait)

	// mycli reads its completions in the background; the last of its
	// statements asks the mysql database, which iamsql has not, for SHOW
	// topics (and users before that): once both failed, the completions
	// are about to be swapped in.
	deadline := time.Now().Add(wait)
	for strings.Count(w.logs.text(), "error_code=1049") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("mycli did not read its completions; server log:\n%s", w.logs.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Tab takes the table name from the completion menu, once mycli shows
	// it; typing the last letter again shows the menu anew.
	term.Type("SELECT COUNT(*) AS created FROM created_ac")
	for shown := false; !shown; {
		term.Type("c")
		shown = term.Wait("created_access_keys", 2*time.Second)
		if !shown {
			if time.Now().After(deadline) {
				t.Fatalf("mycli shows no completion of created_acc:\n%s", term.Screen())
			}
			term.Type("\x7f") // Backspace
		}
	}
	term.Type("\t")
	term.Expect("ess_keys", wait) // what the terminal is told to add
	term.Type(";\r")
	out := term.Expect("Time: ", wait)
	if !strings.Contains(out, "FROM created_access_keys;") || !regexp.MustCompile(`\| created \|\s+\+-+\+\s+\| 0\s+\|`).MatchString(out) {
		t.Errorf("SELECT COUNT(*) FROM the completed table name:\n%s", out)
	}
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("connecting and reading the completions made %d IAM calls: %v", n, w.emu.Calls())
	}

	term.Type("SELECT UserName, AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId;\r")
	out = term.Expect("Time: ", wait)
	for _, want := range []string{"| alice    | AKIAALICE00000000001 | Active   |", "| alice    | AKIAALICE00000000002 | Inactive |", "2 rows in set"} {
		if !strings.Contains(out, want) {
			t.Errorf("SELECT: %q not on the screen:\n%s", want, out)
		}
	}

	term.Type("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1');\r")
	if out := term.Expect("Time: ", wait); !strings.Contains(out, "Query OK, 1 row affected") {
		t.Errorf("INSERT:\n%s", out)
	}
	term.Type("SELECT * FROM created_access_keys;\r")
	out = term.Expect("Time: ", wait)
	daveKey := cliKey(t, w, out, "dave")

	// Ctrl-D on an empty line quits; mycli may have opened its completion
	// menu on the empty prompt meanwhile, which takes the key: Escape
	// closes the menu, then Ctrl-D again.
	term.Type("\x04")
	for quit := time.Now().Add(wait); !term.Wait("Goodbye!", 3*time.Second); {
		if time.Now().After(quit) {
			t.Fatalf("mycli did not quit on Ctrl-D:\n%s", term.Screen())
		}
		term.Type("\x1b")
		time.Sleep(time.Second) // prompt_toolkit waits this long for a key after Escape
		term.Type("\x04")
	}
	if code := term.Exit(wait); code != 0 {
		t.Errorf("mycli exited %d", code)
	}
	w.logs.waitFor(t, wait, "client disconnected")
	if st := keyStatus(w, daveKey); st != "Active" {
		t.Errorf("dave's key, whose secret mycli showed, is %q after mycli quit; want it kept", st)
	}
}

// columnsOf is what the server answers SHOW COLUMNS with for table: each
// column's name and type, as SQLAlchemy spells the type (DATETIME for
// DATETIME(6)).
func columnsOf(t *testing.T, q queryer, table string) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range rows(t, q, "SHOW COLUMNS FROM "+table) {
		typ := strings.ToUpper(r[1])
		if strings.HasPrefix(typ, "DATETIME(") {
			typ = "DATETIME"
		}
		if typ == "TINYINT(1)" {
			typ = "TINYINT" // BOOLEAN; SQLAlchemy reflects no display width
		}
		out = append(out, []string{r[0], typ})
	}
	return out
}

// inventoryOf is every key IAM holds, as the inventory query orders and
// prints it: UserName, AccessKeyId, Status, CreateDate.
func inventoryOf(w *world) [][]string {
	var out [][]string
	for _, k := range w.emu.Snapshot().Keys {
		out = append(out, []string{k.UserName, k.AccessKeyID, k.Status, k.CreateDate.UTC().Format("2006-01-02T15:04:05")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1] < out[j][1] })
	return out
}

// TestSQLAlchemyAndPandas: SQLAlchemy reflection (table names, columns,
// keys and indexes, a reflected Table), pandas.read_sql_table of iamsql's
// own tables and a LIMIT 0 read make no IAM call; reading a whole IAM
// table asks for its region with error 1210 and the connection goes on;
// pandas.read_sql reads the exact inventory with typed dates, and an
// INSERT's key and secret are read back with read_sql_table.
func TestSQLAlchemyAndPandas(t *testing.T) {
	python := requireTool(t, pythonPath)
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	client := startPhased(t, exec.Command(python, "testdata/sqlalchemy_pandas_client.py", host, port, rwUser.Name, rwUser.Password),
		"No module named", "apt-get install python3-sqlalchemy python3-pandas")
	var schema struct {
		Tables          []string              `json:"tables"`
		Columns         map[string][][]string `json:"columns"`
		Views           []string              `json:"views"`
		Reflected       []string              `json:"reflected"`
		MethodsColumns  []string              `json:"methods_columns"`
		MethodsRows     int                   `json:"methods_rows"`
		CreatedColumns  []string              `json:"created_columns"`
		CreatedRows     int                   `json:"created_rows"`
		Limit0Columns   []string              `json:"limit0_columns"`
		WholeTableError []any                 `json:"whole_table_error"`
		AfterError      [][]string            `json:"after_error"`
	}
	client.phase("schema", &schema)
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("reflection and reading iamsql's own tables made %d IAM calls: %v", n, w.emu.Calls())
	}
	// What the server itself says, to compare with.
	server := w.db(rwUser)
	tables := column(rows(t, server, "SHOW TABLES"), 0)
	if !reflect.DeepEqual(schema.Tables, tables) || len(schema.Views) != 0 {
		t.Errorf("tables %v, views %v; want %v and none", schema.Tables, schema.Views, tables)
	}
	for _, table := range tables {
		if want := columnsOf(t, server, table); !reflect.DeepEqual(schema.Columns[table], want) {
			t.Errorf("columns of %s: %v, want %v", table, schema.Columns[table], want)
		}
	}
	names := column(columnsOf(t, server, "access_keys"), 0)
	if !reflect.DeepEqual(schema.Reflected, names) || !reflect.DeepEqual(schema.Limit0Columns, names) {
		t.Errorf("reflected access_keys %v, LIMIT 0 columns %v; want %v", schema.Reflected, schema.Limit0Columns, names)
	}
	methods := rows(t, server, "SELECT COUNT(*) FROM methods")[0][0]
	if !reflect.DeepEqual(schema.MethodsColumns, column(columnsOf(t, server, "methods"), 0)) || fmt.Sprint(schema.MethodsRows) != methods {
		t.Errorf("read_sql_table('methods'): %d rows of %v, want %s", schema.MethodsRows, schema.MethodsColumns, methods)
	}
	if !reflect.DeepEqual(schema.CreatedColumns, column(columnsOf(t, server, "created_access_keys"), 0)) || schema.CreatedRows != 0 {
		t.Errorf("read_sql_table('created_access_keys') before any INSERT: %d rows of %v", schema.CreatedRows, schema.CreatedColumns)
	}
	if len(schema.WholeTableError) != 2 || schema.WholeTableError[0] != float64(provider.ErrNumBadParam) || !strings.Contains(fmt.Sprint(schema.WholeTableError[1]), "requires region") {
		t.Errorf("read_sql_table('access_keys'): %v, want error %d asking for the region", schema.WholeTableError, provider.ErrNumBadParam)
	}
	if !reflect.DeepEqual(schema.AfterError, [][]string{{"42"}}) {
		t.Errorf("the query after the error: %v", schema.AfterError)
	}

	keys := map[string]int{}
	for _, k := range w.emu.Snapshot().Keys {
		keys[k.UserName]++
	}
	var perUser [][]string
	for _, u := range w.emu.Snapshot().Users {
		perUser = append(perUser, []string{u.UserName, fmt.Sprint(keys[u.UserName])})
	}
	inventory := inventoryOf(w)

	client.goOn()
	var data struct {
		InventoryDtypes []string   `json:"inventory_dtypes"`
		Inventory       [][]string `json:"inventory"`
		PerUser         [][]string `json:"per_user"`
		Created         [][]string `json:"created"`
	}
	client.phase("data", &data)
	client.wait()
	if want := []string{"object", "object", "object", "datetime64[ns]"}; !reflect.DeepEqual(data.InventoryDtypes, want) {
		t.Errorf("inventory dtypes %v, want %v", data.InventoryDtypes, want)
	}
	if !reflect.DeepEqual(data.PerUser, perUser) {
		t.Errorf("keys per user %v, want %v", data.PerUser, perUser)
	}
	if len(data.Created) != 1 || data.Created[0][1] != "dave" || secretOf(w, data.Created[0][0]) != data.Created[0][2] {
		t.Fatalf("created_access_keys after the INSERT: %v", data.Created)
	}
	if !reflect.DeepEqual(data.Inventory, inventory) {
		t.Errorf("inventory:\n got %v\nwant %v", data.Inventory, inventory)
	}
	server.Close()
	waitConnections(t, w, 0, "the client exited")
	if st := keyStatus(w, data.Created[0][0]); st != "Active" {
		t.Errorf("dave's key, whose secret pandas read, is %q after the client exited; want it kept", st)
	}
}

// phasedClient is a client program that works in phases: each prints
// one line of JSON and then waits for a line on its standard input, so
// that the test can look at the server and IAM between phases.
type phasedClient struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr bytes.Buffer
	// missing is what the program prints when a library it needs is not
	// installed, and install how to install it.
	missing, install string
}

func startPhased(t *testing.T, cmd *exec.Cmd, missing, install string) *phasedClient {
	t.Helper()
	c := &phasedClient{t: t, cmd: cmd, missing: missing, install: install}
	cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.lines = bufio.NewScanner(stdout)
	c.lines.Buffer(nil, 1<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return c
}

// phase reads the next phase's JSON into seen.
func (c *phasedClient) phase(name string, seen any) {
	c.t.Helper()
	if !c.lines.Scan() {
		_ = c.cmd.Wait()
		if c.missing != "" && strings.Contains(c.stderr.String(), c.missing) && os.Getenv("CI") != "true" {
			c.t.Skipf("a library %s needs is not installed (%s):\n%s", c.cmd.Args[0], c.install, c.stderr.String())
		}
		c.t.Fatalf("%s phase of %s: no answer; stderr:\n%s", name, strings.Join(c.cmd.Args, " "), c.stderr.String())
	}
	c.t.Logf("%s phase: %s", name, c.lines.Text())
	if err := json.Unmarshal(c.lines.Bytes(), seen); err != nil {
		c.t.Fatalf("%s phase: %v", name, err)
	}
}

// goOn lets the program start its next phase.
func (c *phasedClient) goOn() {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, "go on\n"); err != nil {
		c.t.Fatal(err)
	}
}

// wait waits for the program to exit successfully.
func (c *phasedClient) wait() {
	c.t.Helper()
	if err := c.cmd.Wait(); err != nil {
		c.t.Fatalf("%s: %v; stderr:\n%s", c.cmd.Args[0], err, c.stderr.String())
	}
}

// runClient runs a client program that prints one JSON object (what it
// saw) and decodes it into seen.
func runClient(t *testing.T, cmd *exec.Cmd, seen any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("$ %s\n%s%s", strings.Join(cmd.Args, " "), stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("%s: %v", cmd.Args[0], err)
	}
	if err := json.Unmarshal(stdout.Bytes(), seen); err != nil {
		t.Fatalf("%s printed no JSON: %v", cmd.Args[0], err)
	}
}

// requireFile is requireTool for a file a test needs that .ci/run
// installs (a package of another language's registry).
func requireFile(t *testing.T, path, install string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (%s): %v", path, install, err)
		}
		t.Skipf("%s not installed (%s)", path, install)
	}
}

// TestNodeMySQL2Client: Node's mysql2 driver (from npm) runs a query with
// placeholders, a statement prepared on the server and executed twice,
// CALL create_access_key as a query and CALL update_access_key prepared,
// an UPDATE whose OK packet gives its changed rows, an INSERT read back
// from created_access_keys, and an error after which the connection goes
// on; the keys whose secrets it read are kept after it disconnects.
func TestNodeMySQL2Client(t *testing.T) {
	node := requireTool(t, nodePath)
	requireFile(t, "testdata/node/node_modules/mysql2/package.json", "npm ci --prefix internal/server/testdata/node")
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	want := inventoryOf(w)
	var seen struct {
		Query   [][]string   `json:"query"`
		Execute [][][]string `json:"execute"`
		Call    [][]string   `json:"call"`
		Update  struct {
			AffectedRows, ChangedRows int
			Info                      string
		} `json:"update"`
		Insert struct {
			AffectedRows, WarningStatus int
		} `json:"insert"`
		Created    [][]string `json:"created"`
		Error      []any      `json:"error"`
		AfterError []int      `json:"after_error"`
	}
	runClient(t, exec.Command(node, "testdata/node/mysql2_client.js", host, port, rwUser.Name, rwUser.Password), &seen)

	// Dates as mysql2 prints them, to the second.
	of := func(users ...string) [][]string {
		var out [][]string
		for _, r := range want {
			if slices.Contains(users, r[0]) {
				out = append(out, []string{r[0], r[1], r[2], strings.Replace(r[3], "T", " ", 1)})
			}
		}
		return out
	}
	seconds := func(rs [][]string) [][]string {
		for _, r := range rs {
			r[3] = r[3][:min(len(r[3]), 19)]
		}
		return rs
	}
	if !reflect.DeepEqual(seconds(seen.Query), of("alice", "bob")) {
		t.Errorf("query: %v, want %v", seen.Query, of("alice", "bob"))
	}
	if len(seen.Execute) != 2 || !reflect.DeepEqual(seconds(seen.Execute[0]), of("carol")) || !reflect.DeepEqual(seconds(seen.Execute[1]), of("erin")) {
		t.Errorf("execute: %v, want %v and %v", seen.Execute, of("carol"), of("erin"))
	}
	if len(seen.Call) != 1 || seen.Call[0][1] != "dave" || secretOf(w, seen.Call[0][0]) != seen.Call[0][2] {
		t.Fatalf("CALL create_access_key: %v", seen.Call)
	}
	if seen.Update.AffectedRows != 1 || seen.Update.ChangedRows != 1 || !strings.HasSuffix(seen.Update.Info, "Rows matched: 1  Changed: 1  Warnings: 0") {
		t.Errorf("UPDATE: %+v", seen.Update)
	}
	if seen.Insert.AffectedRows != 1 || seen.Insert.WarningStatus != 1 {
		t.Errorf("INSERT: %+v, want 1 row and its note", seen.Insert)
	}
	if len(seen.Created) != 1 || seen.Created[0][1] != "erin" || secretOf(w, seen.Created[0][0]) != seen.Created[0][2] {
		t.Fatalf("created_access_keys: %v", seen.Created)
	}
	if len(seen.Error) != 2 || seen.Error[0] != float64(provider.ErrNumBadParam) || !reflect.DeepEqual(seen.AfterError, []int{42}) {
		t.Errorf("error %v, then %v", seen.Error, seen.AfterError)
	}
	waitConnections(t, w, 0, "the client exited")
	for id, st := range map[string]string{seen.Call[0][0]: "Inactive", seen.Created[0][0]: "Active", "AKIABOB0000000000001": "Inactive"} {
		if got := keyStatus(w, id); got != st {
			t.Errorf("key %s is %q after the client exited, want %q", id, got, st)
		}
	}
}

// TestJDBCClient: a Java program through MariaDB Connector/J (Debian's
// libmariadb-java) reads DatabaseMetaData — product, catalogs, tables,
// columns, primary keys, indexes, procedures — without an IAM call, then
// runs a query through a PreparedStatement, an UPDATE, CALL
// create_access_key, and the query again prepared on the server.
func TestJDBCClient(t *testing.T) {
	java := requireTool(t, javaPath)
	requireFile(t, connectorJ, "apt-get install libmariadb-java")
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	host, port, _ := net.SplitHostPort(w.addr)
	client := startPhased(t, exec.Command(java, "-cp", connectorJ, "testdata/jdbc/JdbcClient.java", host, port, rwUser.Name, rwUser.Password), "", "")

	var meta struct {
		Product     string   `json:"product"`
		Catalogs    []string `json:"catalogs"`
		Tables      []string `json:"tables"`
		Columns     []string `json:"columns"`
		PrimaryKeys []string `json:"primary_keys"`
		Indexes     []string `json:"indexes"`
		Procedures  []string `json:"procedures"`
	}
	client.phase("metadata", &meta)
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("DatabaseMetaData made %d IAM calls: %v", n, w.emu.Calls())
	}
	server := w.db(rwUser)
	if meta.Product != "MySQL "+Version {
		t.Errorf("product %q", meta.Product)
	}
	if want := column(rows(t, server, "SHOW DATABASES"), 0); !reflect.DeepEqual(meta.Catalogs, want) {
		t.Errorf("catalogs %v, want %v", meta.Catalogs, want)
	}
	// The same tables; JDBC lists them in information_schema's collation
	// order (account_summary after accounts), SHOW TABLES in byte order.
	if want := column(rows(t, server, "SHOW TABLES"), 0); !reflect.DeepEqual(slices.Sorted(slices.Values(meta.Tables)), slices.Sorted(slices.Values(want))) {
		t.Errorf("tables %v, want %v", meta.Tables, want)
	}
	var columns []string
	for _, c := range columnsOf(t, server, "access_keys") {
		columns = append(columns, c[0]+" "+strings.SplitN(c[1], "(", 2)[0])
	}
	if !reflect.DeepEqual(meta.Columns, columns) {
		t.Errorf("columns of access_keys %v, want %v", meta.Columns, columns)
	}
	indexes := column(rows(t, server, "SHOW INDEX FROM access_keys"), 2)
	sort.Strings(indexes)
	sort.Strings(meta.Indexes)
	if !reflect.DeepEqual(meta.Indexes, indexes) {
		t.Errorf("indexes of access_keys %v, want %v", meta.Indexes, indexes)
	}
	server.Close()
	want := inventoryOf(w)

	client.goOn()
	var data struct {
		Query          [][]string `json:"query"`
		Update         string     `json:"update"`
		Call           [][]string `json:"call"`
		ServerPrepared [][]string `json:"server_prepared"`
	}
	client.phase("data", &data)
	client.wait()
	// Rows as JDBC prints them: timestamps with tenths.
	of := func(users ...string) [][]string {
		var out [][]string
		for _, r := range want {
			if slices.Contains(users, r[0]) {
				out = append(out, []string{r[0], r[1], r[2], strings.Replace(r[3], "T", " ", 1) + ".0"})
			}
		}
		return out
	}
	if !reflect.DeepEqual(data.Query, of("alice")) {
		t.Errorf("PreparedStatement: %v, want %v", data.Query, of("alice"))
	}
	if !reflect.DeepEqual(data.ServerPrepared, of("carol", "erin")) {
		t.Errorf("PreparedStatement prepared on the server: %v, want %v", data.ServerPrepared, of("carol", "erin"))
	}
	if data.Update != "1" || keyStatus(w, "AKIABOB0000000000001") != "Inactive" {
		t.Errorf("UPDATE: %s rows, bob's key %s", data.Update, keyStatus(w, "AKIABOB0000000000001"))
	}
	if len(data.Call) != 1 || data.Call[0][1] != "dave" || secretOf(w, data.Call[0][0]) != data.Call[0][4] {
		t.Fatalf("CALL create_access_key: %v", data.Call)
	}
	waitConnections(t, w, 0, "the client exited")
	if st := keyStatus(w, data.Call[0][0]); st != "Active" {
		t.Errorf("dave's key, whose secret JDBC read, is %q after the client exited; want it kept", st)
	}
}

// TestGoSQLDriverClient: go-sql-driver/mysql as a Go program uses it — a
// query, a statement prepared on the server and run with several values,
// and CALL: create_access_key as a plain query and prepared (its row
// carries the secret, and the key is kept once read), update_access_key
// prepared through Exec.
func TestGoSQLDriverClient(t *testing.T) {
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}}})
	want := inventoryOf(w)
	db := w.db(rwUser)
	of := func(users ...string) [][]string {
		var out [][]string
		for _, r := range want {
			if slices.Contains(users, r[0]) {
				out = append(out, []string{r[0], r[1], r[2], strings.Replace(r[3], "T", " ", 1)})
			}
		}
		return out
	}
	const query = "SELECT UserName, AccessKeyId, Status, DATE_FORMAT(CreateDate, '%Y-%m-%d %H:%i:%s') FROM access_keys WHERE region = ? AND UserName = ? ORDER BY AccessKeyId"
	if got := rows(t, db, strings.Replace(strings.Replace(query, "?", "'us-east-1'", 1), "?", "'alice'", 1)); !reflect.DeepEqual(got, of("alice")) {
		t.Errorf("query: %v, want %v", got, of("alice"))
	}
	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, user := range []string{"bob", "carol", "dave"} {
		if got := rows(t, prepared{stmt}, query, "us-east-1", user); !reflect.DeepEqual(got, of(user)) {
			t.Errorf("prepared, %s: %v, want %v", user, got, of(user))
		}
	}

	created := map[string]string{}
	for _, call := range []struct {
		query string
		args  []any
	}{
		{"CALL create_access_key('us-east-1', 'dave')", nil},
		{"CALL create_access_key(?, ?)", []any{"us-east-1", "erin"}},
	} {
		got := rows(t, db, call.query, call.args...)
		if len(got) != 1 || secretOf(w, got[0][0]) != got[0][4] {
			t.Fatalf("%s: %v", call.query, got)
		}
		created[got[0][1]] = got[0][0]
	}
	if _, err := db.ExecContext(ctx, "CALL update_access_key(?, ?, ?)", created["erin"], "Inactive", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	waitConnections(t, w, 0, "the pool closed")
	if st, st2 := keyStatus(w, created["dave"]), keyStatus(w, created["erin"]); st != "Active" || st2 != "Inactive" {
		t.Errorf("the keys CALL created: dave's %q, erin's %q; want Active and Inactive", st, st2)
	}
}

// prepared is a statement prepared on the server, as a queryer (the
// query text it is given is the one it was prepared with).
type prepared struct{ *sql.Stmt }

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.Stmt.QueryContext(ctx, args...)
}

func (p prepared) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.Stmt.ExecContext(ctx, args...)
}
