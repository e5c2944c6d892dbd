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
	// TerminalWidth is the width of the terminal Stdout writes to, or 0
	// when Stdout is not a terminal; nil: never a terminal.
	TerminalWidth func() int
	HTTPClient    *http.Client    // for GitHub; nil for the default
	Engine        []engine.Option // for tests
	// Connect replaces action.Connect, for tests; nil: action.Connect.
	Connect func(ctx context.Context, logger *slog.Logger, cfg config.Config, access action.Access, opts ...engine.Option) (action.Cloud, error)
}

// Run runs the command in args (without the program name).
func Run(ctx context.Context, args []string, env IO) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, topUsage())
		return action.ExitMisuse
	}
	cmd, rest := args[0], args[1:]
	// Help is asked for, not a mistake: stdout, exit 0. (A -h after other
	// flags is found by the command's flag parsing.)
	if c, ok := lookupCommand(cmd); ok && len(rest) > 0 && isHelp(rest[0]) {
		fmt.Fprint(env.Stdout, c.help())
		return action.ExitOK
	}
	switch cmd {
	case "plan", "apply":
		return runPlanApply(ctx, cmd, rest, env)
	case "merge":
		return runMerge(rest, env)
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
	case "help", "-h", "--help", "-help":
		fmt.Fprint(env.Stdout, topUsage())
		return action.ExitOK
	default:
		fmt.Fprintf(env.Stderr, "broom: unknown command %q\n\n%s", cmd, topUsage())
		return action.ExitMisuse
	}
}

// runner is one command's run: its I/O and its logger.
type runner struct {
	env    IO
	logger *slog.Logger
	// jsonLogs: the log is JSON, for a program; a fatal error is then a
	// log record as well as the line a person reads.
	jsonLogs bool
}

// newRunner starts a command with the log format the environment or the
// command line asks for (the config is not read yet), so that even a
// misuse found before it is read is logged as JSON when JSON was asked for.
func newRunner(env IO, args []string) *runner {
	s := &runner{env: env}
	format := env.Getenv(config.EnvName("log-format"))
	for i, a := range args {
		switch {
		case a == "--log-format" || a == "-log-format":
			if i+1 < len(args) {
				format = args[i+1]
			}
		case strings.HasPrefix(a, "--log-format=") || strings.HasPrefix(a, "-log-format="):
			_, format, _ = strings.Cut(a, "=")
		}
	}
	s.setLogs(format, false)
	return s
}

// setLogs sets the log's format (text unless json) and level.
func (s *runner) setLogs(format string, verbose bool) {
	s.jsonLogs = format == "json"
	s.logger = newLogger(s.env.Stderr, format, verbose)
}

// fail reports err, which ends the command with code, and returns code.
// A person reads one line on stderr, "broom: <err>". A JSON log also gets
// an error record saying the same, so that a program reading the log
// knows why the run ended; a text log does not, because it shares stderr
// with that line and would only repeat it.
func (s *runner) fail(code int, err error) int {
	if errors.Is(err, flag.ErrHelp) { // asked for, and printed by s.flags
		return action.ExitOK
	}
	s.say(code, err)
	return code
}

// say reports err, which ends the command with code, as fail does, for a
// command that still has a report to write.
func (s *runner) say(code int, err error) {
	if s.jsonLogs {
		s.logger.Error("failed", "error", err, "exit_code", code)
	}
	fmt.Fprintln(s.env.Stderr, "broom:", err)
}

// flags parses args against c's flags; -h or --help among them prints c's
// help on stdout and returns flag.ErrHelp.
func (s *runner) flags(c command, args []string) (parsed, error) {
	p, err := c.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(s.env.Stdout, c.help())
	}
	return p, err
}

// failConfig reports config problems (exit 2): each on its own line as
// file:line: message, as an ::error annotation at its file and line when
// running in GitHub Actions, and as a log record in a JSON log.
func (s *runner) failConfig(err error) int {
	problems := config.AsProblems(err)
	for _, p := range problems {
		if s.jsonLogs {
			s.logger.Error("config problem", "error", p.Msg, "file", p.File, "line", p.Line, "exit_code", action.ExitMisuse)
		}
		fmt.Fprintln(s.env.Stderr, p.Error())
	}
	if s.env.Getenv("GITHUB_ACTIONS") == "true" {
		action.Annotate(githubactions.New(githubactions.WithGetenv(s.env.Getenv), githubactions.WithWriter(s.env.Stdout)), problems)
	}
	return action.ExitMisuse
}

