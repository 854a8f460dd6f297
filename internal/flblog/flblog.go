// Package flblog writes log lines that look like Fluent Bit's own
// (`[2026/11/25 07:16:26.123] [ warn] [output:ctlive:ctlive.0] msg`), so the
// plugin's messages sit naturally in the agent's log. Fluent Bit keeps
// `log_level` to itself, so the plugin has its own level key.
//
// Every message goes through scrub.Line before it is written: whatever a
// caller formats (an error quoting a URL, a server's answer), no URL
// credential or query value, authorization token or configured secret
// reaches the agent's log.
package flblog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
)

type Level int32

const (
	Off Level = iota
	Error
	Warn
	Info
	Debug
	Trace
)

var levelNames = [...]string{Off: "off", Error: "error", Warn: "warn", Info: "info", Debug: "debug", Trace: "trace"}

func (l Level) String() string { return levelNames[l] }

// ParseLevel reads a level name as Fluent Bit spells them.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), nil
		}
	}
	return Info, fmt.Errorf("unknown log level %q (off, error, warn, info, debug, trace)", s)
}

// Logger is safe for concurrent use.
type Logger struct {
	prefix string // "[output:ctlive:ctlive.0] "
	level  atomic.Int32
	mu     *sync.Mutex
	w      io.Writer
}

var stderrMu sync.Mutex

// New logs to stderr, where Fluent Bit writes its own log.
func New(instance string, level Level) *Logger {
	return NewWriter(os.Stderr, &stderrMu, instance, level)
}

// NewWriter logs to w; mu serialises writers sharing w.
func NewWriter(w io.Writer, mu *sync.Mutex, instance string, level Level) *Logger {
	l := &Logger{prefix: "[output:ctlive:" + instance + "] ", mu: mu, w: w}
	l.level.Store(int32(level))
	return l
}

func (l *Logger) SetLevel(v Level) { l.level.Store(int32(v)) }

// Enabled reports whether messages at v are written.
func (l *Logger) Enabled(v Level) bool { return l != nil && Level(l.level.Load()) >= v }

func (l *Logger) Errorf(format string, a ...any) { l.logf(Error, format, a...) }
func (l *Logger) Warnf(format string, a ...any)  { l.logf(Warn, format, a...) }
func (l *Logger) Infof(format string, a ...any)  { l.logf(Info, format, a...) }
func (l *Logger) Debugf(format string, a ...any) { l.logf(Debug, format, a...) }

func (l *Logger) logf(v Level, format string, a ...any) {
	if !l.Enabled(v) {
		return
	}
	now := time.Now()
	msg := scrub.Line(fmt.Sprintf(format, a...))
	line := fmt.Sprintf("[%s] [%5s] %s%s\n", now.Format("2006/01/02 15:04:05.000"), levelNames[v], l.prefix, msg)
	l.mu.Lock()
	io.WriteString(l.w, line)
	l.mu.Unlock()
}

// Buffer is a concurrency-safe log destination that keeps what was
// written, for tests that check what the plugin logs.
type Buffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Capture returns a logger at level whose lines go to a new Buffer.
func Capture(instance string, level Level) (*Logger, *Buffer) {
	b := new(Buffer)
	return NewWriter(b, new(sync.Mutex), instance, level), b
}
