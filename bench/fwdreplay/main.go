// Command fwdreplay records what an output writes to in_forward and plays
// it back, so bench/run.sh can measure in_forward's share of a forward loop
// apart from the output that produced the stream (README: Performance).
//
//	fwdreplay capture -listen 127.0.0.1:PORT -o PREFIX
//	    writes the bytes of each accepted connection to PREFIX.1, PREFIX.2,
//	    ... until SIGTERM or SIGINT. It never answers: capture with acks
//	    off (require_ack_response off; Fluent Bit's forward has them off
//	    by default).
//	fwdreplay send -to 127.0.0.1:PORT [-pace 1ms] FILE...
//	    writes each file on a connection of its own, in order, one forward
//	    message at a time with a pause of -pace after each, retrying the
//	    first connect for up to 30 s while the receiver starts. The pause
//	    stands for the producer's own pace: written all at once, a stream
//	    piles up in in_forward's buffer, which then moves the unconsumed
//	    rest after each message, a cost the live loop does not have.
//
// A benchmark tool, not part of the plugin: it binds to loopback only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tinylib/msgp/msgp"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "capture":
		fs := flag.NewFlagSet("capture", flag.ExitOnError)
		listen := fs.String("listen", "127.0.0.1:24224", "loopback address to listen on")
		prefix := fs.String("o", "stream", "prefix of the files written")
		fs.Parse(os.Args[2:])
		err = capture(*listen, *prefix)
	case "send":
		fs := flag.NewFlagSet("send", flag.ExitOnError)
		to := fs.String("to", "127.0.0.1:24224", "address of in_forward")
		pace := fs.Duration("pace", time.Millisecond, "pause after each message")
		fs.Parse(os.Args[2:])
		err = send(*to, *pace, fs.Args())
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fwdreplay:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: fwdreplay capture -listen ADDR -o PREFIX | fwdreplay send -to ADDR FILE...")
	os.Exit(2)
}

func capture(listen, prefix string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen on a loopback address, not %q", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; ln.Close() }()

	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	for n := 1; ; n++ {
		c, err := ln.Accept()
		if err != nil {
			break // closed by the signal
		}
		f, err := os.Create(fmt.Sprintf("%s.%d", prefix, n))
		if err != nil {
			c.Close()
			return err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.Copy(f, c); err != nil && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintln(os.Stderr, "fwdreplay:", err)
			}
			f.Close()
		}()
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return nil
}

func send(to string, pace time.Duration, files []string) error {
	for i, path := range files {
		stream, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		c, err := dial(to, i == 0)
		if err != nil {
			return err
		}
		for len(stream) > 0 && err == nil {
			rest, serr := msgp.Skip(stream)
			if serr != nil {
				rest = nil // a cut last message: send what there is
			}
			_, err = c.Write(stream[:len(stream)-len(rest)])
			stream = rest
			time.Sleep(pace)
		}
		if err == nil {
			// Half-close and read to the end, so the receiver sees the
			// whole stream before the connection goes.
			c.(*net.TCPConn).CloseWrite()
			c.SetReadDeadline(time.Now().Add(5 * time.Minute))
			_, err = io.Copy(io.Discard, c)
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func dial(to string, wait bool) (net.Conn, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", to, 5*time.Second)
		if err == nil || !wait || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
