// Command ctlive-inspect answers a CTLive support engineer's questions
// (what happened to a contact, which agent joined it, did its transcript
// save, which exceptions hit which tenant) from a raw log, the plugin's JSON
// lines, or the store the plugin fills. See the README's ctlive-inspect
// section, or run it without arguments.
package main

import (
	"os"

	"github.com/ctlive/ctlive-fluent-bit/internal/inspect"
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

// isTerminal: a character device is a terminal for this purpose (pipes and
// files are not), which needs no ioctl.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
