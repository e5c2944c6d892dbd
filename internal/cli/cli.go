// Package cli is broom's command line: it parses flags, builds the run's
// configuration and logger, runs a command and returns its exit code
// (SPEC §2, §8). Only main exits.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/resource"
)

// IO is what a command reads and writes; tests inject it.
type IO struct {
	Getenv func(string) string
	// Stdin is where broom apply reads the operator's confirmation; nil
	// reads as an empty answer.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// IsTerminal says whether an operator types at Stdin (then broom apply
	// asks before it changes anything); nil: never.
	IsTerminal func() bool
	HTTPClient *http.Client    // for GitHub; nil for the default
	Engine     []engine.Option // for tests
	// Connect replaces action.Connect, for tests; nil: action.Connect.
	Connect func(ctx context.Context, logger *slog.Logger, cfg config.Config, opts ...engine.Option) (action.Cloud, error)
}

const usage = `usage: broom <command> [flags]

commands:
  plan        compute the plan, print/write the report, change nothing
  apply       compute the plan, show it, then execute it once confirmed
              (on a terminal, type the account id; otherwise --yes or
              --expect-fingerprint)
  action      run as a GitHub Action (reads the event, decides plan or apply)
  validate    check the config file and exit 0 or 2
  iam-policy  print the least-privilege IAM policy for the config's rules
  version     print the version

Run "broom <command> -h" for a command's flags.
`

// Run runs the command in args (without the program name).
func Run(ctx context.Context, args []string, env IO) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return action.ExitMisuse
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "plan", "apply":
		return runPlanApply(ctx, cmd, rest, env)
	case "validate":
		return runValidate(rest, env)
	case "iam-policy":
		return runIAMPolicy(rest, env)
	case "action":
		if len(rest) > 0 {
			fmt.Fprintf(env.Stderr, "broom action: takes no arguments (it reads INPUT_* and the event), got %q\n", strings.Join(rest, " "))
			return action.ExitMisuse
		}
		logger := newLogger(env.Stderr, firstNonEmpty(env.Getenv("INPUT_LOG-FORMAT"), env.Getenv("BROOM_LOG_FORMAT")), false)
		return action.Run(ctx, action.Env{Getenv: env.Getenv, Stdout: env.Stdout, Logger: logger, HTTPClient: env.HTTPClient, Engine: env.Engine})
	case "version", "--version", "-version":
		fmt.Fprintln(env.Stdout, "broom", buildVersion())
		return action.ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return action.ExitOK
	default:
		fmt.Fprintf(env.Stderr, "broom: unknown command %q\n\n%s", cmd, usage)
		return action.ExitMisuse
	}
}

// listFlag is a repeatable flag whose values join with commas.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// applyFlags are apply's flags that are not settings: no BROOM_* variable
// or config key may stand in for them.
type applyFlags struct {
	dryRun bool // plan only
	yes    bool // apply without asking
}

// flags parses a command's flags into a settings layer holding only the
// flags the user gave.
func flags(cmd string, args []string, stderr io.Writer) (config.Layer, applyFlags, error) {
	fs := flag.NewFlagSet("broom "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	fs.Usage = func() {}
	var regions listFlag
	fs.String("config", config.DefaultFile, "policy file")
	fs.Var(&regions, "region", "region to work in (repeatable; overrides the file)")
	fs.String("rules", "", "run only these rules (comma-separated)")
	fs.String("max-actions", "", "refuse to apply a plan with more actions (default 100)")
	fs.String("format", "text", "report format: text, markdown or json")
	fs.String("out", "", "write the JSON plan to this file")
	fs.String("log-format", "text", "log format: text or json")
	fs.String("timeout", "", "deadline for the whole run (default 15m)")
	fs.Bool("verbose", false, "log debug messages")
	fs.Bool("v", false, "shorthand for --verbose")
	var af applyFlags
	if cmd == "apply" {
		fs.String("expect-fingerprint", "", "apply only if the plan has this fingerprint (no question asked)")
		fs.BoolVar(&af.dryRun, "dry-run", false, "plan only, the same as broom plan")
		fs.BoolVar(&af.yes, "yes", false, "apply without asking to type the account id (needed without a terminal, unless --expect-fingerprint)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: broom %s [flags]\n", cmd)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return config.Layer{}, af, err
	}
	if fs.NArg() > 0 {
		return config.Layer{}, af, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	l := config.Layer{Name: "flag --", Values: map[string]string{}}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "region":
			l.Values["regions"] = regions.String()
		case "v":
			l.Values["verbose"] = f.Value.String()
		case "dry-run", "yes":
		default:
			l.Values[f.Name] = f.Value.String()
		}
	})
	return l, af, nil
}

func newLogger(w io.Writer, format string, verbose bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: cleanAttr}
	if verbose {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cleanAttr keeps resource data (ids, tags, AWS errors) in a log line from
// acting on the runner: slog quotes a newline but not "##[", which the
// runner obeys anywhere in a line (SPEC §6).
func cleanAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case string:
		a.Value = slog.StringValue(report.Clean(v))
	case error:
		a.Value = slog.StringValue(report.Clean(v.Error()))
	}
	return a
}

func runValidate(args []string, env IO) (code int) {
	logger := newLogger(env.Stderr, "text", false)
	defer recovered(env, &logger, &code)
	layer, _, err := flags("validate", args, env.Stderr)
	if err != nil {
		return misuse(env, err)
	}
	cfg, err := config.Load(layer, env.Getenv, resource.Catalog())
	if err != nil {
		printProblems(env, err)
		return action.ExitMisuse
	}
	logger = newLogger(env.Stderr, cfg.LogFormat, cfg.Verbose)
	fmt.Fprintf(env.Stdout, "%s: ok (%d rules)\n", cfg.Path, len(cfg.File.Rules))
	return action.ExitOK
}

