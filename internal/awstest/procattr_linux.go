package awstest

import "syscall"

// motoProcAttr puts moto in its own process group, so cleanup can kill it
// and anything it starts, and has the kernel kill it if the test binary dies
// without running cleanups (a -timeout panic, a SIGKILL).
func motoProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
