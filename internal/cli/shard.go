package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/shard"
)

// runShard is broom plan --shard K/N (plan one shard's targets) and broom
// apply --shard K/N --approved FILE (apply that shard's slice of the
// approved plan, if the fresh slice is the one approved). With --out it
// writes the shard file, also when the run failed: the merge names the
// shard that failed rather than one that is missing.
func (s *runner) runShard(ctx context.Context, cmd string, p parsed, cfg config.Config) int {
	spec := cfg.Shard
	applying := cmd == "apply" && !p.switches["dry-run"]
	digest := config.Digest(cfg)
	file := shard.NewFile(plan.New(cfg.ID, time.Now(), nil), nil, shard.Coverage{Index: spec.Index, Count: spec.Count, Config: digest}, nil, nil)
	if applying {
		file.Phase = shard.PhaseApply
		if cfg.Approved == "" {
			return s.fail(action.ExitMisuse, fmt.Errorf("apply --shard %s needs --approved FILE: the approved plan whose slice it applies", spec))
		}
		b, err := os.ReadFile(cfg.Approved)
		if err != nil {
			return s.fail(action.ExitMisuse, fmt.Errorf("read the approved plan: %w", err))
		}
		approval, err := shard.ParseApproval(cfg.Approved, b)
		if err == nil {
			err = approval.Check(cfg.Approved, spec, digest)
		}
		if err != nil {
			return s.fail(action.ExitMisuse, err)
		}
		file.Approved = approval.Slice(spec).Fingerprint
		// As a single apply refuses a plan over the limit, every shard
		// refuses the whole approved plan, not just its own slice.
		if n := approval.Actions(); n > cfg.MaxActions {
			err := fmt.Errorf("the approved plan has %d actions, more than max-actions (%d): nothing was applied", n, cfg.MaxActions)
			file.Error = err.Error()
			s.say(action.ExitOverLimit, err)
			return s.writeShard(cfg.Out, file, action.ExitOverLimit)
		}
	}
	// failed ends the run with err, the shard file saying why.
	failed := func(code int, err error) int {
		file.Error = err.Error()
		s.say(code, err)
		return s.writeShard(cfg.Out, file, code)
	}

	connect := s.env.Connect
	if connect == nil {
		connect = action.Connect
	}
	access := action.PlanOnly
	if applying { // an apply shard with its approved plan
		access = action.MayChange
	}
	cl, err := connect(ctx, s.logger, cfg, access, s.env.Engine...)
	if err != nil {
		var m *action.MisuseError // e.g. an account not in allowed-accounts
		if errors.As(err, &m) {
			return failed(action.ExitMisuse, err)
		}
		return failed(failCode(applying), err)
	}
	accounts := cl.Identities()
	for _, a := range accounts {
		file.Accounts = append(file.Accounts, shard.Account{ID: a.ID, Alias: a.Alias})
	}
	res, cov, err := cl.Engine.PlanShard(ctx, cfg, spec, cl.Accounts...)
	file.Shard = cov
	if err != nil {
		return failed(failCode(applying), err)
	}
	file.Plan, file.LeftAlone, file.Regions = res.Plan, nonNil(res.Protected), nonNil(res.Regions)
	// Not PlanOutcome: its max-actions note is about the whole plan,
	// which only the merge knows.
	o := action.Outcome{Plan: res.Plan, Result: action.Planned}
	if len(res.Plan.Actions) == 0 {
		o.Result = action.NothingToDo
	}
	if applying {
		o = cl.Apply(ctx, cfg, res, file.Approved)
		file.Plan, file.Drift = o.Plan, o.Result == action.Drift
	}
	note := fmt.Sprintf("Shard %s: %d of the run's %d targets.", spec, len(cov.Targets), cov.Total)
	rep := report.Report{Plan: o.Plan, Protected: res.Protected, Notes: append([]string{note}, o.Notes...),
		Accounts: accounts, Regions: len(res.Regions)}
	if err := show(s.env.Stdout, cfg.Format, rep, textWidth(s.env)); err != nil {
		return s.fail(action.ExitFailure, err)
	}
	s.logger.Info("done", "shard", spec.String(), "result", string(o.Result), "fingerprint", o.Plan.Fingerprint, "exit_code", o.Code)
	return s.writeShard(cfg.Out, file, o.Code)
}

// failCode is the exit code of a shard whose AWS side failed: a plan
// failed (1); an apply shard counts as a failed slice (3).
func failCode(applying bool) int {
	if applying {
		return action.ExitPartial
	}
	return action.ExitFailure
}