// recovered, deferred, turns a panic into exit 1 with one line on stderr
// (SPEC §9: never a Go stack trace read as misuse); the stack goes to the
// log at debug level (-v). *logger is the run's logger at the time.
func recovered(env IO, logger **slog.Logger, code *int) {
	p := recover()
	if p == nil {
		return
	}
	msg := strings.Join(strings.Fields(fmt.Sprint(p)), " ")
	fmt.Fprintf(env.Stderr, "broom: internal error: %s (a bug: please report it with the -v log)\n", msg)
	(*logger).Debug("panic", "panic", msg, "stack", string(debug.Stack()))
	*code = action.ExitFailure
}

// printProblems writes each config problem on its own line, and as an
// ::error annotation at its file and line when running in GitHub Actions.
func printProblems(env IO, err error) {
	problems := config.AsProblems(err)
	for _, p := range problems {
		fmt.Fprintln(env.Stderr, p.Error())
	}
	if env.Getenv("GITHUB_ACTIONS") == "true" {
		action.Annotate(githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout)), problems)
	}
}

func misuse(env IO, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return action.ExitOK
	}
	fmt.Fprintln(env.Stderr, "broom:", err)
	return action.ExitMisuse
}

func runPlanApply(ctx context.Context, cmd string, args []string, env IO) (code int) {
	logger := newLogger(env.Stderr, "text", false)
	defer recovered(env, &logger, &code)
	layer, af, err := flags(cmd, args, env.Stderr)
	if err != nil {
		return misuse(env, err)
	}
	cfg, err := config.Load(layer, env.Getenv, resource.Catalog())
	if err != nil {
		printProblems(env, err)
		return action.ExitMisuse
	}
	if err := action.ResolveRegions(&cfg, env.Getenv); err != nil {
		return misuse(env, err)
	}
	logger = newLogger(env.Stderr, cfg.LogFormat, cfg.Verbose)
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	connect := env.Connect
	if connect == nil {
		connect = action.Connect
	}
	c, err := connect(ctx, logger, cfg, env.Engine...)
	if err != nil {
		fmt.Fprintln(env.Stderr, "broom:", err)
		var m *action.MisuseError // e.g. an account not in allowed-accounts
		if errors.As(err, &m) {
			return action.ExitMisuse
		}
		return action.ExitFailure
	}
	res, err := c.Plan(ctx, cfg)
	if err != nil {
		fmt.Fprintln(env.Stderr, "broom:", err)
		return action.ExitFailure
	}
	accounts := c.Identities()
	o := action.PlanOutcome(res, cfg)
	applying := cmd == "apply" && !af.dryRun
	// shown: the plan is already on the terminal, as text.
	shown := false
	if applying {
		// Dry-run first, always: the plan is shown before anything changes;
		// on stderr when stdout carries JSON or markdown for a program.
		w := env.Stdout
		if cfg.Format != "text" {
			w = env.Stderr
		}
		if err := show(w, "text", report.Report{Plan: res.Plan, Protected: res.Protected, Accounts: accounts}, textWidth(env.Getenv)); err != nil {
			fmt.Fprintln(env.Stderr, "broom:", err)
			return action.ExitFailure
		}
		fmt.Fprintln(w)
		shown = cfg.Format == "text"
		if err := confirm(ctx, env, cfg, af.yes, res.Plan, accounts); err != nil {
			fmt.Fprintln(env.Stderr, "broom:", err.err)
			o.Code, o.Result = err.code, action.Refused
			if err.code == action.ExitMisuse {
				o.Result = action.Error
			}
			o.Notes = append(o.Notes, err.err.Error())
			applying = false
		} else {
			o = c.Apply(ctx, cfg, res, cfg.ExpectFingerprint)
			shown = false
		}
	}
	rep := report.Report{Plan: o.Plan, Protected: o.Protected, Notes: o.Notes, Accounts: accounts}
	if applying {
		rep.Protected = nil // already shown with the plan
	}
	// An empty plan shown as text before applying said all there is to say;
	// so did a plan shown and then not applied.
	saidAll := shown || applying && cfg.Format == "text" && len(rep.Plan.Actions) == 0 && len(rep.Notes) == 0
	if !saidAll {
		if err := show(env.Stdout, cfg.Format, rep, textWidth(env.Getenv)); err != nil {
			fmt.Fprintln(env.Stderr, "broom:", err)
			return action.ExitFailure
		}
	}
	if cfg.Out != "" {
		if err := writePlan(cfg.Out, rep); err != nil {
			fmt.Fprintln(env.Stderr, "broom:", err)
			return action.ExitFailure
		}
	}
	logger.Info("done", "result", string(o.Result), "fingerprint", o.Plan.Fingerprint, "exit_code", o.Code)
	return o.Code
}

// show writes the report in format; text is fitted to width columns.
func show(w io.Writer, format string, rep report.Report, width int) error {
	switch format {
	case "json":
		return report.JSON(w, rep.Plan)
	case "markdown":
		_, err := io.WriteString(w, report.Markdown(rep))
		return err
	}
	return report.TextWidth(w, rep, width)
}

// defaultWidth is the terminal width the text report assumes when COLUMNS
// does not say.
const defaultWidth = 120

// textWidth is the width of the text report: $COLUMNS, else 120. (Shells
// keep the terminal's width in COLUMNS without exporting it: export
// COLUMNS, or run COLUMNS=$COLUMNS broom plan, to pass it on.)
func textWidth(getenv func(string) string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return defaultWidth
}

func writePlan(path string, rep report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := report.JSON(f, rep.Plan); err != nil {
		f.Close()
		return fmt.Errorf("write plan file: %w", err)
	}
	return f.Close()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
