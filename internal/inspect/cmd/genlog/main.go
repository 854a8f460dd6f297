// Command genlog writes a generated CTLive log of about the given size for
// ctlive-inspect's benchmarks (make bench-inspect): corpus records, one per
// line, stack frames on indented continuation lines, as docker compose logs
// writes them.
//
//	go run ./internal/inspect/cmd/genlog -mb 1000 -o /tmp/ctlive-1g.log
package main

import (
	"bufio"
	"flag"
	"log"
	"os"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

// bytesPerRecord is the corpus's mean record size, measured.
const bytesPerRecord = 176

func main() {
	mb := flag.Int("mb", 100, "approximate size in MB (10^6 bytes)")
	out := flag.String("o", "", "file to write (required)")
	seed := flag.Int64("seed", 1, "corpus seed")
	flag.Parse()
	if *out == "" || *mb <= 0 || *mb > 20000 {
		log.Fatal("genlog: give -o FILE and -mb between 1 and 20000")
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := *mb * 1e6 / bytesPerRecord
	for _, l := range corpus.Lines(*seed, n) {
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