// writeShard writes the shard file to path, if given, and returns code,
// or exit 1 when the file cannot be written.
func (s *runner) writeShard(path string, f shard.File, code int) int {
	if path == "" {
		return code
	}
	if err := writeJSON(path, f); err != nil {
		return s.fail(action.ExitFailure, fmt.Errorf("write shard file: %w", err))
	}
	return code
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeJSON writes v to path as indented JSON.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// runMerge is broom merge FILE…: it checks that the files are the shards
// of one run, each once, and prints the one plan as broom plan would, or,
// for the files of apply shards, every action's result. It calls no AWS.
func runMerge(args []string, env IO) (code int) {
	s := newRunner(env, args)
	defer s.recovered(&code)
	c, _ := lookupCommand("merge")
	p, err := s.flags(c, args)
	if err != nil {
		return s.fail(action.ExitMisuse, err)
	}
	format, src := p.layer.Values["format"], "flag --format"
	if format == "" {
		format, src = env.Getenv(config.EnvName("format")), config.EnvName("format")
	}
	if format == "" {
		format = config.Defaults["format"]
	}
	if !slices.Contains([]string{"text", "markdown", "json"}, format) {
		return s.fail(action.ExitMisuse, fmt.Errorf("%s=%q: want one of text, markdown, json", src, format))
	}
	out := firstNonEmpty(p.layer.Values["out"], env.Getenv(config.EnvName("out")))
	if len(p.args) == 0 {
		return s.fail(action.ExitMisuse, errors.New("merge needs the shard files: broom merge FILE… (see broom merge --help)"))
	}
	files := make([]shard.NamedFile, len(p.args))
	for i, name := range p.args {
		b, err := os.ReadFile(name)
		if err != nil {
			return s.fail(action.ExitMisuse, fmt.Errorf("read shard file: %w", err))
		}
		files[i].Name = name
		if err := json.Unmarshal(b, &files[i].File); err != nil {
			return s.fail(action.ExitMisuse, fmt.Errorf("%s is not a broom shard file: %v", name, err))
		}
	}
	m, err := shard.Merge(files)
	var failedShard *shard.ShardError
	switch {
	case errors.As(err, &failedShard):
		return s.fail(action.ExitFailure, err)
	case err != nil:
		return s.fail(action.ExitMisuse, err)
	}
	rep := report.Report{Plan: m.Plan, Protected: m.LeftAlone, Regions: len(m.Regions)}
	for _, a := range m.Accounts {
		rep.Accounts = append(rep.Accounts, report.Account{ID: a.ID, Alias: a.Alias})
	}
	code = action.ExitOK
	if m.Phase == shard.PhaseApply {
		rep.Protected = nil // shown with the plan that was approved
		rep.Notes, code = resultNotes(m)
	}
	if err := show(env.Stdout, format, rep, textWidth(env)); err != nil {
		return s.fail(action.ExitFailure, err)
	}
	if out != "" {
		if err := writeJSON(out, m.File()); err != nil {
			return s.fail(action.ExitFailure, fmt.Errorf("write plan file: %w", err))
		}
	}
	s.logger.Info("done", "shards", m.Shards.Count, "fingerprint", m.Plan.Fingerprint, "exit_code", code)
	return code
}

// resultNotes says what went otherwise than approved in the apply shards
// and the exit code of the whole: 4 if a slice drifted, else 3 if an
// action or a shard failed, else 0. Drift in one slice does not undo the
// slices that applied: each action applied was approved.
func resultNotes(m shard.Merged) ([]string, int) {
	var notes []string
	targets := func(spec shard.Spec) string {
		i := slices.IndexFunc(m.Covered, func(c shard.Coverage) bool { return c.Index == spec.Index })
		if i < 0 || len(m.Covered[i].Targets) == 0 {
			return "no target known"
		}
		return strings.Join(m.Covered[i].Targets, ", ")
	}
	for _, d := range m.Drifted {
		notes = append(notes, fmt.Sprintf("Shard %s drifted: its fresh actions (shown without a result) are not the approved ones, so none of them was applied. Its targets: %s. Plan again.", d, targets(d)))
	}
	for _, f := range m.Failed {
		notes = append(notes, fmt.Sprintf("Shard %s failed before applying: %s. Its targets: %s. Plan again.", f.Spec, f.Error, targets(f.Spec)))
	}
	cnt := m.Plan.Count()
	switch {
	case len(m.Drifted) > 0:
		return notes, action.ExitDrift
	case len(m.Failed) > 0 || cnt.Failed > 0 || cnt.Skipped > 0:
		return notes, action.ExitPartial
	}
	return notes, action.ExitOK
}
