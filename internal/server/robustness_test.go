package server

// Robustness of the MySQL-protocol server: malformed and hostile packets
// on raw TCP connections, clients that die in the middle of a result, many
// concurrent connections, and a grammar-based SQL fuzz. After each abuse the
// server must still answer a normal client correctly, must not have
// crashed, and must not keep the abusive connection.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider"
)

// Client capability flags of the MySQL protocol.
const (
	capLongPassword     = 0x00000001
	capLongFlag         = 0x00000004
	capConnectWithDB    = 0x00000008
	capProtocol41       = 0x00000200
	capSSL              = 0x00000800
	capTransactions     = 0x00002000
	capSecureConnection = 0x00008000
	capMultiStatements  = 0x00010000
	capMultiResults     = 0x00020000
	capPluginAuth       = 0x00080000
	capSessionTrack     = 0x00800000
	capDeprecateEOF     = 0x01000000

	rawClientCaps = capLongPassword | capLongFlag | capConnectWithDB | capProtocol41 |
		capTransactions | capSecureConnection | capMultiResults | capPluginAuth
)

// Command bytes.
const (
	comQuit             = 0x01
	comInitDB           = 0x02
	comQuery            = 0x03
	comFieldList        = 0x04
	comPing             = 0x0e
	comBinlogDump       = 0x12
	comRegisterReplica  = 0x15
	comPrepare          = 0x16
	comStmtExecute      = 0x17
	comStmtSendLongData = 0x18
	comStmtClose        = 0x19
	comStmtReset        = 0x1a
	comSetOption        = 0x1b
	comStmtFetch        = 0x1c
	comBinlogDumpGTID   = 0x1e
	comResetConnection  = 0x1f
)

// rawIO bounds every read and write of a raw client: a server that does
// not answer (or hang up) within it is hung.
const rawIO = 5 * time.Second

// rawClient speaks the MySQL protocol byte by byte, so a test can send
// what no driver would.
type rawClient struct {
	t    testing.TB
	conn *net.TCPConn
	r    *bufio.Reader
	seq  byte
	// salt is the server's auth-plugin data from the greeting.
	salt []byte
	// caps are the capabilities the client announces (rawClientCaps
	// when zero).
	caps uint32
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, rawIO)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c.(*net.TCPConn), r: bufio.NewReader(c)}
}

