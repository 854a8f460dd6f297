//go:build linux

package forward

import (
	"net"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// ackPair returns a pooled-connection wrapper of a TCP client and the
// server's end of it.
func ackPair(t *testing.T) (*conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); srv.Close() })
	return newConn(nc), srv
}

func minimalAck(k int) []byte {
	b := msgp.AppendMapHeader(nil, 1)
	b = msgp.AppendString(b, "ack")
	id := []byte("AAAAAAAAAAAAAAAAAAAAAAA=")
	id[0] = byte('A' + k)
	return msgp.AppendStringFromBytes(b, id)
}

// queued is what the socket holds, looked at without waiting.
func queued(t *testing.T, c *conn) int {
	t.Helper()
	buf := make([]byte, maxAckWait)
	n := 0
	if err := c.raw.Read(func(fd uintptr) bool {
		n, _ = recvPeek(int(fd), buf)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return max(n, 0)
}

func TestWaitAcksReturnsOnceEveryAckIsQueued(t *testing.T) {
	c, srv := ackPair(t)
	const acks = 5
	if len(minimalAck(0)) != minAckBytes {
		t.Fatalf("an ack of in_forward's form is %d bytes, minAckBytes %d", len(minimalAck(0)), minAckBytes)
	}
	go func() {
		for k := range acks {
			time.Sleep(30 * time.Millisecond)
			srv.Write(minimalAck(k))
		}
	}()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.waitAcks(acks)
	if got := queued(t, c); got != acks*minAckBytes {
		t.Fatalf("after the wait %d bytes are queued, want the %d of %d acks", got, acks*minAckBytes, acks)
	}
}

// in_forward acks what it ingested and drops the connection at a message
// it cannot: the acks before that must be read then, not at the deadline.
func TestWaitAcksReturnsWhenThePeerClosesAfterSomeAcks(t *testing.T) {
	c, srv := ackPair(t)
	go func() {
		srv.Write(append(minimalAck(0), minimalAck(1)...))
		time.Sleep(30 * time.Millisecond)
		srv.Close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	c.nc.SetReadDeadline(deadline)
	c.waitAcks(5)
	if time.Now().After(deadline) {
		t.Fatal("the wait ran to the deadline")
	}
	if got := queued(t, c); got != 2*minAckBytes {
		t.Fatalf("%d bytes queued, want the two acks' %d", got, 2*minAckBytes)
	}
}

// A unix socket's poll does not honour SO_RCVLOWAT: the wait would wake
// per ack all the same, so it is not made there.
func TestWaitAcksLeavesAUnixSocketToTheReads(t *testing.T) {
	path := t.TempDir() + "/in_forward.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := newConn(nc)
	deadline := time.Now().Add(5 * time.Second)
	c.nc.SetReadDeadline(deadline)
	c.waitAcks(5) // no ack ever comes
	if time.Now().After(deadline) {
		t.Fatal("waited on a unix socket")
	}
}
