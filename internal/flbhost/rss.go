package flbhost

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PeakRSS is the host process's peak resident set size so far, in bytes:
// VmHWM of /proc/<pid>/status (Linux). Call it before Close.
func (h *Host) PeakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", h.cmd.Process.Pid)
}
