//go:build !linux

package awstest

import "syscall"

// motoProcAttr puts moto in its own process group, so cleanup can kill it
// and anything it starts.
func motoProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
