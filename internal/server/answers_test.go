package server

import (
	"bytes"
	"math/rand"
	"net"
	"testing"
)

// checkingConn is a net.Conn that compares what is written to it with
// what should be.
type checkingConn struct {
	net.Conn
	want []byte
	n    int  // bytes written so far
	ok   bool // all of them as wanted
}

func (c *checkingConn) Write(p []byte) (int, error) {
	if c.n+len(p) > len(c.want) || !bytes.Equal(p, c.want[c.n:c.n+len(p)]) {
		c.ok = false
	}
	c.n += len(p)
	return len(p), nil
}

// packet frames body with sequence number seq.
func packet(seq byte, body ...byte) []byte {
	return append([]byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), seq}, body...)
}

func joined(packets ...[]byte) []byte { return bytes.Join(packets, nil) }

var (
	eofPacket  = []byte{0xfe, 0, 0, 2, 0}
	okBody     = []byte{0x00, 0, 0, 2, 0, 0, 0}
	errBody    = append([]byte{0xff, 0x7a, 0x04, '#', '4', '2', 'S', '0', '2'}, "Table 'x' doesn't exist"...)
	columnBody = append([]byte{3, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c, 0x21, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0}, 0)
)

// chunkings split a stream into the writes the protocol library might
// make: all at once, packet headers and bodies apart (unbuffered
// writes), byte by byte, and at random places.
func chunkings(stream []byte, packetEnds []int) map[string][][]byte {
	out := map[string][][]byte{"whole": {stream}}
	var apart [][]byte
	prev := 0
	for _, end := range packetEnds {
		apart = append(apart, stream[prev:prev+4], stream[prev+4:end])
		prev = end
	}
	out["header and body apart"] = apart
	if len(stream) < 4096 {
		var bytewise [][]byte
		for i := range stream {
			bytewise = append(bytewise, stream[i:i+1])
		}
		out["byte by byte"] = bytewise
	}
	r := rand.New(rand.NewSource(int64(len(stream))))
	most := 7
	if len(stream) > 4096 {
		most = 1 << 16
	}
	var random [][]byte
	for i := 0; i < len(stream); {
		n := min(1+r.Intn(most), len(stream)-i)
		random = append(random, stream[i:i+n])
		i += n
	}
	out["random"] = random
	return out
}

// ends are the offsets at which each of packets ends in their joined
// stream.
func ends(packets ...[]byte) []int {
	var out []int
	n := 0
	for _, p := range packets {
		n += len(p)
		out = append(out, n)
	}
	return out
}

func TestAnswerWriterMendsTheLibrarysAnswers(t *testing.T) {
	info := "Rows matched: 1  Changed: 1  Warnings: 0"
	okWithHashInfo := packet(1, append([]byte{0x00, 1, 0, 2, 0, 0, 0, '#'}, info...)...)
	okWithInfo := packet(1, append([]byte{0x00, 1, 0, 2, 0, 0, 0, byte(len(info))}, info...)...)
	resultSet := [][]byte{
		packet(1, 1), packet(2, columnBody[:len(columnBody)-1]...), packet(3, eofPacket...),
		packet(4, 1, 'x'), packet(5, 0xfb), packet(6, eofPacket...),
	}
	long := make([]byte, maxPayload)
	long[0] = 0x03
	longResult := [][]byte{packet(1, 1), packet(2, columnBody...), packet(3, eofPacket...), packet(4, long...), packet(5, 0xff, 'x'), packet(6, eofPacket...), packet(1, okBody...)}
	for _, tc := range []struct {
		name     string
		infoNext bool // the handler marked the next packet
		in, want [][]byte
	}{
		{name: "a result set passes unchanged", in: resultSet, want: resultSet},
		{name: "OK and ERR packets pass unchanged",
			in:   [][]byte{packet(1, okBody...), packet(1, errBody...), packet(1, okBody...)},
			want: [][]byte{packet(1, okBody...), packet(1, errBody...), packet(1, okBody...)}},
		{name: "the end of a result after an ERR packet is dropped (COM_FIELD_LIST, COM_SET_OPTION)",
			in:   append([][]byte{packet(1, errBody...), packet(2, eofPacket...)}, resultSet...),
			want: append([][]byte{packet(1, errBody...)}, resultSet...)},
		{name: "every packet continuing a response after its ERR packet is dropped",
			in:   [][]byte{packet(1, columnBody...), packet(2, errBody...), packet(3, okBody...), packet(4, eofPacket...), packet(1, okBody...)},
			want: [][]byte{packet(1, columnBody...), packet(2, errBody...), packet(1, okBody...)}},
		{name: "an OK packet's info becomes a length-encoded string", infoNext: true,
			in:   [][]byte{okWithHashInfo, packet(1, okBody...)},
			want: [][]byte{okWithInfo, packet(1, okBody...)}},
		{name: "a marked packet that is no OK with info passes unchanged", infoNext: true,
			in:   [][]byte{packet(1, okBody...), packet(1, errBody...)},
			want: [][]byte{packet(1, okBody...), packet(1, errBody...)}},
		{name: "the rest of a long payload is no ERR packet", in: longResult, want: longResult},
	} {
		stream := joined(tc.in...)
		want := joined(tc.want...)
		for how, writes := range chunkings(stream, ends(tc.in...)) {
			conn := &checkingConn{want: want, ok: true}
			w := &answerWriter{Conn: conn, infoOK: tc.infoNext}
			for _, p := range writes {
				if n, err := w.Write(p); n != len(p) || err != nil {
					t.Fatalf("%s, %s: Write = %d, %v", tc.name, how, n, err)
				}
			}
			if !conn.ok || conn.n != len(want) {
				t.Errorf("%s, written %s: the client got other bytes than\n%q", tc.name, how, want[:min(len(want), 200)])
			}
		}
	}
}
