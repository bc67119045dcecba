package server

import (
	"net"
	"sync"

	"github.com/dolthub/vitess/go/mysql"
)

// answerWriter is the last writer of a logged-in connection, above TLS:
// every packet the protocol library writes to the client passes through
// it, and it mends the two ways in which the library's answers are not
// well-formed MySQL responses (dolthub/vitess as pinned in go.mod):
//
//   - An ERR packet ends a response, yet on some commands the library
//     writes the end of a result after it (COM_FIELD_LIST of a table that
//     cannot be listed, COM_SET_OPTION with an unknown option, a failed
//     COM_RESET_CONNECTION). The client reads that stray packet as the
//     answer to its next command, and from then on every answer is one
//     command late. Here a packet that continues a response after its
//     ERR packet is dropped.
//   - An OK packet's info text (UPDATE's "Rows matched: …", PREPARE's
//     "Statement prepared") is written as '#' followed by the text, which
//     clients read as a length-encoded string of 35 bytes ('#' is 35):
//     anything but 35 bytes of text is a malformed packet (the mariadb
//     CLI's ERROR 2027) or a garbled message. The handler marks such a
//     packet (infoNext) and it is rewritten with a length-encoded info
//     string, as MySQL writes it.
//
// The writer follows the packet framing (a 3-byte length, a sequence
// number, the body) of the stream the library writes, in whatever chunks
// they arrive, and otherwise passes every byte through unchanged.
type answerWriter struct {
	net.Conn

	mu sync.Mutex
	// head collects the 4-byte header of the next packet.
	head  [4]byte
	headN int
	// left is how many body bytes of the current packet are still to
	// come; dropping says they are discarded, first that the next one is
	// the packet's first.
	left     int
	dropping bool
	first    bool
	// continued is set while a packet of the maximum length is followed
	// by the rest of the same payload (whose first byte says nothing).
	continued bool
	// afterErr and errSeq: an ERR packet with sequence number errSeq-1
	// was written; a packet with sequence errSeq belongs to the same
	// response.
	afterErr bool
	errSeq   byte
	// infoOK is set by infoNext: the next packet is an OK packet whose
	// info text is in the library's form; it is collected in held.
	infoOK bool
	held   []byte
}

// maxPayload is the largest payload of one packet; a longer one goes on
// in the next packet.
const maxPayload = 1<<24 - 1

// guardAnswers puts an answerWriter between c and its client. It is
// called once the client has logged in, when any TLS is in place and the
// library's writes are whole packets.
func guardAnswers(c *mysql.Conn) *answerWriter {
	w := &answerWriter{Conn: c.Conn}
	c.Conn = w
	return w
}

// infoNext marks the next packet written to c's client as an OK packet
// carrying info text. What the library has buffered is flushed first, so
// that the next packet to reach the writer is that one.
func (w *answerWriter) infoNext(c *mysql.Conn) error {
	if err := c.FlushBuffer(); err != nil {
		return err
	}
	w.mu.Lock()
	w.infoOK = true
	w.mu.Unlock()
	return nil
}

