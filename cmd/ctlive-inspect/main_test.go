package main

import (
	"os"
	"testing"
)

// `ctlive-inspect contacts < /dev/null` is an empty input, not a terminal
// waiting for a log: /dev/null is a character device, as a terminal is.
func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("%s is taken for a terminal", os.DevNull)
	}
}