// readPacket reads one packet; the sequence continues from its number.
func (rc *rawClient) readPacket() ([]byte, error) {
	_ = rc.conn.SetReadDeadline(time.Now().Add(rawIO))
	var h [4]byte
	if _, err := io.ReadFull(rc.r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	body := make([]byte, n)
	if _, err := io.ReadFull(rc.r, body); err != nil {
		return nil, err
	}
	rc.seq = h[3] + 1
	return body, nil
}

// writePacket frames payload with the next sequence number.
func (rc *rawClient) writePacket(payload []byte) error {
	return rc.writeFramed(len(payload), rc.seq, payload)
}

// writeFramed writes a header declaring length and seq, then body as is.
func (rc *rawClient) writeFramed(length int, seq byte, body []byte) error {
	h := []byte{byte(length), byte(length >> 8), byte(length >> 16), seq}
	rc.seq = seq + 1
	return rc.write(append(h, body...))
}

func (rc *rawClient) write(b []byte) error {
	_ = rc.conn.SetWriteDeadline(time.Now().Add(rawIO))
	_, err := rc.conn.Write(b)
	return err
}

// readGreeting reads the server's initial handshake and keeps its salt.
func (rc *rawClient) readGreeting() error {
	p, err := rc.readPacket()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if len(p) == 0 || p[0] != 10 {
		return fmt.Errorf("greeting: not protocol 10: %q", p)
	}
	i := bytes.IndexByte(p[1:], 0)
	if i < 0 {
		return fmt.Errorf("greeting: no server version")
	}
	pos := 1 + i + 1 + 4 // version, NUL, connection id
	if len(p) < pos+8+1+2+1+2+2+1+10+12 {
		return fmt.Errorf("greeting too short: %d bytes", len(p))
	}
	salt := append([]byte(nil), p[pos:pos+8]...)
	pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
	salt = append(salt, p[pos:pos+12]...)
	rc.salt = salt
	return nil
}

// handshakeResponse is a HandshakeResponse41 for user with
// mysql_native_password.
func (rc *rawClient) handshakeResponse(user, password string) []byte {
	var b bytes.Buffer
	var u4 [4]byte
	caps := rc.caps
	if caps == 0 {
		caps = rawClientCaps
	}
	binary.LittleEndian.PutUint32(u4[:], caps)
	b.Write(u4[:])
	binary.LittleEndian.PutUint32(u4[:], 1<<24)
	b.Write(u4[:])
	b.WriteByte(255) // utf8mb4
	b.Write(make([]byte, 23))
	b.WriteString(user)
	b.WriteByte(0)
	auth := nativeScramble(rc.salt, password)
	b.WriteByte(byte(len(auth)))
	b.Write(auth)
	b.WriteString(provider.DatabaseName)
	b.WriteByte(0)
	b.WriteString("mysql_native_password")
	b.WriteByte(0)
	return b.Bytes()
}

// nativeScramble is mysql_native_password's answer to salt:
// SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))).
func nativeScramble(salt []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(salt)
	h.Write(h2[:])
	h3 := h.Sum(nil)
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3
}

// login completes the handshake as user.
func (rc *rawClient) login(user, password string) error {
	if err := rc.readGreeting(); err != nil {
		return err
	}
	rc.seq = 1
	if err := rc.writePacket(rc.handshakeResponse(user, password)); err != nil {
		return err
	}
	for {
		p, err := rc.readPacket()
		if err != nil {
			return fmt.Errorf("login: %w", err)
		}
		switch {
		case len(p) > 0 && p[0] == 0x00:
			return nil
		case len(p) > 0 && p[0] == 0xff:
			return parseErrPacket(p)
		case len(p) > 0 && p[0] == 0xfe: // auth switch: plugin name, salt
			rest := p[1:]
			i := bytes.IndexByte(rest, 0)
			if i < 0 || string(rest[:i]) != "mysql_native_password" {
				return fmt.Errorf("login: switch to %q", rest)
			}
			rc.salt = bytes.TrimRight(rest[i+1:], "\x00")
			if err := rc.writePacket(nativeScramble(rc.salt, password)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("login: unexpected packet %q", p)
		}
	}
}

// loggedIn dials the server of w and logs in as anyone (w has no users).
func loggedIn(t testing.TB, w *world) *rawClient {
	t.Helper()
	rc := dialRaw(t, w.addr)
	if err := rc.login("anyone", ""); err != nil {
		t.Fatalf("raw login: %v", err)
	}
	return rc
}

// rawError is an ERR packet.
type rawError struct {
	Num int
	Msg string
}

func (e *rawError) Error() string { return fmt.Sprintf("ERROR %d: %s", e.Num, e.Msg) }

func parseErrPacket(p []byte) error {
	if len(p) < 3 {
		return &rawError{Num: -1, Msg: fmt.Sprintf("short ERR packet %q", p)}
	}
	msg := p[3:]
	if len(msg) > 0 && msg[0] == '#' && len(msg) >= 6 {
		msg = msg[6:]
	}
	return &rawError{Num: int(binary.LittleEndian.Uint16(p[1:3])), Msg: string(msg)}
}

// command sends a command packet (sequence 0).
func (rc *rawClient) command(cmd byte, payload []byte) error {
	rc.seq = 0
	return rc.writePacket(append([]byte{cmd}, payload...))
}

// query runs a text query and reads its whole answer: rows for a result
// set, nil rows for OK, a *rawError for ERR.
func (rc *rawClient) query(q string) ([][]string, error) {
	if err := rc.command(comQuery, []byte(q)); err != nil {
		return nil, err
	}
	return rc.readResult()
}

func (rc *rawClient) readResult() ([][]string, error) {
	p, err := rc.readPacket()
	if err != nil {
		return nil, err
	}
	switch {
	case len(p) == 0:
		return nil, fmt.Errorf("empty response packet")
	case p[0] == 0x00:
		return nil, nil
	case p[0] == 0xff:
		return nil, parseErrPacket(p)
	}
	ncols, _, ok := lenencInt(p, 0)
	if !ok {
		return nil, fmt.Errorf("bad column count packet %q", p)
	}
	for range ncols {
		if _, err := rc.readPacket(); err != nil {
			return nil, err
		}
	}
	if p, err := rc.readPacket(); err != nil || !isEOF(p) {
		return nil, fmt.Errorf("no EOF after column definitions: %q %v", p, err)
	}
	rows := [][]string{}
	for {
		p, err := rc.readPacket()
		if err != nil {
			return nil, err
		}
		if isEOF(p) {
			return rows, nil
		}
		if len(p) > 0 && p[0] == 0xff {
			return rows, parseErrPacket(p)
		}
		row := make([]string, 0, ncols)
		pos := 0
		for range ncols {
			if pos < len(p) && p[pos] == 0xfb {
				row = append(row, "NULL")
				pos++
				continue
			}
			n, next, ok := lenencInt(p, pos)
			if !ok || next+int(n) > len(p) {
				return nil, fmt.Errorf("bad row packet %q", p)
			}
			row = append(row, string(p[next:next+int(n)]))
			pos = next + int(n)
		}
		rows = append(rows, row)
	}
}

func isEOF(p []byte) bool { return len(p) > 0 && len(p) < 9 && p[0] == 0xfe }

func lenencInt(p []byte, pos int) (uint64, int, bool) {
	if pos >= len(p) {
		return 0, pos, false
	}
	switch c := p[pos]; {
	case c < 0xfb:
		return uint64(c), pos + 1, true
	case c == 0xfc && pos+3 <= len(p):
		return uint64(binary.LittleEndian.Uint16(p[pos+1:])), pos + 3, true
	case c == 0xfd && pos+4 <= len(p):
		return uint64(p[pos+1]) | uint64(p[pos+2])<<8 | uint64(p[pos+3])<<16, pos + 4, true
	case c == 0xfe && pos+9 <= len(p):
		return binary.LittleEndian.Uint64(p[pos+1:]), pos + 9, true
	}
	return 0, pos, false
}

// drainUntilClosed reads whatever the server still sends until it closes
// the connection, and fails the test if it does not within rawIO. It
// returns the packets' raw bytes.
func (rc *rawClient) drainUntilClosed(t testing.TB, what string) []byte {
	t.Helper()
	_ = rc.conn.SetReadDeadline(time.Now().Add(rawIO))
	b, err := io.ReadAll(rc.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server neither answered nor hung up within %s (read %q)", what, rawIO, b)
	}
	return b
}

// wantUsable checks that a raw connection still answers a query.
func (rc *rawClient) wantUsable(t testing.TB, what string) {
	t.Helper()
	got, err := rc.query("SELECT 6 * 7 AS answer")
	if err != nil || !reflect.DeepEqual(got, [][]string{{"42"}}) {
		t.Fatalf("%s: the connection no longer answers: %v %v", what, got, err)
	}
}

// wantHealthy checks that the server answers a normal client correctly
// and that every connection but the ones still open by the caller is
// gone.
func wantHealthy(t testing.TB, w *world, what string, stillOpen int) {
	t.Helper()
	db, err := sql.Open("mysql", w.dsn(User{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := tryRowsCtx(ctx, db, "SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
	// What IAM holds for alice (the fuzz may have changed it).
	want := [][]string{}
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == "alice" {
			want = append(want, []string{k.AccessKeyID, k.Status})
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i][0] < want[j][0] })
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after %s the server answers %v, %v; want %v", what, got, err, want)
	}
	db.Close()
	waitConnections(t, w, stillOpen, what)
}

// waitConnections waits until the server tracks exactly n connections
// (both its connection table and its listener's count).
func waitConnections(t testing.TB, w *world, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.srv.connectionCount() != n || w.srv.ln.count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("after %s the server holds %d connections (listener: %d), want %d", what, w.srv.connectionCount(), w.srv.ln.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// noPanicLogged fails if the server logged a recovered panic.
func noPanicLogged(t testing.TB, w *world) {
	t.Helper()
	for _, l := range strings.Split(w.logs.text(), "\n") {
		if strings.Contains(l, "panic") || strings.Contains(l, "runtime error") {
			t.Errorf("the server logged a panic: %.400s", l)
		}
	}
}

// TestMalformedPacketsBeforeLogin sends what is not a MySQL handshake
// response: garbage, other protocols, truncated and mis-sequenced
// responses, a huge declared length. Each connection must be closed
// promptly (after an error packet or not), and the server must go on
// serving others.
func TestMalformedPacketsBeforeLogin(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 256)
	rng.Read(random)
	random[3] = 0x42 // never a valid first sequence number

	type scenario struct {
		name string
		// readGreeting reads the server's greeting before sending.
		readGreeting bool
		send         func(rc *rawClient) error
		// halfClose closes the client's sending side after send, so a
		// server waiting for more bytes sees the end of the stream.
		halfClose bool
	}
	full := func(rc *rawClient) []byte { return rc.handshakeResponse("anyone", "") }
	scenarios := []scenario{
		{name: "random bytes before the greeting", send: func(rc *rawClient) error { return rc.write(random) }},
		{name: "an HTTP request", send: func(rc *rawClient) error {
			return rc.write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
		}},
		{name: "a TLS ClientHello to a server without TLS", readGreeting: true, send: func(rc *rawClient) error {
			return rc.write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03})
		}},
		{name: "an empty packet", readGreeting: true, send: func(rc *rawClient) error { return rc.writeFramed(0, 1, nil) }},
		{name: "a packet of zeros", readGreeting: true, send: func(rc *rawClient) error {
			return rc.writeFramed(64, 1, make([]byte, 64))
		}},
		{name: "only the capability flags", readGreeting: true, send: func(rc *rawClient) error {
			return rc.writeFramed(4, 1, full(rc)[:4])
		}},
		{name: "a response cut in the user name", readGreeting: true, send: func(rc *rawClient) error {
			p := full(rc)
			return rc.writeFramed(34, 1, p[:34])
		}},
		{name: "an auth response longer than the packet", readGreeting: true, send: func(rc *rawClient) error {
			p := append([]byte(nil), full(rc)[:32]...)
			p = append(p, "anyone\x00"...)
			p = append(p, 200, 1, 2, 3) // claims 200 bytes of scramble
			return rc.writeFramed(len(p), 1, p)
		}},
		{name: "a declared length the client never sends", readGreeting: true, halfClose: true, send: func(rc *rawClient) error {
			p := full(rc)
			return rc.writeFramed(len(p)+100, 1, p)
		}},
		{name: "a huge declared length", readGreeting: true, halfClose: true, send: func(rc *rawClient) error {
			return rc.writeFramed(0xffffff, 1, []byte("anyone"))
		}},
		{name: "a huge declared length before the greeting", halfClose: true, send: func(rc *rawClient) error {
			return rc.writeFramed(0xfffffe, 0, random[:16])
		}},
		{name: "sequence number 0 instead of 1", readGreeting: true, send: func(rc *rawClient) error {
			p := full(rc)
			return rc.writeFramed(len(p), 0, p)
		}},
		{name: "sequence number 9 instead of 1", readGreeting: true, send: func(rc *rawClient) error {
			p := full(rc)
			return rc.writeFramed(len(p), 9, p)
		}},
		{name: "SSL request to a server without TLS", readGreeting: true, send: func(rc *rawClient) error {
			p := full(rc)[:32]
			binary.LittleEndian.PutUint32(p, rawClientCaps|capSSL)
			return rc.writeFramed(32, 1, p)
		}},
		{name: "an unknown auth plugin and a 4000-byte user name", readGreeting: true, halfClose: true, send: func(rc *rawClient) error {
			var b bytes.Buffer
			b.Write(full(rc)[:32])
			b.WriteString(strings.Repeat("u", 4000))
			b.WriteByte(0)
			b.WriteByte(20)
			b.Write(random[:20])
			b.WriteString("iam\x00no_such_plugin\x00")
			return rc.writeFramed(b.Len(), 1, b.Bytes())
		}},
		{name: "hang up right after the greeting", readGreeting: true, send: func(rc *rawClient) error { return nil }, halfClose: true},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			rc := dialRaw(t, w.addr)
			if sc.readGreeting {
				if err := rc.readGreeting(); err != nil {
					t.Fatal(err)
				}
			}
			if err := sc.send(rc); err != nil {
				t.Fatalf("send: %v", err)
			}
			if sc.halfClose {
				_ = rc.conn.CloseWrite()
			}
			got := rc.drainUntilClosed(t, sc.name)
			// Whatever came back is a greeting and at most an error: the
			// server never lets a malformed handshake in.
			if i := bytes.Index(got, []byte{0x07, 0x00, 0x00, 0x02, 0x00}); i >= 0 {
				t.Errorf("the server answered OK to a malformed handshake: %q", got)
			}
			wantHealthy(t, w, sc.name, 0)
		})
	}
	noPanicLogged(t, w)
	if t.Failed() {
		t.Logf("server log:\n%s", w.logs.text())
	}
}

