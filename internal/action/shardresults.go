package action

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/shard"
)

// maxTargetsNamed caps the targets a note names.
const maxTargetsNamed = 10

// results is the results job of a sharded apply: it merges the apply
// shards' files (no AWS call) and writes them into the comment, which
// then shows, and approves, what remains. It removes the label.
func (r *run) results(ctx context.Context) Outcome {
	number := r.pay.PullRequest.Number
	sticky, err := r.gh.FindSticky(ctx, number, r.cfg.ID, r.viewer)
	if err != nil {
		return failed("apply", ExitFailure, err)
	}
	if sticky == nil {
		return failed("apply", ExitMisuse, fmt.Errorf("#%d has no plan from broom: these results are for no plan shown", number))
	}
	shown, ok := pr.ParseShards(sticky.Body)
	if !ok {
		return failed("apply", ExitMisuse, fmt.Errorf("the plan shown in #%d was not made in shards: these results are for another approval", number))
	}
	// No file at all is every shard missing: the results job still says
	// so and removes the label.
	files, err := r.shardFiles()
	if err != nil && !errors.As(err, new(noFilesError)) {
		return failed("apply", ExitMisuse, err)
	}
	byIndex, err := r.checkResults(files, shown)
	if err != nil {
		return failed("apply", ExitMisuse, err)
	}

	o := Outcome{Mode: "apply"}
	var all, remaining []plan.Action
	var regions []string
	next := shard.Shards{Count: shown.Count, Config: shown.Config, All: shown.All}
	var missing, drifted, failedShards int
	for i := 1; i <= shown.Count; i++ {
		spec := shard.Spec{Index: i, Count: shown.Count}
		f, ok := byIndex[i]
		var left []plan.Action // what of this slice remains and is shown
		switch {
		case !ok:
			missing++
			o.Notes = append(o.Notes, fmt.Sprintf("No result came from shard %s (its job failed or was cancelled before writing it): what it applied is not known here, and its rows are not shown. Plan again (push, or re-run the plan jobs) to approve its targets.", spec))
		case f.File.Error != "":
			failedShards++
			all = append(all, f.File.Actions...)
			// Its rows, if any, are not its whole slice: nothing of it is
			// approvable from here.
			o.Notes = append(o.Notes, fmt.Sprintf("The apply of shard %s failed: %s. Targets: %s. Plan again to approve what it did not apply.", spec, f.File.Error, targets(f.File.Shard.Targets)))
		case f.File.Drift:
			drifted++
			all = append(all, f.File.Actions...)
			left = f.File.Actions
			o.Notes = append(o.Notes, fmt.Sprintf("Drift in shard %s: its plan changed since it was approved (fingerprint %.12s → %.12s), so nothing of it was applied; its new actions are below, without a result. Targets: %s.",
				spec, f.File.Approved, f.File.Fingerprint, targets(f.File.Shard.Targets)))
		default:
			all = append(all, f.File.Actions...)
			left = plan.Plan{Actions: f.File.Actions}.Remaining()
		}
		if ok {
			regions = append(regions, f.File.Regions...)
			if r.accounts == nil {
				r.accounts = reportAccounts(f.File.Accounts)
			}
		}
		remaining = append(remaining, left...)
		next.Slices = append(next.Slices, shard.Slice{Index: i, Fingerprint: plan.Fingerprint(left), Actions: len(left)})
	}
	slices.Sort(regions)
	r.regions = len(slices.Compact(regions))

	o.Plan = plan.New(r.cfg.ID, time.Now(), all)
	o.Shards = &next
	o.File = shard.PlanFile{Plan: o.Plan, Shards: next, LeftAlone: []plan.Action{}}
	cnt := o.Plan.Count()
	switch {
	case missing > 0:
		o.Result, o.Code = Partial, ExitMisuse
	case drifted > 0:
		o.Result, o.Code = Drift, ExitDrift
	case cnt.Failed > 0 || cnt.Skipped > 0 || failedShards > 0:
		o.Result, o.Code = Partial, ExitPartial
	case len(all) == 0:
		o.Result = NothingToDo
	default:
		o.Result = Applied
	}
	o.Notes = append([]string{fmt.Sprintf("Applied in %d shards the plan approved (fingerprint %.12s): %d done, %d already done, %d failed, %d skipped.",
		shown.Count, sticky.Marker.Fingerprint, cnt.Done, cnt.AlreadyDone, cnt.Failed, cnt.Skipped)}, o.Notes...)

	ctx, cancel := finishing(ctx)
	defer cancel()
	if err := r.gh.RemoveLabel(ctx, number, r.cfg.ApproveLabel); err != nil {
		o.Notes = append(o.Notes, err.Error())
		o.Code = max(o.Code, ExitFailure)
	}
	if r.cfg.Comment {
		r.comment(ctx, &o, number, sticky.Marker.Head, plan.Fingerprint(remaining), true)
	}
	return o
}

// checkResults checks that each file is an apply shard's result for the
// approval the comment shows, each shard at most once, and returns them
// by index.
func (r *run) checkResults(files []shard.NamedFile, shown shard.Shards) (map[int]shard.NamedFile, error) {
	byIndex := map[int]shard.NamedFile{}
	for _, f := range files {
		c := f.File.Shard
		switch {
		case f.File.Phase != "apply":
			return nil, fmt.Errorf("merge on the approve label takes the apply jobs' files: %s is not one (phase %q)", f.Name, f.File.Phase)
		case c.Count != shown.Count || c.Index < 1 || c.Index > c.Count:
			return nil, fmt.Errorf("%s is shard %d/%d, but the plan shown has %d shards", f.Name, c.Index, c.Count, shown.Count)
		case f.File.Approved == "" && f.File.Error != "":
			// failed before it knew the approval (a bad approved file):
			// it applied nothing, so it is a failed shard of any approval
		case f.File.Approved != shown.Slices[c.Index-1].Fingerprint:
			return nil, fmt.Errorf("result of shard %d/%d (%s) is for another approval: it applied slice %.12s, the plan shown has %.12s",
				c.Index, c.Count, f.Name, f.File.Approved, shown.Slices[c.Index-1].Fingerprint)
		}
		if prev, dup := byIndex[c.Index]; dup {
			return nil, fmt.Errorf("shard %d/%d is given twice: %s, %s", c.Index, c.Count, prev.Name, f.Name)
		}
		byIndex[c.Index] = f
	}
	return byIndex, nil
}

// targets names a shard's targets for a note, the first few.
func targets(keys []string) string {
	if len(keys) == 0 {
		return "none known"
	}
	if len(keys) <= maxTargetsNamed {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:maxTargetsNamed], ", "), len(keys)-maxTargetsNamed)
}
