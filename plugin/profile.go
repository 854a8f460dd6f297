package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

// Profiling in place, opt-in: with CTLIVE_CPUPROFILE=FILE in Fluent Bit's
// environment, the plugin writes a Go CPU profile of its whole life in the
// agent (the first instance's start to the last one's exit) to FILE, for
// `go tool pprof build/out_ctlive.so FILE`. The Go benchmarks do not see
// the cgo boundary, the scheduler's threads inside Fluent Bit, or the
// downstream's pace; this does (README: Performance). Off by default: a
// profile costs a little CPU and writes a file.
var profiler struct {
	mu      sync.Mutex
	running int // instances started while profiling
	file    *os.File
}

// profileStart is called by each instance's init.
func profileStart() {
	path := os.Getenv("CTLIVE_CPUPROFILE")
	if path == "" {
		return
	}
	profiler.mu.Lock()
	defer profiler.mu.Unlock()
	profiler.running++
	if profiler.file != nil {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		logLine("error", fmt.Sprintf("CTLIVE_CPUPROFILE: not profiling: %v", err))
		return
	}
	profiler.file = f
	logLine("info", "CTLIVE_CPUPROFILE: writing a CPU profile to "+path)
}

// profileStop is called by each instance's exit; the last one writes the
// profile.
func profileStop() {
	profiler.mu.Lock()
	defer profiler.mu.Unlock()
	if profiler.running == 0 {
		return
	}
	if profiler.running--; profiler.running > 0 || profiler.file == nil {
		return
	}
	pprof.StopCPUProfile()
	profiler.file.Close()
	profiler.file = nil
}

// logLine writes one line in Fluent Bit's format, for the messages of the
// plugin as a whole (not of one instance).
func logLine(level, msg string) {
	fmt.Fprintf(os.Stderr, "[%s] [%5s] [output:ctlive] %s\n", time.Now().Format("2006/01/02 15:04:05.000"), level, msg)
}