// TestMalformedPacketsAfterLogin sends malformed commands on logged-in
// raw connections. A command the server can answer gets an error packet,
// nothing after it, and the connection stays usable and in step; one it
// cannot (a broken frame) ends the connection; either way the server goes
// on serving others and keeps no trace of the connection.
func TestMalformedPacketsAfterLogin(t *testing.T) {
	w := newWorld(t, worldOptions{})
	type outcome int
	const (
		answers outcome = iota // an error or a result; the connection stays usable
		hangsUp                // the server closes the connection
	)
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, sc := range []struct {
		name string
		send func(rc *rawClient) error
		want outcome
		// errNum, when set, is the error number the server must answer.
		errNum int
		// vitessPanics marks a packet on which the protocol library
		// panics (it recovers and closes the connection): see the
		// report; any other panic fails the test.
		vitessPanics bool
	}{
		{name: "COM_QUERY with invalid UTF-8 in a literal", send: func(rc *rawClient) error {
			return rc.command(comQuery, []byte("SELECT 'caf\xe9 \xff\xfe\xfd' AS s"))
		}},
		{name: "COM_QUERY with invalid UTF-8 in a parameter value", send: func(rc *rawClient) error {
			return rc.command(comQuery, []byte("SELECT AccessKeyId FROM access_keys WHERE region = 'us-east-1' AND UserName = '\xc3\x28'"))
		}},
		{name: "COM_QUERY with invalid UTF-8 in a table name", send: func(rc *rawClient) error {
			return rc.command(comQuery, []byte("SELECT * FROM `acc\xffess_keys`"))
		}, errNum: 1146},
		{name: "COM_QUERY with invalid UTF-8 in a StackQL EXEC", send: func(rc *rawClient) error {
			return rc.command(comQuery, []byte("EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = '\xff\xfe', @Status = 'Inactive', @region = 'us-east-1'"))
		}},
		{name: "COM_QUERY with a NUL byte", send: func(rc *rawClient) error {
			return rc.command(comQuery, []byte("SELECT 1\x00; DROP TABLE access_keys"))
		}},
		{name: "empty COM_QUERY", send: func(rc *rawClient) error { return rc.command(comQuery, nil) }},
		{name: "COM_STMT_EXECUTE of an unknown statement", send: func(rc *rawClient) error {
			return rc.command(comStmtExecute, append(u32(12345), 0, 1, 0, 0, 0))
		}, errNum: 2014},
		{name: "COM_STMT_EXECUTE without a statement id", send: func(rc *rawClient) error {
			return rc.command(comStmtExecute, []byte{1})
		}, errNum: 2027},
		{name: "COM_STMT_FETCH without a cursor", send: func(rc *rawClient) error {
			return rc.command(comStmtFetch, append(u32(7), u32(100)...))
		}, errNum: 1047},
		{name: "COM_STMT_PREPARE of garbage", send: func(rc *rawClient) error {
			return rc.command(comPrepare, []byte("\xff\x00SELEC ? FROM ?"))
		}},
		{name: "COM_INIT_DB of an unknown database", send: func(rc *rawClient) error {
			return rc.command(comInitDB, []byte("no_such_db\xff"))
		}, errNum: 1049},
		{name: "an unknown command", send: func(rc *rawClient) error { return rc.command(0x7e, []byte("junk")) }, errNum: 1047},
		{name: "COM_SET_OPTION with an unknown option", send: func(rc *rawClient) error {
			return rc.command(comSetOption, []byte{9, 9})
		}, errNum: 1047},
		{name: "COM_FIELD_LIST of an unknown table", send: func(rc *rawClient) error {
			return rc.command(comFieldList, []byte("no_such_table\x00"))
		}, errNum: 1146},
		{name: "COM_QUERY with sequence number 3", send: func(rc *rawClient) error {
			return rc.writeFramed(9, 3, append([]byte{comQuery}, "SELECT 1"...))
		}, want: hangsUp},
		{name: "a huge declared length", send: func(rc *rawClient) error {
			return rc.writeFramed(0xffffff, 0, append([]byte{comQuery}, "SELECT 1"...))
		}, want: hangsUp},
		{name: "a declared length the client never sends", send: func(rc *rawClient) error {
			return rc.writeFramed(1000, 0, append([]byte{comQuery}, "SELECT 1"...))
		}, want: hangsUp},
		{name: "COM_STMT_SEND_LONG_DATA for an unknown statement", send: func(rc *rawClient) error {
			return rc.command(comStmtSendLongData, append(append(u32(99), 0, 0), "data"...))
		}, want: hangsUp},
		{name: "COM_BINLOG_DUMP with garbage", send: func(rc *rawClient) error {
			return rc.command(comBinlogDump, []byte{1, 2, 3})
		}, want: hangsUp},
		{name: "an empty packet", send: func(rc *rawClient) error { return rc.writeFramed(0, 0, nil) }, want: hangsUp, vitessPanics: true},
		{name: "COM_STMT_RESET of an unknown statement", send: func(rc *rawClient) error {
			return rc.command(comStmtReset, u32(4242))
		}, want: hangsUp, vitessPanics: true},
		{name: "COM_BINLOG_DUMP_GTID with garbage", send: func(rc *rawClient) error {
			return rc.command(comBinlogDumpGTID, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}, want: hangsUp, vitessPanics: true},
		{name: "COM_REGISTER_SLAVE with garbage", send: func(rc *rawClient) error {
			return rc.command(comRegisterReplica, []byte{1})
		}, want: hangsUp, vitessPanics: true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			logged := len(w.logs.text())
			rc := loggedIn(t, w)
			if err := sc.send(rc); err != nil {
				t.Fatalf("send: %v", err)
			}
			switch sc.want {
			case answers:
				_, err := rc.readResult()
				var re *rawError
				if err != nil && !errors.As(err, &re) {
					t.Fatalf("no answer: %v", err)
				}
				if re != nil {
					t.Logf("answer: %v", re)
					if strings.Contains(re.Msg, "panic") || strings.Contains(re.Msg, "runtime error") {
						t.Errorf("error %v reports a panic", re)
					}
				}
				if sc.errNum != 0 && (re == nil || re.Num != sc.errNum) {
					t.Errorf("answer %v, want error %d", err, sc.errNum)
				}
				rc.wantUsable(t, sc.name)
				rc.conn.Close()
			case hangsUp:
				_ = rc.conn.CloseWrite()
				rc.drainUntilClosed(t, sc.name)
			}
			wantHealthy(t, w, sc.name, 0)
			panicked := strings.Contains(w.logs.text()[logged:], "mysql_server caught panic")
			if panicked && !sc.vitessPanics {
				t.Errorf("the server logged a panic:\n%s", w.logs.text()[logged:])
			}
			if !panicked && sc.vitessPanics {
				t.Logf("the protocol library no longer panics here (fixed upstream?)")
			}
		})
	}
}

// TestStalledHandshakesAreDropped: clients that connect and then stall —
// before sending anything, in the middle of their handshake response, or
// without answering the auth switch — are hung up on after the handshake
// timeout, so they cannot hold the connection slots for ever; a logged-in
// client may stay idle longer than that.
func TestStalledHandshakesAreDropped(t *testing.T) {
	const timeout = 300 * time.Millisecond
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, MaxConnections: 4, handshakeTimeout: timeout}})
	idle := w.conn(rwUser)
	stalls := map[string]func(rc *rawClient) error{
		"silent after connecting": func(rc *rawClient) error { return nil },
		"silent after the greeting": func(rc *rawClient) error {
			return rc.readGreeting()
		},
		"half a handshake response": func(rc *rawClient) error {
			if err := rc.readGreeting(); err != nil {
				return err
			}
			p := rc.handshakeResponse(rwUser.Name, rwUser.Password)
			return rc.writeFramed(len(p), 1, p[:20])
		},
	}
	start := time.Now()
	var clients []*rawClient
	var names []string
	for name, stall := range stalls {
		rc := dialRaw(t, w.addr)
		if err := stall(rc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		clients = append(clients, rc)
		names = append(names, name)
	}
	// The three stalled clients and the idle one fill the server.
	waitConnections(t, w, 4, "four connections")
	for i, rc := range clients {
		rc.drainUntilClosed(t, names[i])
		if d := time.Since(start); d > timeout+2*time.Second {
			t.Errorf("%s: hung up on only after %s (handshake timeout %s)", names[i], d, timeout)
		}
	}
	waitConnections(t, w, 1, "the stalled handshakes")
	// Slots are free again; the idle logged-in client outlived the
	// handshake timeout and still works.
	if got := rows(t, idle, "SELECT 'still here'"); got[0][0] != "still here" {
		t.Errorf("idle connection: %v", got)
	}
	if got := rows(t, w.db(rwUser), "SELECT COUNT(*) FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice'"); got[0][0] != "2" {
		t.Errorf("a new client: %v", got)
	}
}

// TestErrorNumbersMatchTheShell: a syntax error is 1064, a StackQL
// front-end error keeps its number and the engine's own errors get
// MySQL's over the protocol, as in the shell and exec (go-mysql-server's
// handler would report all of them as 1105).
func TestErrorNumbersMatchTheShell(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.conn(User{})
	for _, tc := range []struct {
		query     string
		num       int
		fragments []string
	}{
		{"SELEC 1", 1064, []string{"syntax error at position"}},
		{"SELECT * FROM access_keys WHERE", 1064, []string{"syntax error"}},
		{"SELECT 'unterminated", 1064, nil},
		{"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Colour = 'red', @region = 'us-east-1'", provider.ErrNumBadParam, []string{"unknown parameter @Colour"}},
		{"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'", provider.ErrNumBadParam, []string{"given twice"}},
		{"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Paused', @region = 'us-east-1'", provider.ErrNumBadParam, []string{"Status"}},
		// go-mysql-server's own errors with MySQL's numbers (its handler
		// sends 1105 for these).
		{"INSERT INTO access_keys (UserName, region) VALUES ('a')", 1136, []string{"number of values"}},
		{"SELECT nosuch FROM created_access_keys", 1054, []string{"nosuch"}},
		{"SELECT nosuchfunc(1)", 1305, []string{"nosuchfunc"}},
		{"SELECT 1 UNION SELECT 1, 2", 1222, nil},
		{"DROP TABLE access_keys", 1235, []string{"cannot be dropped"}},
		{"CALL nosuch()", provider.ErrNumNoSuchProcedure, []string{"PROCEDURE iam.nosuch does not exist"}},
	} {
		_, err := tryRows(c, tc.query)
		wantErr(t, err, tc.num, tc.fragments...)
	}
	// A prepared statement (COM_STMT_PREPARE) fails too.
	_, err := w.db(User{}).PrepareContext(ctx, "SELECT * FROM access_keys WHERE region = ? AND")
	if errNum(err) == 0 {
		t.Errorf("prepare of a syntax error: %v", err)
	}
	_, err = w.db(User{}).PrepareContext(ctx, "SELECT nosuch FROM created_access_keys WHERE 1 = ?")
	wantErr(t, err, 1054, "nosuch")
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("%d IAM calls for statements that must fail first: %v", n, w.emu.Calls())
	}
}

