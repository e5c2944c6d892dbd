package action

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/shard"
)

// readApproved reads and checks the approved plan an apply shard is
// given: the gate job's approved-file, or a merged plan file (what the
// command line's apply --approved reads too).
func (r *run) readApproved() (shard.ApprovedFile, error) {
	spec, name := r.cfg.Shard, r.cfg.Approved
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(nonEmpty(r.Getenv("GITHUB_WORKSPACE"), "."), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return shard.ApprovedFile{}, &MisuseError{fmt.Errorf("approved: %v", err)}
	}
	a, err := shard.ParseApproval(name, data)
	if err == nil {
		err = a.Check(name, spec, config.Digest(r.cfg))
	}
	if err != nil {
		return shard.ApprovedFile{}, &MisuseError{fmt.Errorf("approved: %w", err)}
	}
	var rec shard.ApprovedFile
	_ = json.Unmarshal(data, &rec) // it parsed above; a merged plan file names no approver
	return rec, nil
}

// applyShard is an apply job of a matrix: it applies its slice of the
// approved plan if the approval still stands and its targets, planned
// again, give the slice approved; else nothing. Its file goes to the
// results job, which alone writes to the pull request.
func (r *run) applyShard(ctx context.Context) Outcome {
	spec, rec := r.cfg.Shard, *r.approved
	slice := rec.Shards.Slices[spec.Index-1]
	file := r.shardFile(spec, engine.Result{}, "apply")
	file.Approved = slice.Fingerprint
	end := func(o Outcome, why error) Outcome { // a file with the reason, for the results job
		file.Error = why.Error()
		o.File = file
		return o
	}
	if why, err := r.replayed(ctx, rec); err != nil {
		return end(failed("plan", ExitFailure, err), err)
	} else if why != "" {
		err := fmt.Errorf("the approved plan is no longer the one shown: %s. Nothing was applied", why)
		return end(Outcome{Mode: "plan", Result: Refused, Code: ExitRefused, Err: err}, err)
	}

	c, res, err := r.plan(ctx, MayChange) // the approval stands: this shard may apply its slice
	if err != nil {
		code := ExitPartial // the other slices may have applied: this one did not
		if codeOf(err) == ExitMisuse {
			code = ExitMisuse
		}
		file = r.shardFile(spec, res, "apply")
		file.Approved = slice.Fingerprint
		return end(failed("plan", code, err), err)
	}
	file = r.shardFile(spec, res, "apply")
	file.Approved = slice.Fingerprint
	head := fmt.Sprintf("This is shard %s of the plan approved by %s (fingerprint %.12s).", spec, nonEmpty(rec.ApprovedBy, "the approver"), rec.Fingerprint)
	if why := sliceDrift(res, r.coverage, rec.Shards, slice); why != "" {
		o := PlanOutcome(res, r.cfg)
		o.Result, o.Code = Drift, ExitDrift
		o.Notes = append([]string{head, "Drift: " + why + ". Nothing of this shard was applied; the results job shows its new actions to approve again."}, o.Notes...)
		file.Drift = true
		o.File = file
		return o
	}
	o := c.Apply(ctx, r.cfg, res, "")
	o.Notes = append([]string{head}, o.Notes...)
	file.Plan = o.Plan
	o.File = file
	return o
}

// sliceDrift says how a shard's fresh plan differs from its approved
// slice; "" when it is the slice approved.
func sliceDrift(res engine.Result, cov shard.Coverage, approved shard.Shards, slice shard.Slice) string {
	if cov.All != approved.All {
		return fmt.Sprintf("the run's targets changed since the plan was approved (digest %.12s, now %.12s)", approved.All, cov.All)
	}
	if res.Plan.Fingerprint != slice.Fingerprint {
		return fmt.Sprintf("this shard's plan changed since it was approved (fingerprint %.12s → %.12s, %d actions, was %d)",
			slice.Fingerprint, res.Plan.Fingerprint, len(res.Plan.Actions), slice.Actions)
	}
	return ""
}

// replayed checks that the approval an apply shard was given still
// stands: the comment shows that plan and the label is still on. A file
// from an older approval, or one approved and since replaced, must not
// apply. It returns why not, or "" when it stands.
func (r *run) replayed(ctx context.Context, rec shard.ApprovedFile) (string, error) {
	number := r.pay.PullRequest.Number
	pull, err := r.gh.GetPullRequest(ctx, number)
	if err != nil {
		return "", err
	}
	sticky, err := r.gh.FindSticky(ctx, number, r.cfg.ID, r.viewer)
	if err != nil {
		return "", err
	}
	if sticky == nil {
		return fmt.Sprintf("#%d has no plan from broom", number), nil
	}
	if sticky.Marker.Fingerprint != rec.Fingerprint {
		return fmt.Sprintf("#%d shows plan %.12s, not the approved %.12s", number, sticky.Marker.Fingerprint, rec.Fingerprint), nil
	}
	if shown, ok := pr.ParseShards(sticky.Body); !ok || !sameShards(shown, rec.Shards) {
		return fmt.Sprintf("#%d shows other shards than the approved ones", number), nil
	}
	if !contains(pull.Labels, r.cfg.ApproveLabel) {
		return fmt.Sprintf("the %s label is no longer on #%d", r.cfg.ApproveLabel, number), nil
	}
	return "", nil
}

func sameShards(a, b shard.Shards) bool {
	return a.Config == b.Config && a.All == b.All && slices.Equal(a.Slices, b.Slices) // the slices say the count
}
