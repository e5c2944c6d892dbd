package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/shard"
)

// noFilesError is a merge glob that matches no file.
type noFilesError struct{ glob string }

func (e noFilesError) Error() string {
	return fmt.Sprintf("merge %q: no file matches it (were the shards' files downloaded there?)", e.glob)
}

// shardFiles reads the files the merge glob matches, relative to the
// workspace as every path of the action is.
func (r *run) shardFiles() ([]shard.NamedFile, error) {
	ws := nonEmpty(r.Getenv("GITHUB_WORKSPACE"), ".")
	pattern := r.cfg.Merge
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(ws, pattern)
	}
	names, err := filepath.Glob(pattern)
	if err != nil {
		return nil, &MisuseError{fmt.Errorf("merge %q: %v", r.cfg.Merge, err)}
	}
	if len(names) == 0 {
		return nil, &MisuseError{noFilesError{r.cfg.Merge}}
	}
	files := make([]shard.NamedFile, 0, len(names))
	for _, name := range names {
		rel := name
		if p, err := filepath.Rel(ws, name); err == nil {
			rel = p
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, &MisuseError{fmt.Errorf("merge: %v", err)}
		}
		var f shard.File
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, &MisuseError{fmt.Errorf("%s is not a broom shard file: %v", rel, err)}
		}
		files = append(files, shard.NamedFile{Name: rel, File: f})
	}
	return files, nil
}

// merge checks the files and merges them. A shard's own failure is the
// run's failure (exit 1, or 3 for an apply); anything else wrong with the
// files is misuse.
func (r *run) merge(files []shard.NamedFile, phase string) (shard.Merged, error) {
	for _, f := range files {
		if f.File.Phase != phase && (f.File.Phase == "plan" || f.File.Phase == "apply") {
			what := map[string]string{"plan": "the plan jobs' files", "apply": "the apply jobs' files"}[phase]
			return shard.Merged{}, &MisuseError{fmt.Errorf("merge on this event takes %s: %s is of the %s phase", what, f.Name, f.File.Phase)}
		}
	}
	m, err := shard.Merge(files)
	var se *shard.ShardError
	if err != nil && !errors.As(err, &se) {
		return m, &MisuseError{err}
	}
	if err != nil {
		return m, err
	}
	if want := config.Digest(r.cfg); m.Shards.Config != want && !sameConfig(r.cfg, m) {
		return m, &MisuseError{fmt.Errorf("the shards were planned with another config (digest %.12s), not this job's (%.12s): give every job the same config and inputs", m.Shards.Config, want)}
	}
	r.accounts = reportAccounts(m.Accounts)
	r.regions = len(m.Regions)
	return m, nil
}

// sameConfig: the shards were planned with cfg, its region taken from
// their AWS environment (AWS_REGION), which this job, making no AWS
// call, may not have. The region is one they looked in, or the home
// region of regions: all.
func sameConfig(cfg config.Config, m shard.Merged) bool {
	if len(cfg.Regions) > 0 {
		return false
	}
	for _, region := range append(slices.Clone(m.Regions), homeRegion) {
		cfg.Regions = []string{region}
		if config.Digest(cfg) == m.Shards.Config {
			return true
		}
	}
	return false
}

func reportAccounts(list []shard.Account) []report.Account {
	out := make([]report.Account, len(list))
	for i, a := range list {
		out[i] = report.Account{ID: a.ID, Alias: a.Alias}
	}
	return out
}

// mergedPlan is a merge job's plan: the shards' files as one plan, the
// plan one job would have made, with no AWS call.
func (r *run) mergedPlan(context.Context) (Outcome, error) {
	files, err := r.shardFiles()
	if err != nil {
		return Outcome{}, err
	}
	m, err := r.merge(files, "plan")
	if err != nil {
		return Outcome{}, err
	}
	o := PlanOutcome(engine.Result{Plan: m.Plan, Protected: m.LeftAlone}, r.cfg)
	o.Shards = &m.Shards
	o.File = m.File()
	return o, nil
}

// freshPlan is a plan made here, from AWS, by a run that only plans.
func (r *run) freshPlan(ctx context.Context) (Outcome, error) {
	_, res, err := r.plan(ctx, PlanOnly)
	if err != nil {
		return Outcome{}, err
	}
	return PlanOutcome(res, r.cfg), nil
}

// checkSharding refuses sharded settings where this event makes them mean
// nothing (SPEC §4), before GitHub or AWS is asked anything. config.Load
// has refused the combinations that are wrong on any event.
// sharded: this job plans or applies one shard of the targets.
func (r *run) sharded() bool { return r.cfg.Shard.Count > 0 }

func (r *run) checkSharding(route gate.Route, onPR bool) error {
	c := r.cfg
	sharded := c.Shard.Count > 0 || c.Merge != "" || c.Mode == "gate"
	switch {
	case c.Mode == "gate" && (c.Shard.Count > 0 || c.Merge != ""):
		return errors.New("mode gate takes neither shard nor merge: the gate job only judges the approval")
	case route.Do == gate.Approve && sharded && !onPR:
		return errors.New("sharded approval is PR-only: approve a tracking issue's plan with a single job (no shard, merge or mode gate)")
	case route.Do == gate.Approve && c.Shard.Count > 0 && c.Approved == "":
		return errors.New("on the approve label a shard applies only an approved plan: give approved (the gate job's approved-file)")
	case route.Do != gate.Approve && c.Approved != "":
		return fmt.Errorf("approved is given, but this event (%s) is not the approve label: apply shards run on the approve label, after the gate job", r.event)
	case route.Do == gate.Apply && c.Shard.Count > 0:
		return errors.New("shard with mode apply: a shard applies only an approved plan, on the approve label (with approved)")
	}
	return nil
}