// addUsers adds n users (inv0000, inv0001, ...) with one key each.
func addUsers(t testing.TB, emu *emulator.Emulator, prefix string, n int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("%s%04d", prefix, i)
		if err := emu.AddUser(emulator.User{UserName: name, Path: "/inventory/"}); err != nil {
			t.Fatal(err)
		}
		if err := emu.AddAccessKey(emulator.AccessKey{UserName: name}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClientDyingMidResultCancelsTheStatement: a client starts the
// inventory of 1,000 users (one ListAccessKeys each, 30 ms apiece) and
// dies after the first packet of the result. The server notices, stops
// calling IAM, forgets the connection and serves the next client.
func TestClientDyingMidResultCancelsTheStatement(t *testing.T) {
	const users = 1000
	const inventory = "SELECT u.UserName, u.Arn, u.UserId, k.AccessKeyId, k.Status, k.CreateDate FROM users u JOIN access_keys k ON k.UserName = u.UserName " +
		"WHERE u.region = 'us-east-1' AND k.region = 'us-east-1' AND u.Path = '/inventory/'"
	for _, how := range []string{"reset", "close"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t, worldOptions{Options: Options{disconnectPoll: 20 * time.Millisecond}})
			addUsers(t, w.emu, "inv", users)
			w.emu.SetLatency(30 * time.Millisecond)
			rc := loggedIn(t, w)
			w.emu.ResetCalls()
			start := time.Now()
			if err := rc.command(comQuery, []byte(inventory)); err != nil {
				t.Fatal(err)
			}
			first, err := rc.readPacket()
			if err != nil {
				t.Fatalf("first packet: %v", err)
			}
			if n, _, ok := lenencInt(first, 0); !ok || n != 6 {
				t.Fatalf("first packet is not a 6-column result: %q", first)
			}
			atFirst := w.emu.Calls()["ListAccessKeys"]
			if how == "reset" {
				_ = rc.conn.SetLinger(0) // RST, not FIN
			}
			rc.conn.Close()
			died := time.Now()

			// The statement ends and the connection is forgotten soon.
			waitConnections(t, w, 0, "the client died")
			failed := w.logs.waitFor(t, 5*time.Second, "statement failed", "kind=SELECT")
			// IAM calls stop: those in flight may finish, no new ones.
			time.Sleep(200 * time.Millisecond)
			settled := w.emu.Calls()["ListAccessKeys"]
			settledAfter := time.Since(died)
			time.Sleep(500 * time.Millisecond)
			later := w.emu.Calls()["ListAccessKeys"]
			t.Logf("first packet after %s, with %d of %d ListAccessKeys calls made; %d calls %s after the client died, %d after 500ms more; %s",
				died.Sub(start).Round(time.Millisecond), atFirst, users, settled, settledAfter.Round(time.Millisecond), later, failed)
			if later != settled {
				t.Errorf("IAM calls went on after the client died: %d, then %d", settled, later)
			}
			if settled >= users {
				t.Errorf("the statement ran to the end (%d ListAccessKeys calls) although its client died", settled)
			}
			wantHealthy(t, w, "a client died mid-result", 0)
			noPanicLogged(t, w)
		})
	}
}

