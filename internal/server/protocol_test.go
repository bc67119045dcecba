package server

// Every answer the server writes is a well-formed MySQL response, for
// each capability combination the tested clients announce: a raw client
// reads every packet strictly as the protocol defines it (every field
// read, nothing left over, sequence numbers in order) and checks that
// the next command is answered by its own answer.

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Server status flags.
const (
	statusMoreResults  = 0x0008
	statusStateChanged = 0x4000
)

// okPacket is an OK packet, read strictly.
type okPacket struct {
	affected, insertID uint64
	status, warnings   uint16
	info               string
}

// resultSet is one result of a text or binary result set.
type resultSet struct {
	columns []columnDef
	rows    [][]string
	status  uint16 // of its end packet
}

type columnDef struct {
	name string
	typ  byte
}

// answer is a command's whole answer: its results, each an OK packet or a
// result set, or an error.
type answer struct {
	oks     []okPacket
	results []resultSet
	err     *rawError
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("error %v (after %d results, %d OKs)", a.err, len(a.results), len(a.oks))
	}
	return fmt.Sprintf("results %+v, OKs %+v", a.results, a.oks)
}

// strictClient is a raw client that reads answers strictly.
type strictClient struct {
	*rawClient
	deprecateEOF bool
}

func dialStrict(t testing.TB, w *world, caps uint32) *strictClient {
	t.Helper()
	rc := dialRaw(t, w.addr)
	rc.caps = caps
	if err := rc.login("anyone", ""); err != nil {
		t.Fatalf("login with capabilities %#x: %v", caps, err)
	}
	return &strictClient{rawClient: rc, deprecateEOF: caps&capDeprecateEOF != 0}
}

// next reads the next packet of an answer, which must carry the next
// sequence number.
func (sc *strictClient) next() ([]byte, error) {
	want := sc.seq
	p, err := sc.readPacket()
	if err != nil {
		return nil, err
	}
	if sc.seq != want+1 {
		return nil, fmt.Errorf("packet with sequence number %d, want %d", sc.seq-1, want)
	}
	return p, nil
}

// reader reads the fields of one packet.
type reader struct {
	p   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format+" in packet %q", append(args, r.p)...)
	}
}

func (r *reader) byte1() byte {
	if r.pos+1 > len(r.p) {
		r.fail("short packet at %d", r.pos)
		return 0
	}
	r.pos++
	return r.p[r.pos-1]
}

func (r *reader) fixed(n int) []byte {
	if r.pos+n > len(r.p) {
		r.fail("short packet: %d bytes at %d", n, r.pos)
		return nil
	}
	r.pos += n
	return r.p[r.pos-n : r.pos]
}

