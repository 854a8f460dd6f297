// Command ctlive-inspect answers a CTLive support engineer's questions
// (what happened to a contact, which agent joined it, did its transcript
// save, which exceptions hit which tenant) from a raw log, the plugin's JSON
// lines, or the store the plugin fills. See the README's ctlive-inspect
// section, or run it without arguments.
package main

import (
	"os"

	"github.com/ctlive/ctlive-fluent-bit/internal/inspect"
	"golang.org/x/term"
)

func main() {
	os.Exit(inspect.Run(os.Args[1:], inspect.Env{
		Stdin:     os.Stdin,
		StdinTTY:  isTerminal(os.Stdin),
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		StdoutTTY: isTerminal(os.Stdout),
		StderrTTY: isTerminal(os.Stderr),
	}))
}

// isTerminal asks the terminal driver (TCGETS on Linux): /dev/null is a
// character device too, and `ctlive-inspect contacts < /dev/null` reads it
// as the empty input it is.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