// TestFiftyConcurrentConnectionsMixedStatements: 50 connections, all
// open at once, each runs rounds of lookups, a statement that fails, a
// CALL create_access_key and the DELETE of that key, an INSERT read back
// from its own created_access_keys, and SHOW TABLES — every result
// checked, against the emulator's state.
func TestFiftyConcurrentConnectionsMixedStatements(t *testing.T) {
	const conns, rounds = 50, 4
	w := newWorld(t, worldOptions{})
	for i := range conns {
		if err := w.emu.AddUser(emulator.User{UserName: fmt.Sprintf("worker%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	db := w.db(User{})
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	aliceKeys := [][]string{{"AKIAALICE00000000001", "Active"}, {"AKIAALICE00000000002", "Inactive"}}

	var (
		statements, failures atomic.Int64
		errNums              sync.Map // error number -> *atomic.Int64
		ready, held          sync.WaitGroup
		maxHeld              atomic.Int64
	)
	countErr := func(num int) {
		v, _ := errNums.LoadOrStore(num, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	ready.Add(conns)
	held.Add(1)
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("worker%02d", i)
			c, err := db.Conn(ctx)
			if err != nil {
				ready.Done()
				errs <- err
				return
			}
			defer c.Close()
			// Every connection is open before any statement runs.
			ready.Done()
			held.Wait()
			fail := func(format string, args ...any) error {
				return fmt.Errorf("conn %d (%s): %s", i, user, fmt.Sprintf(format, args...))
			}
			run := func(query string) ([][]string, error) {
				statements.Add(1)
				qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				got, err := tryRowsCtx(qctx, c, query)
				if err != nil {
					failures.Add(1)
					countErr(errNum(err))
				}
				return got, err
			}
			exec := func(stmt string, wantAffected int64) error {
				statements.Add(1)
				qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				res, err := c.ExecContext(qctx, stmt)
				if err != nil {
					failures.Add(1)
					countErr(errNum(err))
					return fmt.Errorf("%.60s: %w", stmt, err)
				}
				if n, err := res.RowsAffected(); err != nil || n != wantAffected {
					return fmt.Errorf("%.60s: %d rows affected (%v), want %d", stmt, n, err, wantAffected)
				}
				return nil
			}
			// secrets are the keys this connection created, with their
			// secrets as IAM issued them.
			secrets := map[string]string{}
			for r := range rounds {
				// A lookup.
				got, err := run("SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'alice' ORDER BY AccessKeyId")
				if err != nil || !reflect.DeepEqual(got, aliceKeys) {
					errs <- fail("round %d: alice's keys: %v %v", r, got, err)
					return
				}
				// An error.
				_, err = run("SELECT AccessKeyId FROM access_keys WHERE UserName = '" + user + "'")
				if errNum(err) != provider.ErrNumBadParam || !strings.Contains(err.Error(), "region") {
					errs <- fail("round %d: missing region: %v", r, err)
					return
				}
				// Create a key, check it, delete it.
				got, err = run("CALL create_access_key('us-east-1', '" + user + "')")
				if err != nil || len(got) != 1 {
					errs <- fail("round %d: CALL create_access_key: %v %v", r, got, err)
					return
				}
				row := strings.Join(got[0], " ")
				id := akidIn(row)
				if id == "" || !strings.Contains(row, user) || !strings.Contains(row, secretOf(w, id)) {
					errs <- fail("round %d: CALL create_access_key returned %v", r, got)
					return
				}
				secrets[id] = secretOf(w, id)
				got, err = run("SELECT AccessKeyId, Status FROM access_keys WHERE region = 'us-east-1' AND UserName = '" + user + "'")
				if err != nil || !reflect.DeepEqual(got, [][]string{{id, "Active"}}) {
					errs <- fail("round %d: %s's keys after CALL: %v %v", r, user, got, err)
					return
				}
				if err := exec("DELETE FROM access_keys WHERE AccessKeyId = '"+id+"' AND region = 'us-east-1'", 1); err != nil {
					errs <- fail("round %d: %v", r, err)
					return
				}
				if keyStatus(w, id) != "" {
					errs <- fail("round %d: %s still exists after DELETE", r, id)
					return
				}
				// INSERT, read back from this connection's created keys
				// (which hold the CALL's keys too), StackQL DELETE.
				if err := exec("INSERT INTO access_keys (UserName, region) VALUES ('"+user+"', 'us-east-1')", 1); err != nil {
					errs <- fail("round %d: %v", r, err)
					return
				}
				inserted := keysOf(w, user)
				if len(inserted) != 1 {
					errs <- fail("round %d: %s has keys %v after INSERT", r, user, inserted)
					return
				}
				secrets[inserted[0]] = secretOf(w, inserted[0])
				got, err = run("SELECT AccessKeyId, UserName, SecretAccessKey FROM created_access_keys")
				if err != nil || len(got) != len(secrets) {
					errs <- fail("round %d: created_access_keys %v %v; this connection created %d keys", r, got, err, len(secrets))
					return
				}
				for _, k := range got {
					if k[1] != user || secrets[k[0]] == "" || k[2] != secrets[k[0]] {
						errs <- fail("round %d: created_access_keys holds %v, not a key of this connection", r, k)
						return
					}
				}
				if err := exec("DELETE FROM aws.iam_api.access_keys WHERE AccessKeyId = '"+inserted[0]+"' AND region = 'us-east-1'", 1); err != nil {
					errs <- fail("round %d: %v", r, err)
					return
				}
				// SHOW TABLES.
				got, err = run("SHOW TABLES")
				tables := strings.Join(column(got, 0), ",")
				if err != nil || !strings.Contains(tables, "access_keys") || !strings.Contains(tables, "created_access_keys") || !strings.Contains(tables, "users") {
					errs <- fail("round %d: SHOW TABLES: %v %v", r, got, err)
					return
				}
			}
		}()
	}
	ready.Wait()
	maxHeld.Store(int64(w.srv.connectionCount()))
	if n := maxHeld.Load(); n != conns {
		t.Errorf("%d connections held at once, want %d", n, conns)
	}
	start := time.Now()
	held.Done()
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	byNum := map[int]int64{}
	errNums.Range(func(k, v any) bool { byNum[k.(int)] = v.(*atomic.Int64).Load(); return true })
	calls := w.emu.Calls()
	t.Logf("%d connections held at once; %d statements in %s; %d errors by number %v (all expected); IAM calls: CreateAccessKey %d, DeleteAccessKey %d, ListAccessKeys %d",
		maxHeld.Load(), statements.Load(), elapsed.Round(time.Millisecond), failures.Load(), byNum, calls["CreateAccessKey"], calls["DeleteAccessKey"], calls["ListAccessKeys"])
	if want := conns * rounds * 2; calls["CreateAccessKey"] != want || calls["DeleteAccessKey"] != want {
		t.Errorf("CreateAccessKey %d, DeleteAccessKey %d calls; want %d each", calls["CreateAccessKey"], calls["DeleteAccessKey"], want)
	}
	for i := range conns {
		if keys := keysOf(w, fmt.Sprintf("worker%02d", i)); len(keys) != 0 {
			t.Errorf("worker%02d keeps keys %v", i, keys)
		}
	}
	db.Close()
	wantHealthy(t, w, "50 concurrent connections", 0)
}

// akidIn finds an access key id (AKIA + 16) in s.
func akidIn(s string) string {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "AKIA") && len(f) == 20 {
			return f
		}
	}
	return ""
}

func secretOf(w *world, id string) string {
	for _, k := range w.emu.Snapshot().Keys {
		if k.AccessKeyID == id {
			return k.SecretAccessKey
		}
	}
	return "\x00no such key"
}

func keysOf(w *world, user string) []string {
	var out []string
	for _, k := range w.emu.Snapshot().Keys {
		if k.UserName == user {
			out = append(out, k.AccessKeyID)
		}
	}
	return out
}

// ---- grammar-based SQL fuzz ----

// fuzzGen builds random statements from a small grammar of iamsql's SQL:
// its tables under their MySQL and StackQL names, their columns, every
// verb, CALL and EXEC forms, literals valid and not, IN lists, joins,
// ORDER BY/LIMIT, and junk. With prepared set, some literals become ?
// placeholders whose values go to args (a server-side prepared statement).
type fuzzGen struct {
	r        *rand.Rand
	prepared bool
	args     []any
	// mutating: the WHERE clause is an UPDATE's or DELETE's. It names
	// keys by = or IN only: a range on AccessKeyId (<>, NOT IN, IS NOT
	// NULL) passes for the required AccessKeyId and changes every key
	// of the caller, the root key the engine signs with included, which
	// locks the rest of the fuzz out (see the report).
	mutating bool
}

var fuzzTables = map[string][]string{
	"access_keys":         {"AccessKeyId", "UserName", "Status", "CreateDate", "region", "LastUsedDate", "LastUsedServiceName", "LastUsedRegion"},
	"users":               {"UserName", "UserId", "Arn", "Path", "CreateDate", "PasswordLastUsed", "region"},
	"created_access_keys": {"AccessKeyId", "UserName", "Status", "CreateDate", "SecretAccessKey", "region"},
	"account_summary":     {"AccountAccessKeysPresent", "AccountMFAEnabled", "Users", "UsersQuota", "AccessKeysPerUserQuota", "region"},
	"methods":             {"TableName", "Method", "Verb", "Operation", "ProcedureCall", "RequiredParams", "OptionalParams", "Permissions"},
}

var fuzzTableNames = map[string][]string{
	"access_keys":         {"access_keys", "aws.iam_api.access_keys", "aws.iam.access_keys", "`access_keys`", "iam.access_keys", "ACCESS_KEYS"},
	"users":               {"users", "aws.iam_api.users", "aws.iam.users"},
	"created_access_keys": {"created_access_keys"},
	"account_summary":     {"account_summary", "aws.iam_api.account_summary"},
	"methods":             {"methods"},
}

var fuzzJunk = []string{
	"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "(", ")", ",", ";", "'", "\"", "`", "=", "<>", "@", "@@", "?", "*",
	"--", "/*", "*/", "#", "NULL", "JOIN", "ON", "IN", "LIMIT", "ORDER BY", "GROUP BY", "HAVING", "UNION", "INTO",
	"VALUES", "SET", "EXEC", "CALL", "aws.", "iam_api", ".", "..", "\\", "\x00", "\t", "\n", "é", "🔑", "0x", "1e999",
	"-", "+", "%", "access_keys_Update", "create_access_key", "region", "us-east-1", "AccessKeyId",
}

var fuzzRegions = []string{"us-east-1", "us-east-1", "us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "nowhere-1", "US-EAST-1", ""}
var fuzzUsers = []string{"alice", "bob", "carol", "dave", "erin", "ci-deploy", "nobody", "root", "x", "Alice", "a b", "user@example.com", strings.Repeat("u", 65)}

// fuzzKeyIDs leaves out the root key the engine signs with: disabling
// or deleting it would (rightly) fail every later statement.
var fuzzKeyIDs = []string{"AKIAALICE00000000001", "AKIAALICE00000000002", "AKIABOB0000000000001", "AKIACAROL00000000002", "AKIAERIN000000000001",
	"AKIANOSUCHKEY0000001", "short", "AKIA-BAD-CHARS-00001", strings.Repeat("A", 129)}

func (g *fuzzGen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }
func (g *fuzzGen) chance(p float64) bool   { return g.r.Float64() < p }

// quote makes s an SQL string literal.
func quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// lit is a literal for column col: mostly fitting, sometimes not.
func (g *fuzzGen) lit(col string) string {
	var v string
	switch n := g.r.Intn(100); {
	case n < 72:
		switch col {
		case "region", "LastUsedRegion":
			v = g.pick(fuzzRegions)
		case "UserName":
			v = g.pick(fuzzUsers)
			if g.mutating && v == "root" {
				v = "nobody" // not the root user's keys: the engine signs with one
			}
		case "AccessKeyId":
			v = g.pick(fuzzKeyIDs)
		case "Status":
			v = g.pick([]string{"Active", "Inactive", "active", "Paused", ""})
		case "PathPrefix", "Path":
			v = g.pick([]string{"/", "/ops/", "/engineering/", "/service/", "no-slash", "/a//b/"})
		default:
			v = g.pick([]string{"x", "2026-01-15 12:00:00", "0", "iam"})
		}
	case n < 77:
		if g.prepared && g.chance(0.5) {
			g.args = append(g.args, nil)
			return "?"
		}
		return "NULL"
	case n < 82:
		return g.pick([]string{"0", "-1", "1", "9223372036854775807", "-9223372036854775809", "1e308", "0x41", "3.14", "TRUE", "b'101'"})
	case n < 87:
		v = g.pick([]string{"ünïcödé", "日本語のユーザー", "🔑🗝️", "\u202eevil", "e\u0301", "Ω≈ç√", "\u00a0", "\ufeffbom", "ℌ𝔢𝔩𝔩𝔬"})
	case n < 91:
		v = strings.Repeat(g.pick([]string{"a", "é", "🔑", "AKIA", "'"}), 1+g.r.Intn(20000))
	case n < 98:
		v = g.pick([]string{"' OR '1'='1", "'; DROP TABLE access_keys; --", `\' OR 1=1 #`, "alice' --", "\" OR \"\"=\"", "*/ OR 1=1 /*",
			"us-east-1' UNION SELECT SecretAccessKey FROM created_access_keys --", "%", "_", "alice%", "${jndi:ldap://x}", "../../etc/passwd", "@AccessKeyId"})
	default:
		// Broken on purpose: an unquoted or unterminated fragment.
		return g.pick([]string{"'unterminated", "us-east-1", "'a''", "''''", "0x", "@region", "`x`", "(SELECT 1)", "(SELECT SecretAccessKey FROM created_access_keys LIMIT 1)"})
	}
	if g.prepared && g.chance(0.4) {
		g.args = append(g.args, v)
		return "?"
	}
	return quote(v)
}

func (g *fuzzGen) table() (string, string) {
	names := []string{"access_keys", "access_keys", "access_keys", "users", "users", "created_access_keys", "account_summary", "methods"}
	base := g.pick(names)
	if g.chance(0.03) {
		return "no_such_table", "access_keys"
	}
	return g.pick(fuzzTableNames[base]), base
}

func (g *fuzzGen) column(base string) string {
	if g.chance(0.03) {
		return g.pick([]string{"NoSuchColumn", "`Access Key`", "SecretAccessKey", "1", "COUNT(*)", "NULL"})
	}
	return g.pick(fuzzTables[base])
}

func (g *fuzzGen) columns(base string) string {
	if g.chance(0.3) {
		return "*"
	}
	n := 1 + g.r.Intn(4)
	cols := make([]string, n)
	for i := range cols {
		cols[i] = g.column(base)
	}
	return strings.Join(cols, ", ")
}

func (g *fuzzGen) predicate(base, qual string) string {
	col := qual + g.column(base)
	kind := g.r.Intn(10)
	if g.mutating && strings.Contains(col, "AccessKeyId") {
		kind = g.r.Intn(6)
	}
	switch kind {
	case 0, 1, 2, 3, 4:
		return col + " = " + g.lit(strings.TrimPrefix(col, qual))
	case 5:
		n := 1 + g.r.Intn(4)
		if g.chance(0.05) {
			n = 60
		}
		vals := make([]string, n)
		for i := range vals {
			vals[i] = g.lit(strings.TrimPrefix(col, qual))
		}
		return col + g.pick([]string{" IN (", " NOT IN ("}) + strings.Join(vals, ", ") + ")"
	case 6:
		return col + " LIKE " + g.lit(strings.TrimPrefix(col, qual))
	case 7:
		return col + g.pick([]string{" IS NULL", " IS NOT NULL"})
	case 8:
		return col + g.pick([]string{" <> ", " < ", " >= ", " <=> "}) + g.lit(strings.TrimPrefix(col, qual))
	default:
		return "NOT (" + col + " = " + g.lit(strings.TrimPrefix(col, qual)) + ")"
	}
}

// where is a WHERE clause that usually gives the required region.
func (g *fuzzGen) where(base, qual string) string {
	var preds []string
	if g.chance(0.8) && base != "created_access_keys" && base != "methods" {
		preds = append(preds, qual+"region = "+g.lit("region"))
	}
	for range g.r.Intn(3) {
		preds = append(preds, g.predicate(base, qual))
	}
	if len(preds) == 0 {
		return ""
	}
	sep := " AND "
	if g.chance(0.1) {
		sep = " OR "
	}
	return " WHERE " + strings.Join(preds, sep)
}

func (g *fuzzGen) tail(base string) string {
	var s string
	if g.chance(0.3) {
		s += " ORDER BY " + g.column(base) + g.pick([]string{"", " ASC", " DESC"})
	}
	if g.chance(0.3) {
		s += " LIMIT " + g.pick([]string{"0", "1", "2", "100", "18446744073709551615", "-1", "1, 2", "1 OFFSET 1"})
	}
	return s
}

func (g *fuzzGen) selectStmt() string {
	name, base := g.table()
	switch g.r.Intn(10) {
	case 0:
		// The inventory join and its variants.
		join := g.pick([]string{"JOIN", "LEFT JOIN", "INNER JOIN", "CROSS JOIN"})
		return "SELECT u.UserName, k." + g.column("access_keys") + " FROM " + g.pick(fuzzTableNames["users"]) + " u " + join + " " +
			g.pick(fuzzTableNames["access_keys"]) + " k ON k.UserName = u.UserName" +
			" WHERE u.region = " + g.lit("region") + " AND k.region = " + g.lit("region") + g.tail("access_keys")
	case 1:
		return "SELECT COUNT(*), " + g.column(base) + " FROM " + name + g.where(base, "") + " GROUP BY " + g.column(base) + g.tail(base)
	case 2:
		return "SELECT " + g.columns(base) + " FROM " + name + g.where(base, "") + " UNION SELECT " + g.columns(base) + " FROM " + name + g.where(base, "")
	case 3:
		return "SELECT * FROM " + name + " WHERE " + g.column(base) + " IN (SELECT " + g.column(base) + " FROM " + name + g.where(base, "") + ")"
	default:
		return "SELECT " + g.columns(base) + " FROM " + name + g.where(base, "") + g.tail(base)
	}
}

func (g *fuzzGen) insertStmt() string {
	name := g.pick(fuzzTableNames["access_keys"])
	if g.chance(0.1) {
		name = g.pick([]string{"users", "created_access_keys", "methods"})
	}
	cols := g.pick([]string{"(UserName, region)", "(region, UserName)", "(region)", "(UserName)", "(AccessKeyId, region)", "(UserName, region, Status)", ""})
	if g.chance(0.3) {
		return "INSERT INTO " + name + " " + cols + " SELECT " + g.lit("UserName") + ", " + g.lit("region") +
			g.pick([]string{"", " FROM users WHERE region = " + g.lit("region") + " LIMIT 0"})
	}
	n := 1 + g.r.Intn(3)
	rows := make([]string, n)
	for i := range rows {
		rows[i] = "(" + g.lit("UserName") + ", " + g.lit("region") + ")"
	}
	return "INSERT INTO " + name + " " + cols + " VALUES " + strings.Join(rows, ", ")
}

func (g *fuzzGen) updateStmt() string {
	g.mutating = true
	defer func() { g.mutating = false }()
	name := g.pick(fuzzTableNames["access_keys"])
	set := g.pick([]string{"Status", "Status", "UserName", "CreateDate"}) + " = " + g.lit("Status")
	return "UPDATE " + name + " SET " + set + g.where("access_keys", "") + g.pick([]string{"", " AND AccessKeyId = " + g.lit("AccessKeyId")})
}

func (g *fuzzGen) deleteStmt() string {
	g.mutating = true
	defer func() { g.mutating = false }()
	name := g.pick(fuzzTableNames["access_keys"])
	if g.chance(0.1) {
		name = g.pick([]string{"users", "created_access_keys"})
	}
	return "DELETE FROM " + name + g.where("access_keys", "") + g.pick([]string{"", " AND AccessKeyId = " + g.lit("AccessKeyId")})
}

func (g *fuzzGen) callStmt() string {
	proc := g.pick([]string{"create_access_key", "update_access_key", "delete_access_key", "access_keys_Update", "no_such_procedure"})
	var args []string
	switch proc {
	case "create_access_key":
		args = []string{g.lit("region"), g.lit("UserName")}
	default:
		args = []string{g.lit("AccessKeyId"), g.lit("Status"), g.lit("region"), g.lit("UserName")}
	}
	args = args[:g.r.Intn(len(args)+1)]
	if g.chance(0.1) {
		args = append(args, g.lit("x"))
	}
	return "CALL " + proc + "(" + strings.Join(args, ", ") + ")"
}

func (g *fuzzGen) execStmt() string {
	res := g.pick([]string{"aws.iam_api.access_keys", "aws.iam.access_keys", "aws.iam_api.users", "access_keys", "aws.iam_api.nothing"})
	method := g.pick([]string{"access_keys_Update", "access_keys_Update", "access_keys_Create", "access_keys_Delete", "access_keys_List", "nope"})
	params := []string{"AccessKeyId", "Status", "region", "UserName", "Colour"}
	g.r.Shuffle(len(params), func(i, j int) { params[i], params[j] = params[j], params[i] })
	var ps []string
	for _, p := range params[:g.r.Intn(len(params)+1)] {
		ps = append(ps, "@"+p+g.pick([]string{" = ", "=", " "})+g.lit(p))
	}
	if g.chance(0.05) {
		ps = append(ps, "@region = "+g.lit("region"))
	}
	return "EXEC " + res + "." + method + " " + strings.Join(ps, g.pick([]string{", ", ",", " "}))
}

func (g *fuzzGen) metaStmt() string {
	_, base := g.table()
	return g.pick([]string{
		"SHOW TABLES", "SHOW FULL TABLES", "DESCRIBE " + base, "SHOW COLUMNS FROM " + base, "SHOW CREATE TABLE " + base,
		"SHOW PROCEDURE STATUS", "SHOW WARNINGS", "SHOW DATABASES", "SELECT DATABASE()", "SHOW INDEX FROM " + base,
		"EXPLAIN SELECT * FROM " + base + " WHERE region = 'us-east-1'", "SELECT * FROM information_schema.routines",
		"SELECT table_name FROM information_schema.tables WHERE table_schema = 'iam'", "USE iam", "USE no_such_db",
		"SELECT @@version", "SET @x = " + g.lit("x"), "SELECT @x", "BEGIN", "COMMIT", "ROLLBACK",
	})
}

// junk damages a statement: drops, repeats or inserts tokens.
func (g *fuzzGen) junk(stmt string) string {
	words := strings.Fields(stmt)
	for range 1 + g.r.Intn(3) {
		if len(words) == 0 {
			words = []string{g.pick(fuzzJunk)}
			continue
		}
		i := g.r.Intn(len(words))
		switch g.r.Intn(4) {
		case 0:
			words = append(words[:i], words[i+1:]...)
		case 1:
			words = append(words[:i], append([]string{g.pick(fuzzJunk)}, words[i:]...)...)
		case 2:
			words[i] = g.pick(fuzzJunk)
		default:
			j := g.r.Intn(len(words))
			words[i], words[j] = words[j], words[i]
		}
	}
	return strings.Join(words, " ")
}

// statement returns one random statement and the arguments of its
// placeholders.
func (g *fuzzGen) statement() (string, []any) {
	g.prepared = g.chance(0.15)
	g.args = nil
	var s string
	switch n := g.r.Intn(100); {
	case n < 35:
		s = g.selectStmt()
	case n < 45:
		s = g.insertStmt()
	case n < 53:
		s = g.updateStmt()
	case n < 61:
		s = g.deleteStmt()
	case n < 69:
		s = g.callStmt()
	case n < 79:
		s = g.execStmt()
	case n < 87:
		s = g.metaStmt()
	case n < 92:
		s = g.junk(g.selectStmt())
	case n < 96:
		s = g.junk(g.execStmt())
	default:
		words := make([]string, 1+g.r.Intn(8))
		for i := range words {
			words[i] = g.pick(fuzzJunk)
		}
		s = strings.Join(words, " ")
	}
	if strings.Count(s, "?") != len(g.args) {
		// Junk added or removed a placeholder: run it as text.
		g.args = nil
	}
	return s, g.args
}

// looksLikeSecret reports whether s holds what a secret access key looks
// like: 40 characters of the key alphabet, with upper case, lower case and
// digits (the fuzz's own literals never are).
func looksLikeSecret(s string) bool {
	for i := 0; i+40 <= len(s); i++ {
		run := s[i : i+40]
		if strings.Trim(run, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+") != "" {
			continue
		}
		if strings.ContainsAny(run, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(run, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(run, "0123456789") {
			return true
		}
	}
	return false
}

// TestGrammarFuzzOverProtocol runs thousands of random statements from
// fuzzGen over several connections. Every statement must end, within a
// deadline, in a result or a MySQL error; no error may carry a Go panic or
// runtime error, nor a secret (unless the statement itself fed one from
// created_access_keys into a value: counted and logged); no connection
// may be dropped; no secret may reach the server's log; and the server
// must answer normally afterwards. Statements the SQL engine panics on
// (go-mysql-server bugs, answered with an error by the server's guard) are
// counted and logged. IAMSQL_FUZZ_SEED and IAMSQL_FUZZ_STATEMENTS override
// the seed and the count.
func TestGrammarFuzzOverProtocol(t *testing.T) {
	seed := int64(20260115)
	if s := os.Getenv("IAMSQL_FUZZ_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("IAMSQL_FUZZ_SEED: %v", err)
		}
		seed = v
	}
	total := 3000
	if s := os.Getenv("IAMSQL_FUZZ_STATEMENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("IAMSQL_FUZZ_STATEMENTS: %v", err)
		}
		total = v
	}
	const workers = 4
	const deadline = 10 * time.Second
	t.Logf("seed %d (IAMSQL_FUZZ_SEED=%d reproduces), %d statements over %d connections", seed, seed, total, workers)

	w := newWorld(t, worldOptions{})
	db := w.db(User{})
	db.SetMaxOpenConns(workers)

	type stats struct {
		statements, results, prepared int
		errs                          map[int]int
		unknown                       map[string]int // 1105 messages, by shape
		// enginePanics are statements on which the SQL engine panicked
		// (the server answered an error and kept the connection).
		enginePanics []string
		// secretEchoes are statements that fed a secret from
		// created_access_keys into a value and got it back in an error.
		secretEchoes []string
	}
	var (
		mu  sync.Mutex
		all = stats{errs: map[int]int{}, unknown: map[string]int{}}
	)
	var wg sync.WaitGroup
	start := time.Now()
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &fuzzGen{r: rand.New(rand.NewSource(seed + int64(wk)))}
			c, err := db.Conn(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			local := stats{errs: map[int]int{}, unknown: map[string]int{}}
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				all.statements += local.statements
				all.results += local.results
				all.prepared += local.prepared
				for k, v := range local.errs {
					all.errs[k] += v
				}
				for k, v := range local.unknown {
					all.unknown[k] += v
				}
				all.enginePanics = append(all.enginePanics, local.enginePanics...)
				all.secretEchoes = append(all.secretEchoes, local.secretEchoes...)
			}()
			for i := range total / workers {
				q, args := g.statement()
				local.statements++
				if len(args) > 0 {
					local.prepared++
				}
				what := fmt.Sprintf("worker %d statement %d (seed %d): %.300q args %.200v", wk, i, seed, q, args)
				qctx, cancel := context.WithTimeout(ctx, deadline)
				err := runAll(qctx, c, q, args...)
				timedOut := qctx.Err() != nil
				cancel()
				if timedOut {
					t.Errorf("%s: no answer within %s", what, deadline)
					return
				}
				if err == nil {
					local.results++
					continue
				}
				num := errNum(err)
				if num == 0 {
					t.Errorf("%s: not a MySQL error (connection dropped?): %v", what, err)
					return
				}
				local.errs[num]++
				msg := err.Error()
				if strings.Contains(msg, "panic") || strings.Contains(msg, "runtime error") || strings.Contains(msg, "goroutine ") {
					t.Errorf("%s: error reports a Go panic: %.500s", what, msg)
				}
				if looksLikeSecret(msg) {
					if strings.Contains(q, "SecretAccessKey") {
						local.secretEchoes = append(local.secretEchoes, fmt.Sprintf("%.150s → %.150s", q, msg))
					} else {
						t.Errorf("%s: error carries a secret access key: %.500s", what, msg)
					}
				}
				if strings.Contains(msg, "internal error in the SQL engine") {
					local.enginePanics = append(local.enginePanics, fmt.Sprintf("%.300q %.100v", q, args))
				}
				if num == provider.ErrNumUnknown {
					local.unknown[errorShape(msg)]++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	nums := make([]int, 0, len(all.errs))
	errCount := 0
	for n, c := range all.errs {
		nums = append(nums, n)
		errCount += c
	}
	sort.Ints(nums)
	var byNum []string
	for _, n := range nums {
		byNum = append(byNum, fmt.Sprintf("%d×%d", n, all.errs[n]))
	}
	shapes := make([]string, 0, len(all.unknown))
	for k := range all.unknown {
		shapes = append(shapes, k)
	}
	sort.Slice(shapes, func(i, j int) bool {
		if all.unknown[shapes[i]] != all.unknown[shapes[j]] {
			return all.unknown[shapes[i]] > all.unknown[shapes[j]]
		}
		return shapes[i] < shapes[j]
	})
	var unknown []string
	for _, k := range shapes[:min(len(shapes), 15)] {
		unknown = append(unknown, fmt.Sprintf("%4d× %s", all.unknown[k], k))
	}
	calls := w.emu.Calls()
	t.Logf("fuzz summary: seed %d; %d statements (%d prepared) over %d connections in %s; %d results, %d errors; errors by number: %s; IAM calls: %d (%v)",
		seed, all.statements, all.prepared, workers, elapsed.Round(time.Millisecond), all.results, errCount, strings.Join(byNum, " "), w.emu.TotalCalls(), calls)
	t.Logf("most frequent of %d kinds of 1105 (unknown error):\n  %s", len(shapes), strings.Join(unknown, "\n  "))
	t.Logf("%d statements made the SQL engine panic (answered with an error, connection kept):\n  %s", len(all.enginePanics), strings.Join(all.enginePanics, "\n  "))
	t.Logf("%d statements fed a secret from created_access_keys into a value and got it back in the error (only to the connection that created the key):\n  %s",
		len(all.secretEchoes), strings.Join(all.secretEchoes[:min(len(all.secretEchoes), 5)], "\n  "))
	if all.statements != all.results+errCount {
		t.Errorf("%d statements but %d results and %d errors", all.statements, all.results, errCount)
	}
	db.Close()
	wantHealthy(t, w, "the fuzz", 0)
	// A panic the protocol library caught means a connection was
	// dropped without an answer.
	if i := strings.Index(w.logs.text(), "mysql_server caught panic"); i >= 0 {
		t.Errorf("the protocol library caught a panic:\n%.2000s", w.logs.text()[i:])
	}
	if n := strings.Count(w.logs.text(), "the SQL engine panicked"); n != len(all.enginePanics) {
		t.Errorf("%d engine panics logged, %d answered", n, len(all.enginePanics))
	}
	// The server's log never carries a secret either.
	for _, k := range w.emu.Snapshot().Keys {
		for _, l := range strings.Split(w.logs.text(), "\n") {
			if strings.Contains(l, k.SecretAccessKey) {
				t.Errorf("the secret of %s reached the server log: %.300s", k.AccessKeyID, l)
			}
		}
	}
}

// errorShape is an error message without its values: quoted parts and
// numbers are elided and the length is capped, so messages group by kind.
func errorShape(msg string) string {
	msg = strings.TrimPrefix(msg, "Error 1105 (HY000): ")
	var b strings.Builder
	quote := rune(0)
	for _, r := range msg {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				b.WriteString("…" + string(r))
			}
		case (r == '\'' || r == '"') && !strings.HasSuffix(b.String(), "n"):
			quote = r
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if !strings.HasSuffix(b.String(), "N") {
				b.WriteByte('N')
			}
		case r == '\n':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}

// runAll runs a statement and reads every result set it returns.
func runAll(ctx context.Context, c *sql.Conn, q string, args ...any) error {
	rs, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for {
		cols, err := rs.Columns()
		if err != nil {
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				return err
			}
		}
		if !rs.NextResultSet() {
			break
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	return rs.Close()
}

// TestExplainNumbersAreNumbersOrNULL: go-mysql-server answers EXPLAIN
// with the text "NULL" in its numeric columns (rows, filtered), which
// go-sql-driver (and any client that parses numbers) cannot read; the
// server sends a real NULL.
func TestExplainNumbersAreNumbersOrNULL(t *testing.T) {
	w := newWorld(t, worldOptions{})
	for _, q := range []string{
		"EXPLAIN SELECT * FROM access_keys WHERE region = 'us-east-1'",
		"DESCRIBE SELECT u.UserName FROM users u JOIN access_keys k ON k.UserName = u.UserName WHERE u.region = 'us-east-1' AND k.region = 'us-east-1'",
	} {
		rs, err := w.db(User{}).QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rs.Columns()
		n := 0
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			n++
		}
		if err := rs.Err(); err != nil || n == 0 {
			t.Errorf("%s: %d rows, %v", q, n, err)
		}
		rs.Close()
	}
}

// panicExpr is an SQL function whose evaluation panics, standing in for
// a bug of the SQL engine.
type panicExpr struct{ arg gmssql.Expression }

func (p panicExpr) Resolved() bool    { return p.arg == nil || p.arg.Resolved() }
func (p panicExpr) String() string    { return "iamsql_test_panic()" }
func (p panicExpr) Type() gmssql.Type { return types.Int64 }
func (p panicExpr) IsNullable() bool  { return true }
func (p panicExpr) Children() []gmssql.Expression {
	if p.arg == nil {
		return nil
	}
	return []gmssql.Expression{p.arg}
}
func (p panicExpr) WithChildren(c ...gmssql.Expression) (gmssql.Expression, error) {
	if len(c) == 0 {
		return panicExpr{}, nil
	}
	return panicExpr{arg: c[0]}, nil
}
func (p panicExpr) Eval(*gmssql.Context, gmssql.Row) (any, error) {
	var m map[string]int
	m["boom"]++ // a nil map write: runtime error
	return nil, nil
}

// TestEnginePanicsAnswerAnErrorAndKeepTheConnection: when the SQL engine
// panics on a statement — while planning it, or while producing its rows —
// the client gets error 1105 without any Go panic text, its connection
// stays open, and the server logs the panic (without the statement).
// Without the server's guard the protocol library hangs up on the client
// (or go-mysql-server answers "handler caught panic: runtime error ...").
func TestEnginePanicsAnswerAnErrorAndKeepTheConnection(t *testing.T) {
	w := newWorld(t, worldOptions{})
	sctx := gmssql.NewEmptyContext()
	w.srv.engine.SQL.Analyzer.Catalog.RegisterFunction(sctx,
		gmssql.Function1{Name: "iamsql_test_panic", Fn: func(e gmssql.Expression) gmssql.Expression { return panicExpr{arg: e} }})
	c := w.conn(User{})
	var id int
	if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT iamsql_test_panic(1)",                                                               // folded while planning
		"SELECT Method, iamsql_test_panic(Method) FROM methods",                                     // per row
		"SELECT UserName FROM users WHERE region = 'us-east-1' AND iamsql_test_panic(UserName) = 1", // in a filter over IAM rows
	} {
		_, err := tryRows(c, q)
		wantErr(t, err, provider.ErrNumUnknown, "internal error in the SQL engine")
		for _, bad := range []string{"panic", "runtime error", "nil map", "goroutine"} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("%s: the client sees %q: %v", q, bad, err)
			}
		}
		var again int
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&again); err != nil || again != id {
			t.Fatalf("after %s the connection is gone: id %d, was %d (%v)", q, again, id, err)
		}
	}
	w.logs.waitFor(t, time.Second, "the SQL engine panicked", "kind=SELECT")
	if strings.Contains(w.logs.text(), "mysql_server caught panic") {
		t.Errorf("the protocol library had to catch a panic:\n%s", w.logs.text())
	}
	if strings.Contains(w.logs.text(), "iamsql_test_panic(UserName)") {
		t.Errorf("the log holds the statement")
	}
	// Statements go-mysql-server v0.20.0 itself panics on (found by the
	// fuzz; they crash `iamsql exec`): answered, connection kept.
	for _, q := range []string{
		"SELECT COUNT(*) FROM methods LIMIT 0",
		"SELECT * FROM methods WHERE RequiredParams IN (SELECT OptionalParams FROM methods WHERE ProcedureCall IS NOT NULL AND 1 = 'x')",
	} {
		if _, err := tryRows(c, q); err != nil && errNum(err) == 0 {
			t.Errorf("%s: %v", q, err)
		}
		var again int
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&again); err != nil || again != id {
			t.Fatalf("after %s the connection is gone: id %d, was %d (%v)", q, again, id, err)
		}
	}
}