func (r *reader) uint16() uint16 {
	b := r.fixed(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) lenenc() uint64 {
	v, next, ok := lenencInt(r.p, r.pos)
	if !ok || r.p[r.pos] == 0xfb || r.p[r.pos] == 0xff {
		r.fail("bad length-encoded integer at %d", r.pos)
		return 0
	}
	r.pos = next
	return v
}

func (r *reader) lenencString() string {
	n := r.lenenc()
	return string(r.fixed(int(n)))
}

// end fails unless every byte was read.
func (r *reader) end() error {
	if r.err == nil && r.pos != len(r.p) {
		r.fail("%d bytes left over", len(r.p)-r.pos)
	}
	return r.err
}

// parseOK reads an OK packet (header 0x00, or 0xfe where it ends a result
// set under CLIENT_DEPRECATE_EOF) as MySQL writes it: the info text and
// session state are length-encoded strings.
func parseOK(p []byte, header byte) (okPacket, error) {
	r := &reader{p: p}
	var ok okPacket
	if h := r.byte1(); h != header {
		r.fail("OK packet header %#x, want %#x", h, header)
	}
	ok.affected = r.lenenc()
	ok.insertID = r.lenenc()
	ok.status = r.uint16()
	ok.warnings = r.uint16()
	if r.err == nil && r.pos < len(p) {
		ok.info = r.lenencString()
		if ok.status&statusStateChanged != 0 {
			r.lenencString()
		}
	}
	return ok, r.end()
}

func parseEOF(p []byte) (status uint16, err error) {
	r := &reader{p: p}
	if r.byte1() != 0xfe || len(p) != 5 {
		r.fail("not an EOF packet")
	}
	r.uint16() // warnings
	status = r.uint16()
	return status, r.end()
}

func parseERR(p []byte) (*rawError, error) {
	r := &reader{p: p}
	r.byte1()
	num := r.uint16()
	if r.byte1() != '#' {
		r.fail("ERR packet without SQL state marker")
	}
	state := r.fixed(5)
	for _, c := range state {
		if c < '0' || c > 'Z' {
			r.fail("SQL state %q", state)
		}
	}
	msg := string(p[r.pos:])
	r.pos = len(p)
	return &rawError{Num: int(num), Msg: msg}, r.end()
}

func parseColumnDef(p []byte, withDefault bool) (columnDef, error) {
	r := &reader{p: p}
	if cat := r.lenencString(); cat != "def" {
		r.fail("catalog %q", cat)
	}
	r.lenencString() // schema
	r.lenencString() // table
	r.lenencString() // original table
	name := r.lenencString()
	r.lenencString() // original name
	if r.lenenc() != 0x0c {
		r.fail("fixed fields length")
	}
	r.fixed(2 + 4) // character set, length
	typ := r.byte1()
	r.fixed(2 + 1 + 2) // flags, decimals, filler
	if withDefault && r.pos < len(p) {
		r.lenencString()
	}
	return columnDef{name: name, typ: typ}, r.end()
}

func parseTextRow(p []byte, ncols int) ([]string, error) {
	r := &reader{p: p}
	row := make([]string, ncols)
	for i := range row {
		if r.pos < len(p) && p[r.pos] == 0xfb {
			r.pos++
			row[i] = "NULL"
			continue
		}
		row[i] = r.lenencString()
	}
	return row, r.end()
}

// parseBinaryRow reads a row of the binary protocol (COM_STMT_EXECUTE).
func parseBinaryRow(p []byte, cols []columnDef) ([]string, error) {
	r := &reader{p: p}
	if r.byte1() != 0x00 {
		r.fail("binary row header")
	}
	nulls := r.fixed((len(cols) + 7 + 2) / 8)
	row := make([]string, len(cols))
	for i, c := range cols {
		if bit := i + 2; nulls != nil && nulls[bit/8]&(1<<(bit%8)) != 0 {
			row[i] = "NULL"
			continue
		}
		switch c.typ {
		case 1: // TINY
			row[i] = fmt.Sprint(r.byte1())
		case 2, 13: // SHORT, YEAR
			row[i] = fmt.Sprint(r.uint16())
		case 3, 9, 4: // LONG, INT24, FLOAT
			row[i] = fmt.Sprint(r.fixed(4))
		case 8, 5: // LONGLONG, DOUBLE
			if b := r.fixed(8); b != nil {
				row[i] = fmt.Sprint(binary.LittleEndian.Uint64(b))
			}
		case 7, 10, 12, 11: // TIMESTAMP, DATE, DATETIME, TIME
			n := int(r.byte1())
			row[i] = fmt.Sprint(r.fixed(n))
		case 0, 15, 16, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255:
			row[i] = r.lenencString()
		default:
			r.fail("column %q of type %d", c.name, c.typ)
		}
	}
	return row, r.end()
}

// endOfResult reads the packet that ends column definitions or rows:
// EOF, or under CLIENT_DEPRECATE_EOF an OK packet with an EOF header.
func (sc *strictClient) endOfResult(p []byte) (uint16, error) {
	if sc.deprecateEOF {
		ok, err := parseOK(p, 0xfe)
		return ok.status, err
	}
	return parseEOF(p)
}

// readAnswer reads a text-protocol answer (COM_QUERY) to its end,
// following SERVER_MORE_RESULTS_EXISTS.
func (sc *strictClient) readAnswer(binaryRows bool) (answer, error) {
	var a answer
	for {
		p, err := sc.next()
		if err != nil {
			return a, err
		}
		switch {
		case len(p) == 0:
			return a, fmt.Errorf("empty packet")
		case p[0] == 0x00:
			ok, err := parseOK(p, 0x00)
			if err != nil {
				return a, err
			}
			a.oks = append(a.oks, ok)
			if ok.status&statusMoreResults == 0 {
				return a, nil
			}
			continue
		case p[0] == 0xff:
			a.err, err = parseERR(p)
			return a, err
		}
		rs, err := sc.readResultSet(p, binaryRows)
		if err != nil {
			return a, err
		}
		a.results = append(a.results, rs)
		if rs.status&statusMoreResults == 0 {
			return a, nil
		}
	}
}

// readResultSet reads a result set whose column count packet is p.
func (sc *strictClient) readResultSet(p []byte, binaryRows bool) (resultSet, error) {
	var rs resultSet
	r := &reader{p: p}
	ncols := int(r.lenenc())
	if err := r.end(); err != nil || ncols == 0 {
		return rs, fmt.Errorf("column count: %v", err)
	}
	for range ncols {
		p, err := sc.next()
		if err != nil {
			return rs, err
		}
		c, err := parseColumnDef(p, false)
		if err != nil {
			return rs, err
		}
		rs.columns = append(rs.columns, c)
	}
	if !sc.deprecateEOF {
		p, err := sc.next()
		if err != nil {
			return rs, err
		}
		if _, err := parseEOF(p); err != nil {
			return rs, fmt.Errorf("after column definitions: %w", err)
		}
	}
	for {
		p, err := sc.next()
		if err != nil {
			return rs, err
		}
		if len(p) > 0 && p[0] == 0xfe && len(p) < 0xffffff {
			rs.status, err = sc.endOfResult(p)
			return rs, err
		}
		if len(p) > 0 && p[0] == 0xff {
			re, err := parseERR(p)
			if err != nil {
				return rs, err
			}
			return rs, fmt.Errorf("error in the middle of a result: %v", re)
		}
		var row []string
		if binaryRows {
			row, err = parseBinaryRow(p, rs.columns)
		} else {
			row, err = parseTextRow(p, ncols)
		}
		if err != nil {
			return rs, err
		}
		rs.rows = append(rs.rows, row)
	}
}

// query sends a COM_QUERY and reads its answer strictly.
func (sc *strictClient) query(t testing.TB, q string) answer {
	t.Helper()
	if err := sc.command(comQuery, []byte(q)); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	a, err := sc.readAnswer(false)
	if err != nil {
		t.Fatalf("%s: malformed answer: %v", q, err)
	}
	return a
}

// inStep checks that the connection answers a fresh query with its own
// answer: nothing of an earlier answer is left.
func (sc *strictClient) inStep(t testing.TB, after string, n int) {
	t.Helper()
	q := fmt.Sprintf("SELECT %d AS step", n)
	a := sc.query(t, q)
	if a.err != nil || len(a.results) != 1 || !reflect.DeepEqual(a.results[0].rows, [][]string{{fmt.Sprint(n)}}) {
		t.Fatalf("after %s the connection is out of step: %s answered %+v", after, q, a)
	}
}

// fieldList sends a COM_FIELD_LIST for table and reads its answer: the
// column definitions or an error.
func (sc *strictClient) fieldList(t testing.TB, table string) ([]string, *rawError) {
	t.Helper()
	if err := sc.command(comFieldList, append([]byte(table), 0)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for {
		p, err := sc.next()
		if err != nil {
			t.Fatalf("COM_FIELD_LIST %s: %v", table, err)
		}
		switch {
		case len(p) > 0 && p[0] == 0xff:
			re, err := parseERR(p)
			if err != nil {
				t.Fatalf("COM_FIELD_LIST %s: %v", table, err)
			}
			return names, re
		case len(p) > 0 && p[0] == 0xfe && len(p) < 0xffffff:
			if _, err := sc.endOfResult(p); err != nil {
				t.Fatalf("COM_FIELD_LIST %s: %v", table, err)
			}
			return names, nil
		}
		c, err := parseColumnDef(p, true)
		if err != nil {
			t.Fatalf("COM_FIELD_LIST %s: %v", table, err)
		}
		names = append(names, c.name)
	}
}

// TestEveryAnswerIsWellFormed runs, for each combination of the
// capabilities that change how answers are written (CLIENT_DEPRECATE_EOF,
// CLIENT_SESSION_TRACK, CLIENT_MULTI_STATEMENTS), the commands the tested
// clients send: queries, SQL-level PREPARE/EXECUTE/DEALLOCATE, UPDATE and
// INSERT (OK packets with info text and warnings), CALL, errors,
// COM_FIELD_LIST of every table and of an unknown one, COM_INIT_DB,
// COM_PING, COM_SET_OPTION, server-side prepared statements and
// COM_RESET_CONNECTION. Every packet must parse strictly and the next
// command must get its own answer. Listing fields makes no IAM call.
func TestEveryAnswerIsWellFormed(t *testing.T) {
	w := newWorld(t, worldOptions{})
	base := uint32(capLongPassword | capLongFlag | capConnectWithDB | capProtocol41 |
		capTransactions | capSecureConnection | capMultiResults | capPluginAuth)
	for _, extra := range []uint32{
		0,
		capSessionTrack,
		capDeprecateEOF,
		capSessionTrack | capDeprecateEOF,
		capMultiStatements,
		capMultiStatements | capSessionTrack | capDeprecateEOF,
	} {
		caps := base | extra
		var names []string
		for flag, name := range map[uint32]string{capSessionTrack: "SESSION_TRACK", capDeprecateEOF: "DEPRECATE_EOF", capMultiStatements: "MULTI_STATEMENTS"} {
			if caps&flag != 0 {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		t.Run(strings.Join(append([]string{"PROTOCOL_41"}, names...), "+"), func(t *testing.T) {
			wellFormedAnswers(t, w, caps)
		})
	}
}

func wellFormedAnswers(t *testing.T, w *world, caps uint32) {
	sc := dialStrict(t, w, caps)
	step := 0
	inStep := func(after string) {
		t.Helper()
		step++
		sc.inStep(t, after, step)
	}
	wantOK := func(q string, info string, warnings uint16) okPacket {
		t.Helper()
		a := sc.query(t, q)
		if a.err != nil || len(a.oks) != 1 || len(a.results) != 0 {
			t.Fatalf("%s: want one OK packet, got %+v", q, a)
		}
		if ok := a.oks[0]; ok.info != info || ok.warnings != warnings {
			t.Errorf("%s: OK packet with info %q and %d warnings, want %q and %d", q, ok.info, ok.warnings, info, warnings)
		}
		inStep(q)
		return a.oks[0]
	}
	wantRows := func(q string, want [][]string) {
		t.Helper()
		a := sc.query(t, q)
		if a.err != nil || len(a.results) != 1 || !reflect.DeepEqual(a.results[0].rows, want) {
			t.Fatalf("%s: want rows %v, got %+v", q, want, a)
		}
		inStep(q)
	}
	wantErr := func(q string, num int) {
		t.Helper()
		a := sc.query(t, q)
		if a.err == nil || (num != 0 && a.err.Num != num) {
			t.Fatalf("%s: want error %d, got %v", q, num, a)
		}
		inStep(q)
	}

	// The first answers of a session, as the mariadb CLI reads them.
	wantRows("select @@version_comment limit 1", [][]string{{"iamsql"}})
	inStep("login")

	// Schema-only work: the field lists the mariadb CLI reads at connect
	// (auto-rehash), which make no IAM call, and an unknown table.
	w.emu.ResetCalls()
	a := sc.query(t, "SHOW TABLES")
	if a.err != nil || len(a.results) != 1 {
		t.Fatalf("SHOW TABLES: %+v", a)
	}
	for _, row := range a.results[0].rows {
		fields, err := sc.fieldList(t, row[0])
		if err != nil || len(fields) == 0 {
			t.Errorf("COM_FIELD_LIST %s: %v %v", row[0], fields, err)
		}
		inStep("COM_FIELD_LIST " + row[0])
	}
	if fields, err := sc.fieldList(t, "no_such_table"); err == nil || err.Num != 1146 {
		t.Errorf("COM_FIELD_LIST of an unknown table: %v %v, want error 1146", fields, err)
	}
	inStep("COM_FIELD_LIST of an unknown table")
	// More schema-only work: none needs a region.
	for _, q := range []string{
		"SHOW COLUMNS FROM access_keys",
		"SHOW FULL COLUMNS FROM users",
		"DESCRIBE account_summary",
		"SHOW INDEX FROM access_keys",
		"SHOW CREATE TABLE users",
		"SHOW TABLE STATUS",
		"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'iam' ORDER BY table_name, ordinal_position",
		"SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema = DATABASE()",
		"SELECT * FROM access_keys LIMIT 0",
		"SELECT k.AccessKeyId, k.LastUsedDate, u.Arn FROM access_keys k JOIN users u ON u.UserName = k.UserName LIMIT 0",
		"SELECT COUNT(*) FROM users WHERE 1 = 0",
	} {
		if a := sc.query(t, q); a.err != nil || len(a.results) != 1 {
			t.Errorf("%s: %v", q, a)
		}
		inStep(q)
	}
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("schema-only work made %d IAM calls: %v", n, w.emu.Calls())
	}

	// SQL-level prepared statements: OK packets with info text.
	wantOK("PREPARE s FROM 'SELECT UserName FROM access_keys WHERE region = ? AND AccessKeyId = ?'", "Statement prepared", 0)
	wantOK("SET @r = 'us-east-1', @k = 'AKIABOB0000000000001'", "", 0)
	wantRows("EXECUTE s USING @r, @k", [][]string{{"bob"}})
	wantOK("DEALLOCATE PREPARE s", "", 0)
	wantErr("EXECUTE s USING @r, @k", 0) // unknown statement
	ok := wantOK("UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'",
		"Rows matched: 1  Changed: 1  Warnings: 0", 0)
	if ok.affected != 1 {
		t.Errorf("UPDATE: %d rows affected, want 1", ok.affected)
	}
	wantOK("UPDATE access_keys SET Status = 'Active' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'",
		"Rows matched: 1  Changed: 1  Warnings: 0", 0)

	// An INSERT answers OK with its note; the key is read and deleted.
	wantOK("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')", "", 1)
	a = sc.query(t, "SELECT AccessKeyId, SecretAccessKey FROM created_access_keys")
	if a.err != nil || len(a.results) != 1 || len(a.results[0].rows) != 1 || secretOf(w, a.results[0].rows[0][0]) != a.results[0].rows[0][1] {
		t.Fatalf("created_access_keys: %+v", a)
	}
	inStep("SELECT FROM created_access_keys")
	wantOK("DELETE FROM access_keys WHERE AccessKeyId = '"+a.results[0].rows[0][0]+"' AND region = 'us-east-1'", "", 0)

	// CALL returns its row, then the statement's own OK.
	a = sc.query(t, "CALL update_access_key('AKIABOB0000000000001', 'Active', 'us-east-1')")
	if a.err != nil {
		t.Fatalf("CALL: %v", a.err)
	}
	inStep("CALL")

	wantErr("SELEKT 1", 1064)
	wantErr("SELECT * FROM access_keys", 1210)
	wantErr("SELECT * FROM no_such_table", 1146)
	wantRows("SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'", [][]string{{"AKIABOB0000000000001"}})
	wantRows("SELECT * FROM access_keys LIMIT 0", [][]string(nil))

	if caps&capMultiStatements != 0 {
		a := sc.query(t, "SELECT 1; SET @x = 2; SELECT @x; UPDATE access_keys SET Status = 'Active' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")
		if a.err != nil || len(a.results) != 2 || len(a.oks) != 2 || a.oks[1].info != "Rows matched: 1  Changed: 0  Warnings: 0" {
			t.Fatalf("multi-statement: %+v", a)
		}
		inStep("a multi-statement")
		a = sc.query(t, "SELECT 1; SELEKT 2; SELECT 3")
		if a.err == nil || a.err.Num != 1064 || len(a.results) != 1 {
			t.Fatalf("multi-statement with an error: %+v", a)
		}
		inStep("a multi-statement with an error")
	}

	// Commands other than COM_QUERY.
	command := func(name string, cmd byte, payload []byte) answer {
		t.Helper()
		if err := sc.command(cmd, payload); err != nil {
			t.Fatal(err)
		}
		a, err := sc.readAnswer(false)
		if err != nil {
			t.Fatalf("%s: malformed answer: %v", name, err)
		}
		return a
	}
	if a := command("COM_PING", comPing, nil); a.err != nil || len(a.oks) != 1 {
		t.Errorf("COM_PING: %+v", a)
	}
	inStep("COM_PING")
	if a := command("COM_INIT_DB iam", comInitDB, []byte("iam")); a.err != nil || len(a.oks) != 1 {
		t.Errorf("COM_INIT_DB: %+v", a)
	}
	inStep("COM_INIT_DB")
	if a := command("COM_INIT_DB of an unknown database", comInitDB, []byte("nowhere")); a.err == nil || a.err.Num != 1049 {
		t.Errorf("COM_INIT_DB of an unknown database: %+v", a)
	}
	inStep("COM_INIT_DB of an unknown database")
	for _, opt := range []struct {
		payload []byte
		errNum  int
	}{{[]byte{0, 0}, 0}, {[]byte{1, 0}, 0}, {[]byte{9, 9}, 1047}} {
		if err := sc.command(comSetOption, opt.payload); err != nil {
			t.Fatal(err)
		}
		p, err := sc.next()
		if err != nil {
			t.Fatal(err)
		}
		if opt.errNum != 0 {
			if re, err := parseERR(p); err != nil || re.Num != opt.errNum {
				t.Errorf("COM_SET_OPTION %v: %v %v, want error %d", opt.payload, re, err, opt.errNum)
			}
		} else if _, err := sc.endOfResult(p); err != nil {
			t.Errorf("COM_SET_OPTION %v: %v", opt.payload, err)
		}
		inStep(fmt.Sprintf("COM_SET_OPTION %v", opt.payload))
	}

	// A server-side prepared statement, executed with its parameters.
	if err := sc.command(comPrepare, []byte("SELECT AccessKeyId, CreateDate FROM access_keys WHERE region = ? AND UserName = ?")); err != nil {
		t.Fatal(err)
	}
	p, err := sc.next()
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{p: p}
	r.byte1()
	stmtID := binary.LittleEndian.Uint32(r.fixed(4))
	ncols, nparams := r.uint16(), r.uint16()
	r.fixed(3)
	if err := r.end(); err != nil || ncols != 2 || nparams != 2 {
		t.Fatalf("COM_STMT_PREPARE: %d columns, %d parameters: %v", ncols, nparams, err)
	}
	for _, n := range []uint16{nparams, ncols} {
		for range n {
			p, err := sc.next()
			if err == nil {
				_, err = parseColumnDef(p, false)
			}
			if err != nil {
				t.Fatalf("COM_STMT_PREPARE: %v", err)
			}
		}
		if !sc.deprecateEOF {
			if p, err := sc.next(); err != nil || !isEOF(p) {
				t.Fatalf("COM_STMT_PREPARE: no EOF: %q %v", p, err)
			}
		}
	}
	inStep("COM_STMT_PREPARE")
	exec := binary.LittleEndian.AppendUint32(nil, stmtID)
	exec = append(exec, 0)                           // no cursor
	exec = binary.LittleEndian.AppendUint32(exec, 1) // iterations
	exec = append(exec, 0, 1, 0xfd, 0, 0xfd, 0)      // no NULLs, types bound: two VAR_STRINGs
	exec = append(append(exec, 9), "us-east-1"...)   // region
	exec = append(append(exec, 5), "alice"...)       // UserName
	if err := sc.command(comStmtExecute, exec); err != nil {
		t.Fatal(err)
	}
	a, err = sc.readAnswer(true)
	if err != nil || a.err != nil || len(a.results) != 1 || len(a.results[0].rows) != 2 {
		t.Fatalf("COM_STMT_EXECUTE: %+v %v", a, err)
	}
	inStep("COM_STMT_EXECUTE")
	if err := sc.command(comStmtClose, binary.LittleEndian.AppendUint32(nil, stmtID)); err != nil {
		t.Fatal(err)
	}
	inStep("COM_STMT_CLOSE") // which has no answer

	if a := command("COM_RESET_CONNECTION", comResetConnection, nil); a.err != nil || len(a.oks) != 1 {
		t.Errorf("COM_RESET_CONNECTION: %+v", a)
	}
	inStep("COM_RESET_CONNECTION")
}
