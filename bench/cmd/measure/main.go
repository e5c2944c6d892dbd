//go:build linux

// Command measure runs a command and writes what it cost to -o, one
// "key value" a line: start_ns (the wall clock just before the process was
// started, Unix nanoseconds), wall_ns, maxrss_kib (the peak resident set
// size the kernel reports for it, getrusage's ru_maxrss) and exit. The
// command's output goes to measure's own. measure exits 0 whatever the
// command's exit code, which is in the file.
//
//	measure -o run.txt -- broom plan --config broom.yml
//
// It is for Linux, where ru_maxrss is in KiB.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "file to write the figures to (required)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure -o FILE -- COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
	var maxRSS int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss // KiB on Linux
	}
	text := fmt.Sprintf("start_ns %d\nwall_ns %d\nmaxrss_kib %d\nexit %d\n",
		start.UnixNano(), wall.Nanoseconds(), maxRSS, cmd.ProcessState.ExitCode())
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(1)
	}
}
