// Command genformats writes the generated lnav format files of contrib/lnav
// into the current directory (go generate runs it in contrib/lnav).
package main

import (
	"log"
	"os"

	"github.com/ctlive/ctlive-fluent-bit/contrib/lnav"
)

func main() {
	for name, content := range lnav.Files() {
		if err := os.WriteFile(name, content, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
