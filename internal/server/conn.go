package server

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/netutil"

	"github.com/iamsql/iamsql/provider"
)

// listener admits connections up to Options.MaxConnections and tracks
// each one, so that shutdown can close idle connections and a running
// statement can notice that its client went away.
type listener struct {
	net.Listener
	srv *Server

	mu     sync.Mutex
	active int
}

func (l *listener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// Out of file descriptors and the like: keep serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.srv.log.Warn("accept failed; retrying", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !l.admit() {
			l.srv.log.Warn("connection refused: too many connections", "remote", c.RemoteAddr().String(), "max_connections", l.srv.opts.MaxConnections)
			go refuse(c, mysql.ERConCount, "08004", "Too many connections")
			continue
		}
		// Until it has logged in, a client has handshakeTimeout to
		// answer (loggedIn lifts the deadline).
		_ = c.SetReadDeadline(time.Now().Add(l.srv.opts.handshakeTimeout))
		return &trackedConn{Conn: c, limit: newPacketLimit(provider.MaxStatementBytes), log: l.srv.log}, nil
	}
}

func (l *listener) admit() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if max := l.srv.opts.MaxConnections; max > 0 && l.active >= max {
		return false
	}
	l.active++
	return true
}

// count is the number of admitted connections.
func (l *listener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active
}

// release is called when an admitted connection has closed.
func (l *listener) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
}

// refuse answers a client with an error packet in place of the server
// greeting, as MySQL does when it is full, and hangs up.
func refuse(c net.Conn, num int, state, msg string) {
	defer c.Close()
	payload := []byte{0xff, 0, 0, '#'}
	binary.LittleEndian.PutUint16(payload[1:], uint16(num))
	payload = append(append(payload, state...), msg...)
	header := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(append(header, payload...))
}

// trackedConn is a client connection. The server reads a client only
// between statements, so a blocked Read means the connection is idle:
// drain closes idle connections and makes busy ones close once their
// statement's result is written.
type trackedConn struct {
	net.Conn

	mu       sync.Mutex
	reading  bool
	draining bool
	// writeFailed is set once a write to the client failed: what the
	// server sent since may not have arrived (a secret is then not
	// delivered).
	writeFailed atomic.Bool
	// limit enforces max_allowed_packet on what the client sends
	// (packets.go).
	limit *packetLimit
	log   *slog.Logger
}

func (c *trackedConn) Write(p []byte) (int, error) {
	if c.limit != nil {
		c.limit.answered()
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.writeFailed.Store(true)
	}
	return n, err
}

// Close gives back what the connection holds of the pool of long
// commands (packets.go).
func (c *trackedConn) Close() error {
	if c.limit != nil {
		c.limit.close()
	}
	return c.Conn.Close()
}

func (c *trackedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.draining {
		c.mu.Unlock()
		return 0, io.EOF
	}
	c.reading = true
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading = false
	c.mu.Unlock()
	if c.limit != nil && n > 0 {
		if over, toCome := c.limit.scan(p[:n]); over {
			c.log.Warn("a client sent more than max_allowed_packet in one command: error 1153, connection closed",
				"remote", c.RemoteAddr().String(), "max_allowed_packet", c.limit.max, "tls", c.limit.tls)
			c.limit.close()
			c.limit.refuse(c.Conn, toCome, errPacketTooLarge)
			return 0, io.EOF
		}
		if !c.limit.take(n) {
			c.log.Warn("a client's long command waited too long for memory other long commands held: error 1041, connection closed",
				"remote", c.RemoteAddr().String(), "waited", inflightWait)
			c.limit.close()
			c.limit.refuse(c.Conn, c.limit.left, errBusy)
			return 0, io.EOF
		}
	}
	return n, err
}

// loggedIn lifts the handshake deadline: a logged-in client may stay
// idle between statements as long as it likes.
func (c *trackedConn) loggedIn() {
	if c.limit != nil {
		c.limit.loggedIn.Store(true)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.draining {
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
}

// drain closes the connection now if it is idle, else at its next read.
func (c *trackedConn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	if c.reading {
		// Unblock the read; the server then closes the connection.
		_ = c.Conn.SetReadDeadline(time.Now())
	}
}

// unwrapTracked finds the trackedConn under the layers the protocol
// library adds (timeouts, TLS).
func unwrapTracked(c net.Conn) *trackedConn {
	for {
		switch x := c.(type) {
		case *trackedConn:
			return x
		case netutil.ConnWithTimeouts:
			c = x.Conn
		case *netutil.ConnWithTimeouts:
			c = x.Conn
		case *tls.Conn:
			c = x.NetConn()
		default:
			return nil
		}
	}
}

// watchDisconnect calls gone, once, if the client of c closes its end of
// the connection while a statement runs; the returned stop ends the
// watch. The server does not read from a client during a statement, so
// the socket's TCP state is checked every poll.
func watchDisconnect(c *trackedConn, poll time.Duration, gone func()) (stop func() bool) {
	if c == nil {
		return func() bool { return true }
	}
	tcp, ok := c.Conn.(*net.TCPConn)
	if !ok {
		return func() bool { return true }
	}
	var (
		mu      sync.Mutex
		stopped bool
		timer   *time.Timer
	)
	check := func() {
		if peerClosed(tcp) {
			gone()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			timer.Reset(poll)
		}
	}
	mu.Lock()
	timer = time.AfterFunc(poll, check)
	mu.Unlock()
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		return timer.Stop()
	}
}
