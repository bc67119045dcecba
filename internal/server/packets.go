package server

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"golang.org/x/sync/semaphore"

	"github.com/iamsql/iamsql/provider"
)

// max_allowed_packet. The MySQL protocol library reads a client's packet
// whole, whatever its size, before iamsql sees it (a 100 MiB literal took
// the server to 2.8 GB). So the limit is enforced on the bytes the client
// sends, before they are buffered: on a plain connection its packets are
// parsed as they arrive, and a command longer than max_allowed_packet is
// read to its end without being kept, answered with MySQL's error 1153
// (08S01, "Got a packet bigger than 'max_allowed_packet' bytes") and the
// connection closed, as MySQL does. Long data sent for a prepared
// statement's parameters (COM_STMT_SEND_LONG_DATA) counts toward the same
// bound until the statement is executed, reset or closed. Over TLS the
// packets are encrypted here: a client that sends more than
// max_allowed_packet (and a margin for TLS records) without the server
// answering in between is hung up on without the error. (Every command
// but COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE and COM_QUIT has an answer,
// so that is one command with its long data.)

const (
	// maxPacketChunk is the payload length of a packet that another
	// packet continues.
	maxPacketChunk = 1<<24 - 1
	// tlsMargin allows for TLS record overhead and a pipelined command.
	tlsMargin = 256 << 10
	// discardLimit and discardTimeout bound reading (and dropping) the
	// rest of an oversized packet, so that the client, still sending,
	// reads the error; past either the connection is just closed.
	discardLimit   = 1 << 30
	discardTimeout = 30 * time.Second
)

// What clients send between two answers is bounded together too: the
// first freeBytes of a command are free, and every byte beyond comes out
// of a pool of inflightBytes shared by all connections; a connection
// whose client sends more waits (it is not read, so its client waits)
// until another's command is answered, up to inflightWait, and is then
// answered with error 1041 (Out of resources) and hung up on. So at most a few commands of megabytes are read, parsed and
// planned at once, whatever the number of connections; ordinary
// statements never wait.
const (
	freeBytes     = 64 << 10
	inflightBytes = 32 << 20
	inflightWait  = 20 * time.Second
)

var inflight = semaphore.NewWeighted(inflightBytes)

// packetLimit follows what a client sends (see above).
type packetLimit struct {
	max int

	// tls is set once the client asked for TLS: what follows is
	// encrypted, and only counted (sinceAnswer).
	tls bool

	hdr     [4]byte
	hdrN    int
	left    int  // payload bytes left in the current chunk
	more    bool // another chunk continues the current one
	logical int  // payload bytes of the current logical packet
	seq     byte // sequence id of the current chunk
	packets int  // logical packets begun
	cmd     int  // the logical packet's first byte; -1 until seen
	// flags are the first payload bytes of the client's first packet:
	// its capabilities, CLIENT_SSL among them.
	flags    []byte
	longData int
	// sinceAnswer counts what the client sent since the server last
	// answered (the server's writes reset it, from whatever goroutine
	// writes), and pooled how much of it came out of the pool.
	poolMu      sync.Mutex
	sinceAnswer int64
	pooled      int64
	// loggedIn is set once the client has logged in: before, a client
	// that sends more than max_allowed_packet is not a MySQL client
	// waiting for an answer, and is hung up on at once.
	loggedIn atomic.Bool
}

func newPacketLimit(max int) *packetLimit { return &packetLimit{max: max, cmd: -1} }

// answered is called when the server writes to the client: counting
// starts again, and what the command took from the pool goes back.
func (l *packetLimit) answered() {
	l.poolMu.Lock()
	pooled := l.pooled
	l.sinceAnswer, l.pooled = 0, 0
	l.poolMu.Unlock()
	if pooled > 0 {
		inflight.Release(pooled)
	}
}

// take counts n more bytes from the client and waits until the pool
// covers what is beyond freeBytes; false when it did not in time.
func (l *packetLimit) take(n int) bool {
	l.poolMu.Lock()
	l.sinceAnswer += int64(n)
	need := l.sinceAnswer - freeBytes - l.pooled
	l.poolMu.Unlock()
	if need <= 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), inflightWait)
	defer cancel()
	if inflight.Acquire(ctx, need) != nil {
		return false
	}
	l.poolMu.Lock()
	l.pooled += need
	l.poolMu.Unlock()
	return true
}

