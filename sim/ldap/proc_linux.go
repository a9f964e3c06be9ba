package ldap

import (
	"os/exec"
	"syscall"
)

// orphanProof has the kernel kill slapd if the test process dies without
// running its cleanups (a -timeout panic, a kill), so no directory outlives
// its test on a shared machine. Linux sends it when the thread that
// started slapd exits; Go keeps its threads for the life of the process
// unless a goroutine locked to one exits, which nothing here does.
func orphanProof(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
