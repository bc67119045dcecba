package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerClosed reports whether the client closed or reset its end of the
// connection, from the socket's TCP state.
func peerClosed(c *net.TCPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	_ = raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return
		}
		switch info.State {
		case tcpCloseWait, tcpClose, tcpLastAck, tcpClosing:
			closed = true
		}
	})
	return closed
}

// TCP states (include/net/tcp_states.h).
const (
	tcpClose     = 7
	tcpCloseWait = 8
	tcpLastAck   = 9
	tcpClosing   = 11
)