// recovered, deferred, turns a panic into exit 1 with one line on stderr
// (SPEC §9: never a Go stack trace read as misuse); the stack goes to the
// log at debug level (-v).
func (s *runner) recovered(code *int) {
	p := recover()
	if p == nil {
		return
	}
	msg := strings.Join(strings.Fields(fmt.Sprint(p)), " ")
	*code = s.fail(action.ExitFailure, fmt.Errorf("internal error: %s (a bug: please report it with the -v log)", msg))
	s.logger.Debug("panic", "panic", msg, "stack", string(debug.Stack()))
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
	s := newRunner(env, args)
	defer s.recovered(&code)
	c, _ := lookupCommand("validate")
	p, err := s.flags(c, args)
	if err != nil {
		return s.fail(action.ExitMisuse, err)
	}
	cfg, err := config.Load(p.layer, env.Getenv, resource.Catalog())
	if err != nil {
		return s.failConfig(err)
	}
	s.setLogs(cfg.LogFormat, cfg.Verbose)
	fmt.Fprintf(env.Stdout, "%s: ok (%d rules)\n", cfg.Path, len(cfg.File.Rules))
	return action.ExitOK
}

func runPlanApply(ctx context.Context, cmd string, args []string, env IO) (code int) {
	s := newRunner(env, args)
	defer s.recovered(&code)
	c, _ := lookupCommand(cmd)
	p, err := s.flags(c, args)
	if err != nil {
		return s.fail(action.ExitMisuse, err)
	}
	cfg, err := config.Load(p.layer, env.Getenv, resource.Catalog())
	if err != nil {
		return s.failConfig(err)
	}
	s.setLogs(cfg.LogFormat, cfg.Verbose)
	if err := action.ResolveRegions(&cfg, env.Getenv); err != nil {
		return s.fail(action.ExitMisuse, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if cfg.Shard.Count > 0 {
		return s.runShard(ctx, cmd, p, cfg)
	}

	// broom apply (not --dry-run) may change things; broom plan and a dry
	// run only plan, with the accounts' plan-roles where set.
	applying := cmd == "apply" && !p.switches["dry-run"]
	access := action.PlanOnly
	if applying {
		access = action.MayChange
	}
	connect := env.Connect
	if connect == nil {
		connect = action.Connect
	}
	cl, err := connect(ctx, s.logger, cfg, access, env.Engine...)
	if err != nil {
		var m *action.MisuseError // e.g. an account not in allowed-accounts
		if errors.As(err, &m) {
			return s.fail(action.ExitMisuse, err)
		}
		return s.fail(action.ExitFailure, err)
	}
	res, err := cl.Plan(ctx, cfg)
	if err != nil {
		return s.fail(action.ExitFailure, err)
	}
	accounts := cl.Identities()
	o := action.PlanOutcome(res, cfg)
	width := textWidth(env)
	// shown: the plan is already on the terminal, as text.
	shown := false
	if applying {
		// Dry-run first, always: the plan is shown before anything changes;
		// on stderr when stdout carries JSON or markdown for a program.
		w := env.Stdout
		if cfg.Format != "text" {
			w = env.Stderr
		}
		if err := show(w, "text", report.Report{Plan: res.Plan, Protected: res.Protected, Accounts: accounts, Regions: len(res.Regions)}, width); err != nil {
			return s.fail(action.ExitFailure, err)
		}
		fmt.Fprintln(w)
		shown = cfg.Format == "text"
		if err := confirm(ctx, env, cfg, p.switches["yes"], res.Plan, accounts); err != nil {
			s.say(err.code, err.err)
			o.Code, o.Result = err.code, action.Refused
			if err.code == action.ExitMisuse {
				o.Result = action.Error
			}
			o.Notes = append(o.Notes, err.err.Error())
			applying = false
		} else {
			o = cl.Apply(ctx, cfg, res, cfg.ExpectFingerprint)
			shown = false
		}
	}
	rep := report.Report{Plan: o.Plan, Protected: o.Protected, Notes: o.Notes, Accounts: accounts, Regions: len(res.Regions)}
	if applying {
		rep.Protected = nil // already shown with the plan
	}
	// An empty plan shown as text before applying said all there is to say;
	// so did a plan shown and then not applied.
	saidAll := shown || applying && cfg.Format == "text" && len(rep.Plan.Actions) == 0 && len(rep.Notes) == 0
	if !saidAll {
		if err := show(env.Stdout, cfg.Format, rep, width); err != nil {
			return s.fail(action.ExitFailure, err)
		}
	}
	if cfg.Out != "" {
		if err := writePlan(cfg.Out, rep); err != nil {
			return s.fail(action.ExitFailure, err)
		}
	}
	s.logger.Info("done", "result", string(o.Result), "fingerprint", o.Plan.Fingerprint, "exit_code", o.Code)
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

// defaultWidth is the width the text report assumes when neither the
// terminal nor COLUMNS says.
const defaultWidth = 120

// textWidth is the width of the text report: the terminal's, when stdout
// is one; else $COLUMNS (shells keep the terminal's width there without
// exporting it, so this is for a pipe into a pager: COLUMNS=$COLUMNS broom
// plan | less); else 120.
func textWidth(env IO) int {
	if env.TerminalWidth != nil {
		if n := env.TerminalWidth(); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(env.Getenv("COLUMNS"))); err == nil && n > 0 {
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