func (w *answerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := emitter{p: p}
	for e.i < len(p) {
		if w.headN < 4 {
			// Header bytes. A header that arrives whole is passed on or
			// not at once; the start of a split one waits for its end.
			n := min(4-w.headN, len(p)-e.i)
			split := w.headN > 0 || n < 4
			copy(w.head[w.headN:], p[e.i:e.i+n])
			w.headN += n
			if w.headN < 4 {
				e.omit(n)
				continue
			}
			switch w.startPacket() {
			case passPacket:
				if split {
					e.omit(n)
					e.insert(w.head[:])
				} else {
					e.pass(n)
				}
			default: // dropped, or held for mending
				e.omit(n)
			}
			if w.left == 0 {
				w.endPacket(&e)
			}
			continue
		}
		// Body bytes.
		n := min(w.left, len(p)-e.i)
		body := p[e.i : e.i+n]
		if w.first && !w.continued && body[0] == 0xff && !w.dropping && w.held == nil {
			// An ERR packet ends its response.
			w.afterErr, w.errSeq = true, w.head[3]+1
		}
		w.first = false
		switch {
		case w.dropping:
			e.omit(n)
		case w.held != nil:
			w.held = append(w.held, body...)
			e.omit(n)
		default:
			e.pass(n)
		}
		w.left -= n
		if w.left == 0 {
			w.endPacket(&e)
		}
	}
	out := e.output()
	if len(out) > 0 {
		if _, err := w.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// What becomes of a packet.
const (
	passPacket = iota
	dropPacket
	holdPacket
)

// startPacket decides, its header complete, what becomes of a packet.
func (w *answerWriter) startPacket() int {
	w.left = int(w.head[0]) | int(w.head[1])<<8 | int(w.head[2])<<16
	w.first = true
	seq := w.head[3]
	switch {
	case w.continued:
		// The rest of a long payload shares its packet's fate.
		if w.dropping {
			return dropPacket
		}
		return passPacket
	case w.afterErr && seq == w.errSeq:
		w.dropping = true
		w.errSeq++ // and whatever follows it in the same response
		return dropPacket
	case w.infoOK:
		w.afterErr = false
		w.held = append(make([]byte, 0, 64), w.head[:]...)
		return holdPacket
	}
	w.afterErr = false
	return passPacket
}

// endPacket finishes the packet whose last byte was just read: a held OK
// packet goes out mended.
func (w *answerWriter) endPacket(e *emitter) {
	length := int(w.head[0]) | int(w.head[1])<<8 | int(w.head[2])<<16
	w.headN = 0
	w.continued = length == maxPayload
	if w.held != nil {
		e.insert(mendInfo(w.held))
		w.held = nil
		w.infoOK = false
	}
	if !w.continued {
		w.dropping = false
	}
}

// emitter builds what goes to the client from what the library wrote
// (p), copying only once something is left out or added.
type emitter struct {
	p       []byte
	i       int // how far p has been read
	copying bool
	out     []byte
}

// pass lets the next n bytes of p through.
func (e *emitter) pass(n int) {
	if e.copying {
		e.out = append(e.out, e.p[e.i:e.i+n]...)
	}
	e.i += n
}

// omit leaves the next n bytes of p out.
func (e *emitter) omit(n int) {
	e.copy()
	e.i += n
}

// insert adds b at this point.
func (e *emitter) insert(b []byte) {
	e.copy()
	e.out = append(e.out, b...)
}

func (e *emitter) copy() {
	if !e.copying {
		e.copying = true
		e.out = append([]byte(nil), e.p[:e.i]...)
	}
}

// output is what goes to the client.
func (e *emitter) output() []byte {
	if e.copying {
		return e.out
	}
	return e.p
}

// mendInfo rewrites an OK packet (header and body) whose info text
// follows a '#' into one whose info is a length-encoded string; any other
// packet is returned as it is.
func mendInfo(pkt []byte) []byte {
	body := pkt[4:]
	if len(body) == 0 || body[0] != 0x00 {
		return pkt
	}
	pos := 1
	for range 2 { // affected rows, last insert id
		n, ok := lenencSize(body, pos)
		if !ok {
			return pkt
		}
		pos += n
	}
	pos += 4 // status flags, warnings
	if pos >= len(body) || body[pos] != '#' {
		return pkt
	}
	info := body[pos+1:]
	mended := append(append([]byte(nil), body[:pos]...), lenencBytes(uint64(len(info)))...)
	mended = append(mended, info...)
	if len(mended) >= maxPayload {
		return pkt
	}
	head := []byte{byte(len(mended)), byte(len(mended) >> 8), byte(len(mended) >> 16), pkt[3]}
	return append(head, mended...)
}

// lenencSize is the size of the length-encoded integer at b[pos].
func lenencSize(b []byte, pos int) (int, bool) {
	if pos >= len(b) {
		return 0, false
	}
	n := 1
	switch b[pos] {
	case 0xfc:
		n = 3
	case 0xfd:
		n = 4
	case 0xfe:
		n = 9
	case 0xfb, 0xff:
		return 0, false
	}
	return n, pos+n <= len(b)
}

// lenencBytes is v as a length-encoded integer.
func lenencBytes(v uint64) []byte {
	switch {
	case v < 0xfb:
		return []byte{byte(v)}
	case v < 1<<16:
		return []byte{0xfc, byte(v), byte(v >> 8)}
	case v < 1<<24:
		return []byte{0xfd, byte(v), byte(v >> 8), byte(v >> 16)}
	}
	b := []byte{0xfe, 0, 0, 0, 0, 0, 0, 0, 0}
	for i := range 8 {
		b[1+i] = byte(v >> (8 * i))
	}
	return b
}
