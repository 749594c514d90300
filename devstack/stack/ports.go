package stack

import (
	"fmt"
	"net"
	"strconv"
)

// FreeAddr returns a loopback address with a port that was free a moment
// ago. The port can be taken by someone else before it is used, so callers
// that bind it must report the address when binding fails.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}

// AddrFree reports whether addr can be bound now.
func AddrFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
