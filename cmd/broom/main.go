// Command broom keeps AWS accounts tidy: it plans, shows and, once
// approved, applies the cleanup a policy file asks for.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"

	"github.com/broom-dev/broom/internal/cli"
)

func main() {
	// A plan is built once and then only read, so a slower-growing heap
	// costs little: planning 20,000 actions peaked at a median 73 MiB RSS
	// with GOGC=50 against 92 MiB (and up to 101) with the default 100,
	// for about 5% more time (BENCHMARKS.md). GOGC, when set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// A cancelled workflow run sends SIGTERM (then SIGKILL): stop starting
	// new work, finish the report and outputs, exit non-zero.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.IO{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		IsTerminal:    func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
		TerminalWidth: stdoutWidth})
	stop()
	os.Exit(code)
}

// stdoutWidth is the width of the terminal stdout writes to, or 0 when it
// is not a terminal (a pipe, a file, a CI log).
func stdoutWidth() int {
	w, _, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		return 0
	}
	return w
}
