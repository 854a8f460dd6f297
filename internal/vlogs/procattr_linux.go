package vlogs

import "syscall"

// If the test binary dies (panic, -timeout), the kernel kills the server too,
// so no orphaned victoria-logs keeps a port and a temp dir busy.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
