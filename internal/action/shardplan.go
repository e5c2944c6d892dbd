package action

import (
	"context"
	"fmt"
	"time"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/shard"
)

// shardFile is the file a shard job writes as its plan-file: what it
// covered, and what it planned or applied.
func (r *run) shardFile(spec shard.Spec, res engine.Result, phase string) shard.File {
	cov := r.coverage
	if cov.Count == 0 { // planning failed before the targets were known
		cov = shard.Coverage{Index: spec.Index, Count: spec.Count, Config: config.Digest(r.cfg), Targets: []string{}}
	}
	accounts := make([]shard.Account, len(r.accounts))
	for i, a := range r.accounts {
		accounts[i] = shard.Account{ID: a.ID, Alias: a.Alias}
	}
	p := res.Plan
	if p.ID == "" {
		p = plan.New(r.cfg.ID, time.Now(), nil)
	}
	f := shard.NewFile(p, res.Protected, cov, accounts, res.Regions)
	f.Phase = phase
	return f
}

// planShard is a plan job of a matrix: only its shard's targets, written
// as the shard file the merge job reads. It never comments, labels or
// writes an issue: the merge job does, once, for the whole plan.
func (r *run) planShard(ctx context.Context) Outcome {
	spec := r.cfg.Shard
	_, res, err := r.plan(ctx, PlanOnly)
	file := r.shardFile(spec, res, "plan")
	if err != nil {
		o := failed("plan", codeOf(err), err)
		file.Error = err.Error()
		o.File = file
		return o
	}
	o := PlanOutcome(res, r.cfg)
	o.Notes = append([]string{fmt.Sprintf("This is shard %s: %d of the run's %d targets; the merge job shows the whole plan.",
		spec, len(file.Shard.Targets), file.Shard.Total)}, o.Notes...)
	o.File = file
	return o
}
