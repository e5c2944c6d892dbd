// Command broom keeps AWS accounts tidy: it plans, shows and, once
// approved, applies the cleanup a policy file asks for.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/broom-dev/broom/internal/cli"
)

func main() {
	// A cancelled workflow run sends SIGTERM (then SIGKILL): stop starting
	// new work, finish the report and outputs, exit non-zero.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.IO{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
