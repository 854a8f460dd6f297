//go:build !linux

package vlogs

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