// close gives back what the connection holds of the pool.
func (l *packetLimit) close() { l.answered() }

// scan follows b, bytes just read from the client. When they hold more
// than max_allowed_packet of one command it reports over, and how many
// bytes of that packet are still to come.
func (l *packetLimit) scan(b []byte) (over bool, toCome int) {
	for i := 0; i < len(b); {
		if l.tls {
			// take counts these bytes once scan has looked at them.
			l.poolMu.Lock()
			over := l.sinceAnswer+int64(len(b)-i) > int64(l.max+tlsMargin)
			l.poolMu.Unlock()
			return over, 0
		}
		if l.left > 0 {
			n := min(l.left, len(b)-i)
			if l.cmd < 0 {
				l.cmd = int(b[i])
			}
			if l.packets == 1 && len(l.flags) < 4 {
				l.flags = append(l.flags, b[i:i+min(n, 4-len(l.flags))]...)
			}
			l.left -= n
			i += n
			if l.left == 0 && !l.more && l.end() {
				return true, 0
			}
			continue
		}
		l.hdr[l.hdrN] = b[i]
		l.hdrN++
		i++
		if l.hdrN < 4 {
			continue
		}
		l.hdrN = 0
		size := int(l.hdr[0]) | int(l.hdr[1])<<8 | int(l.hdr[2])<<16
		l.seq = l.hdr[3]
		if !l.more {
			l.logical, l.cmd = 0, -1
			l.packets++
		}
		l.more = size == maxPacketChunk
		l.logical += size
		l.left = size
		if l.logical > l.max {
			return true, l.left - min(l.left, len(b)-i)
		}
		if size == 0 && !l.more && l.end() {
			return true, 0
		}
	}
	return false, 0
}

// end is called at the end of each logical packet; it reports an
// oversized total of long data.
func (l *packetLimit) end() bool {
	if l.packets == 1 && len(l.flags) == 4 && binary.LittleEndian.Uint32(l.flags)&mysql.CapabilityClientSSL != 0 && l.logical == 32 {
		l.tls = true // an SSLRequest: TLS follows
		return false
	}
	switch l.cmd {
	case mysql.ComStmtSendLongData:
		l.longData += l.logical
		return l.longData > l.max
	case mysql.ComStmtExecute, mysql.ComStmtReset, mysql.ComStmtClose, mysql.ComQuery:
		l.longData = 0
	}
	return false
}

// errPacketTooLarge and errBusy are what refuse answers.
var (
	errPacketTooLarge = mysql.NewSQLError(provider.ErrNumPacketTooLarge, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes")
	errBusy           = mysql.NewSQLError(provider.ErrNumOutOfResources, "HY000",
		"Out of resources: other connections' long statements held the server's %d MiB for statement text for %s; the connection is closed: send the statement again later, or a shorter one",
		inflightBytes>>20, inflightWait)
)

// refuse answers a command the server will not read: it reads and drops
// the rest of it (toCome bytes, then any chunks continuing it), sends the
// error and closes the connection. Over TLS, or before the client logged
// in, it only closes the connection.
func (l *packetLimit) refuse(c net.Conn, toCome int, e *mysql.SQLError) {
	defer c.Close()
	if l.tls || !l.loggedIn.Load() {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(discardTimeout))
	buf := make([]byte, 64<<10)
	for read := 0; toCome > 0 || l.more; {
		if toCome == 0 {
			var h [4]byte
			if _, err := io.ReadFull(c, h[:]); err != nil {
				return
			}
			toCome = int(h[0]) | int(h[1])<<8 | int(h[2])<<16
			l.more, l.seq = toCome == maxPacketChunk, h[3]
			continue
		}
		n, err := c.Read(buf[:min(len(buf), toCome)])
		toCome -= n
		if read += n; err != nil || read > discardLimit {
			return
		}
	}
	payload := []byte{0xff, 0, 0, '#'}
	binary.LittleEndian.PutUint16(payload[1:], uint16(e.Num))
	payload = append(append(payload, e.State...), e.Message...)
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), l.seq + 1}
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(append(header, payload...))
}