// TestLibraryLogsCarryNoStatementValues: at debug level the protocol
// libraries log failed statements; what they log must not carry the
// statement's values, which error messages quote (an invalid region, a
// user IAM did not find, the text near a syntax error) — values that can
// be secrets read back from created_access_keys.
func TestLibraryLogsCarryNoStatementValues(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.conn(User{})
	for _, q := range []string{
		"SELECT * FROM access_keys WHERE region = 'needle-region-1'",
		"CALL create_access_key('us-east-1', 'needleuser')",
		"CALL update_access_key('AKIABOB0000000000001', 'Active', 'us-east-1', 'needle-nobody')",
		"SELECT CAST('needle-date' AS DATETIME) + INTERVAL 1 DAY FROM access_keys WHERE region = 'us-east-1' AND CreateDate = 'needle-date'",
		"SELECT 'needle-syntax' FROM FROM",
		"EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'needle-key', @Status = 'needle-status', @region = 'us-east-1'",
	} {
		if _, err := tryRows(c, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	if _, err := c.PrepareContext(ctx, "SELECT * FROM access_keys WHERE region = 'needle-prepared' AND AND ?"); err == nil {
		t.Error("a broken prepared statement was accepted")
	}
	rows(t, c, "CALL create_access_key('us-east-1', 'dave')")
	_, _ = tryRows(c, "SELECT * FROM created_access_keys WHERE CreateDate IN (SELECT SecretAccessKey FROM created_access_keys)")
	_, _ = tryRows(c, "CALL create_access_key((SELECT SecretAccessKey FROM created_access_keys LIMIT 1), 'dave')")
	hangUp(c)
	w.logs.waitFor(t, 2*time.Second, "client disconnected")
	log := w.logs.text()
	if !strings.Contains(log, "error running query") || !strings.Contains(log, "error_code=1210") {
		t.Errorf("go-mysql-server's debug log of a failed statement is missing:\n%s", log)
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "needle") {
			t.Errorf("a statement value reached the log: %s", l)
		}
		for _, k := range w.emu.Snapshot().Keys {
			if strings.Contains(l, k.SecretAccessKey) {
				t.Errorf("the secret of %s reached the log: %s", k.AccessKeyID, l)
			}
		}
	}
}

// TestConcurrentMetadataQueries: clients (BI tools, the mysql CLI)
// browse information_schema on connecting. go-mysql-server v0.20.0 writes
// into its shared information_schema tables while planning such a
// statement, so concurrent ones race (`go test -race` shows it without
// the server's serialisation); each must still get the right rows.
func TestConcurrentMetadataQueries(t *testing.T) {
	w := newWorld(t, worldOptions{})
	db := w.db(User{})
	const conns, rounds = 8, 25
	db.SetMaxOpenConns(conns)
	queries := []struct{ query, want string }{
		{"SHOW PROCEDURE STATUS", ""},
		{"SELECT routine_name FROM information_schema.routines", ""},
		{"SELECT column_name FROM INFORMATION_SCHEMA.columns WHERE table_schema = 'iam' AND table_name = 'access_keys'", "AccessKeyId"},
		{"SELECT table_name FROM information_schema.tables WHERE table_schema = 'iam'", "created_access_keys"},
		{"SHOW FUNCTION STATUS", ""},
		{"SHOW TABLES", "access_keys"},
	}
	onEachConn(t, db, conns, func(i int, c *sql.Conn) error {
		for r := range rounds {
			q := queries[(i+r)%len(queries)]
			got, err := tryRows(c, q.query)
			if err != nil || !strings.Contains(fmt.Sprint(got), q.want) {
				return fmt.Errorf("conn %d: %s: %v %v", i, q.query, got, err)
			}
		}
		return nil
	})
	if n := w.emu.TotalCalls(); n != 0 {
		t.Errorf("metadata queries made %d IAM calls", n)
	}
}

// TestRandomBytesAfterLogin: logged-in connections send seeded random
// packets — random command bytes with random payloads, broken frames,
// bare noise — and then close their sending side. The server must answer
// or hang up on each within the deadline, never panic, keep no
// connection, and serve a normal client afterwards. (The command bytes
// on which the protocol library is known to panic are left to
// TestMalformedPacketsAfterLogin.) IAMSQL_FUZZ_SEED overrides the seed.
func TestRandomBytesAfterLogin(t *testing.T) {
	const packets = 150
	seed := int64(7)
	if s := os.Getenv("IAMSQL_FUZZ_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("IAMSQL_FUZZ_SEED: %v", err)
		}
		seed = v
	}
	w := newWorld(t, worldOptions{})
	rng := rand.New(rand.NewSource(seed))
	knownPanics := map[byte]bool{comStmtReset: true, comBinlogDumpGTID: true, comRegisterReplica: true}
	answered, hungUp := 0, 0
	for i := range packets {
		rc := loggedIn(t, w)
		payload := make([]byte, rng.Intn(64))
		rng.Read(payload)
		var err error
		switch rng.Intn(4) {
		case 0, 1: // a well-framed command with a random body
			cmd := byte(rng.Intn(0x30))
			for knownPanics[cmd] {
				cmd = byte(rng.Intn(0x30))
			}
			err = rc.command(cmd, payload)
		case 2: // a frame whose declared length is a lie
			err = rc.writeFramed(len(payload)+1+rng.Intn(1000), 0, append([]byte{comQuery}, payload...))
		default: // noise: the first byte pair is never an empty frame
			err = rc.write(append([]byte{byte(1 + rng.Intn(255)), byte(rng.Intn(256))}, payload...))
		}
		if err != nil {
			t.Fatalf("packet %d (seed %d): %v", i, seed, err)
		}
		_ = rc.conn.CloseWrite()
		if got := rc.drainUntilClosed(t, fmt.Sprintf("random packet %d (seed %d)", i, seed)); len(got) > 0 {
			answered++
		} else {
			hungUp++
		}
		rc.conn.Close()
	}
	t.Logf("seed %d: %d random packets; %d answered before the connection closed, %d closed without an answer", seed, packets, answered, hungUp)
	wantHealthy(t, w, "random packets", 0)
	noPanicLogged(t, w)
}
