// Command gensample writes the repository's generated test data:
// sample.log (the log `make run` processes) and inspection-lines.txt (the
// real lines of the support engineers' guide), both from internal/corpus.
//
//	go generate ./internal/corpus
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/ctlive/ctlive-fluent-bit/internal/corpus"
)

func main() {
	dir := flag.String("dir", "testdata", "directory to write into")
	flag.Parse()
	files := map[string][]byte{
		"sample.log":           corpus.Sample(),
		"inspection-lines.txt": corpus.InspectionLines(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
