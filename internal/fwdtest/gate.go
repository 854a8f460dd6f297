package fwdtest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Gate stands for an in_forward served by the thread that flushes: it
// accepts connections but passes nothing on, either way, until Release,
// as Fluent Bit's engine thread reads nothing while a flush runs on it.
// After Release it relays every connection to upstream.
type Gate struct {
	t        testing.TB
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	open     bool
	held     []net.Conn
}

// NewGate listens on 127.0.0.1 in front of upstream (host:port) until the
// test ends.
func NewGate(t testing.TB, upstream string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{t: t, ln: ln, upstream: upstream}
	t.Cleanup(func() { ln.Close() })
	go g.accept()
	return g
}

// URL is the forward sink's url for the gate.
func (g *Gate) URL() string { return "tcp://" + g.ln.Addr().String() }

func (g *Gate) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		if g.open {
			g.relay(c)
		} else {
			g.held = append(g.held, c)
		}
		g.mu.Unlock()
	}
}

// Release lets everything through, as the engine thread's event loop does
// once the flush has returned.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = true
	for _, c := range g.held {
		g.relay(c)
	}
	g.held = nil
}

func (g *Gate) relay(c net.Conn) {
	g.t.Cleanup(func() { c.Close() })
	up, err := net.Dial("tcp", g.upstream)
	if err != nil {
		g.t.Errorf("fwdtest gate: %v", err)
		c.Close()
		return
	}
	g.t.Cleanup(func() { up.Close() })
	go io.Copy(up, c)
	go io.Copy(c, up)
}
