// Command vigil is a self-hosted threat detector for AWS logs: it reads
// CloudTrail, VPC Flow Logs and Route 53 Resolver query logs, matches them
// against threat intelligence and reports GuardDuty-shaped findings.
//
// Usage:
//
//	vigil scan [--config FILE] [--type FORMAT] [--output json|table] PATH...
//	vigil serve [--config FILE]
//	vigil demo [--dir DIR] [--listen ADDR] [--no-serve]
//	vigil check --config FILE
//	vigil findings list|get|archive|unarchive|export --config FILE
//	vigil filters list|get|create|delete --config FILE
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `vigil: threat detection for AWS logs (CloudTrail, VPC Flow Logs, Route 53 DNS)

Usage:
  vigil scan [--config FILE] [--type FORMAT] [--output json|table] PATH...
        read files and directories, print findings (GuardDuty JSON) to stdout
  vigil serve [--config FILE]
        watch the configured sources, store findings, serve the API
  vigil demo [--dir DIR] [--listen ADDR] [--no-serve]
        generate a small AWS estate's logs with attacks, detect, and serve them
  vigil check --config FILE
        validate a config file and print every problem
  vigil findings list|get|archive|unarchive|export --config FILE [--json]
        findings through the GuardDuty API of a running serve, or of the store when none runs
  vigil filters list|get|create|delete --config FILE
        saved filters and suppression rules (action ARCHIVE)
  vigil version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "scan":
		err = cmdScan(ctx, args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(ctx, args[1:], stdout, stderr)
	case "findings":
		err = cmdFindings(ctx, args[1:], stdout, stderr)
	case "filters":
		err = cmdFilters(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "vigil", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vigil: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "vigil %s: %v\n", args[0], err)
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	default:
		fmt.Fprintf(stderr, "vigil %s: %v\n", args[0], err)
		return 1
	}
}

var version = "dev"

func newLogger(w io.Writer, debug bool) *slog.Logger {
	lvl := slog.LevelInfo
	if debug {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
