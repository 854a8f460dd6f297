package inspect

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// worker consumes blocks on one goroutine; its state is its own until the
// scan ends.
type worker interface {
	block(b block)
}

// Progress reports how far a scan has read, on a terminal.
type Progress struct {
	W     io.Writer
	Total int64 // bytes of all inputs, when known
	read  atomic.Int64
}

// scanBlocks reads the inputs one after another, cuts them into blocks at
// record boundaries and hands each block to one of n workers (0: one per
// CPU). Workers see blocks in no particular order.
func scanBlocks(inputs []*Input, n int, prog *Progress, newWorker func() worker) ([]worker, error) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	pool := newBufPool(n + 2) // each worker's block, one being read, one queued
	blocks := make(chan block, 1)
	stop := make(chan struct{})
	ws := make([]worker, n)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = newWorker()
		wg.Add(1)
		go func(w worker) {
			defer wg.Done()
			for b := range blocks {
				w.block(b)
				if prog != nil {
					prog.read.Add(int64(len(b.data)))
				}
				if b.buf == nil {
					releaseMapped(b.data)
				}
				pool.put(b.buf)
			}
		}(ws[i])
	}
	done := make(chan struct{})
	if prog != nil && prog.W != nil {
		go prog.show(done)
	}
	var err error
	var malformed int64
	for _, in := range inputs {
		if err = in.blocks(pool, blocks, stop, &malformed); err != nil {
			break
		}
	}
	close(blocks)
	wg.Wait()
	close(done)
	if malformed > 0 {
		if m, ok := ws[0].(interface{ addMalformed(int64) }); ok {
			m.addMalformed(malformed)
		}
	}
	return ws, err
}

func (p *Progress) show(done <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			fmt.Fprint(p.W, "\r\033[K")
			return
		case <-tick.C:
			read := p.read.Load()
			rate := float64(read) / time.Since(start).Seconds() / 1e6
			if p.Total > 0 {
				fmt.Fprintf(p.W, "\r\033[Kread %d of %d MB (%.0f%%), %.0f MB/s", read/1e6, p.Total/1e6, 100*float64(read)/float64(p.Total), rate)
			} else {
				fmt.Fprintf(p.W, "\r\033[Kread %d MB, %.0f MB/s", read/1e6, rate)
			}
		}
	}
}

// eachRecord calls fn with each record of b and its offset in b.data: a
// raw line joined with its continuation lines (parsers.conf's rule), or one
// JSON line. Empty lines are skipped; a line longer than MaxLine is counted
// in malformed and skipped.
func eachRecord(b block, malformed *int64, fn func(text []byte, off int)) {
	data := b.data
	raw := b.in.Format == FormatRaw
	off := 0
	for off < len(data) {
		end := lineEnd(data, off)
		if end-off > MaxLine {
			*malformed++
			off = next(data, end)
			continue
		}
		if raw {
			for n := next(data, end); n < len(data); {
				e := lineEnd(data, n)
				if e-n > MaxLine || !isContinuation(data[n:e]) {
					break
				}
				end, n = e, next(data, e)
			}
		}
		text := bytes.TrimRight(data[off:end], "\r")
		if len(text) > 0 {
			fn(text, off)
		}
		off = next(data, end)
	}
}

// lineEnd is the index of the newline ending the line at off (or len).
func lineEnd(data []byte, off int) int {
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(data)
}

func next(data []byte, end int) int { return min(end+1, len(data)) }

// statsWorker aggregates every record of its blocks.
type statsWorker struct {
	d *decoder
	s *Stats
	r rec
}

func (w *statsWorker) block(b block) {
	w.d.format = b.in.Format
	w.s.Bytes += int64(len(b.data))
	eachRecord(b, &w.s.Malformed, func(text []byte, off int) {
		switch w.d.decode(text, &w.r) {
		case decodeOK:
			w.s.add(&w.r, posOf(b.in.Index, b.offset+int64(off)))
		case decodeNotCTLive:
			w.s.NotCTLive++
		default:
			w.s.Malformed++
		}
	})
}

func (w *statsWorker) addMalformed(n int64) { w.s.Malformed += n }

// Query selects what an aggregation counts.
type Query struct {
	Red          Redaction
	Since, Until int64 // Unix ns; 0 for no bound
	Workers      int   // 0: one per CPU
	Progress     *Progress
}

// Aggregate reads every record of the inputs into one Stats.
func Aggregate(inputs []*Input, q Query) (*Stats, error) {
	ws, err := scanBlocks(inputs, q.Workers, q.Progress, func() worker {
		return &statsWorker{d: newDecoder(&q.Red), s: newStats(q.Since, q.Until)}
	})
	total := ws[0].(*statsWorker).s
	for _, w := range ws[1:] {
		total.merge(w.(*statsWorker).s)
	}
	return total, err
}
