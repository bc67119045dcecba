package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/iamsql/iamsql/provider"
)

// max_allowed_packet is what the server reads of one command: a longer
// one is answered with 1153 and the connection closed, however the client
// sends it, without the server ever holding it.

func TestMaxAllowedPacketIsReadOnlyAndEnforced(t *testing.T) {
	w := newWorld(t, worldOptions{})
	db := w.db(User{})
	want := fmt.Sprint(provider.MaxStatementBytes)
	if got := rows(t, db, "SELECT @@max_allowed_packet, @@session.max_allowed_packet"); got[0][0] != want || got[0][1] != want {
		t.Fatalf("@@max_allowed_packet = %v, want %s", got, want)
	}
	_, err := db.Exec("SET GLOBAL max_allowed_packet = 1073741824")
	wantErr(t, err, 1238, "read only")

	// go-sql-driver sizes its packets by the server's value when asked to
	// (maxAllowedPacket=0): it refuses the statement itself.
	literal := strings.Repeat("x", provider.MaxStatementBytes)
	sized := w.db(User{}, "maxAllowedPacket=0")
	_, err = sized.Exec("SELECT LENGTH('" + literal + "')")
	if err != mysql.ErrPktTooLarge {
		t.Errorf("driver sized by the server: %v", err)
	}
	sized.Close()
	// With its default (64 MiB) it sends it: the server answers 1153.
	_, err = w.db(User{}).Exec("SELECT LENGTH('" + literal + "')")
	wantErr(t, err, provider.ErrNumPacketTooLarge, "max_allowed_packet")
	w.logs.waitFor(t, rawIO, "more than max_allowed_packet", "max_allowed_packet=4194304")

	// Just under the limit is answered.
	small := literal[:provider.MaxStatementBytes-64]
	if got := rows(t, db, "SELECT LENGTH('"+small+"')"); got[0][0] != fmt.Sprint(len(small)) {
		t.Fatalf("a statement under max_allowed_packet: %v", got)
	}
	db.Close()
	wantHealthy(t, w, "after oversized statements", 0)
}

// A raw client declares a 100 MiB command in 16 MiB packets: the server
// drops what it reads of it (it allocates far less than the command),
// answers 1153 with the next sequence number and closes the connection.
func TestOversizedCommandIsNeverBuffered(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := dialRaw(t, w.addr)
	if err := rc.login("anyone", ""); err != nil {
		t.Fatal(err)
	}
	const total = 100 << 20
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	chunk := bytes.Repeat([]byte{'1'}, maxPacketChunk)
	chunk[0] = comQuery
	sent, seq := 0, byte(0)
	var werr error
	for sent < total && werr == nil {
		n := min(maxPacketChunk, total-sent)
		// Header and body written apart: the test allocates nothing.
		if werr = rc.write([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}); werr == nil {
			werr = rc.write(chunk[:n])
		}
		sent += n
		seq++
		chunk[0] = '1'
	}
	if werr != nil {
		t.Fatalf("sending the command: %v (the server must read it to its end before answering)", werr)
	}
	p, err := rc.readPacket()
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	e, err := parseERR(p)
	if err != nil || e.Num != provider.ErrNumPacketTooLarge || !bytes.HasPrefix(p[3:], []byte("#08S01")) {
		t.Fatalf("answer %q (%v), want error 1153 (08S01)", p, err)
	}
	if rc.seq != seq+1 {
		t.Errorf("error packet sequence %d, want %d", rc.seq-1, seq)
	}
	rc.drainUntilClosed(t, "after 1153")
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 30<<20 {
		t.Errorf("the server allocated %d MiB while a client sent a 100 MiB command", grew>>20)
	}
	wantHealthy(t, w, "after a 100 MiB command", 0)
}

// Long data for a prepared statement's parameter counts toward the same
// bound; below it the statement runs.
func TestLongDataIsBounded(t *testing.T) {
	w := newWorld(t, worldOptions{})
	rc := dialRaw(t, w.addr)
	if err := rc.login("anyone", ""); err != nil {
		t.Fatal(err)
	}
	if err := rc.command(comPrepare, []byte("SELECT LENGTH(?)")); err != nil {
		t.Fatal(err)
	}
	p, err := rc.readPacket()
	if err != nil || len(p) < 5 || p[0] != 0 {
		t.Fatalf("prepare: %q %v", p, err)
	}
	id := binary.LittleEndian.Uint32(p[1:5])
	for { // the parameter and column definitions
		p, err := rc.readPacket()
		if err != nil {
			t.Fatal(err)
		}
		if p[0] == 0xfe && len(p) < 9 {
			if rc.caps&capDeprecateEOF == 0 {
				if _, err := rc.readPacket(); err != nil { // the columns' EOF
					t.Fatal(err)
				}
			}
			break
		}
	}
	piece := make([]byte, 1<<20)
	for sent := 0; sent <= provider.MaxStatementBytes; sent += len(piece) {
		payload := binary.LittleEndian.AppendUint32(nil, id)
		payload = binary.LittleEndian.AppendUint16(payload, 0)
		if err := rc.command(comStmtSendLongData, append(payload, piece...)); err != nil {
			break // the server hung up
		}
	}
	b := rc.drainUntilClosed(t, "long data beyond max_allowed_packet")
	if !bytes.Contains(b, []byte("max_allowed_packet")) {
		t.Errorf("the server closed without error 1153: %q", b)
	}
	wantHealthy(t, w, "after oversized long data", 0)
}

// Over TLS the server cannot read the packets: a client that sends more
// than max_allowed_packet without an answer in between is hung up on,
// and one that sends much more than that in many commands is not.
func TestMaxAllowedPacketOverTLS(t *testing.T) {
	cert := newTestCert(t)
	if err := mysql.RegisterTLSConfig("iamsql-test", cert.clientTLS()); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{Options: Options{Users: []User{rwUser}, TLS: cert.serverTLS(t)}})
	db := w.db(rwUser, "tls=iamsql-test")
	db.SetMaxOpenConns(1)
	piece := strings.Repeat("y", 256<<10)
	for i := range 3 * provider.MaxStatementBytes / len(piece) {
		if got := rows(t, db, "SELECT LENGTH('"+piece+"')"); got[0][0] != fmt.Sprint(len(piece)) {
			t.Fatalf("statement %d over TLS: %v", i, got)
		}
	}
	if got := rows(t, db, "SELECT CONNECTION_ID() = CONNECTION_ID()"); got[0][0] != "1" {
		t.Fatal(got)
	}
	_, err := db.Exec("SELECT LENGTH('" + strings.Repeat("z", provider.MaxStatementBytes+tlsMargin) + "')")
	if err == nil {
		t.Fatal("a statement beyond max_allowed_packet over TLS was answered")
	}
	w.logs.waitFor(t, rawIO, "more than max_allowed_packet", "tls=true")
	if got := rows(t, db, "SELECT 1"); got[0][0] != "1" {
		t.Fatalf("a new TLS connection after the hang-up: %v", got)
	}
}
