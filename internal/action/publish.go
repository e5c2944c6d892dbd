package action

import (
	"context"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
)

// comment writes the outcome into the sticky comment, with the marker's
// fingerprint set to what an approval would now approve.
func (r *run) comment(ctx context.Context, o *Outcome, number int, head, fingerprint string, diff bool) {
	existing, err := r.gh.FindSticky(ctx, number, r.cfg.ID, r.viewer)
	if err == nil {
		var prev *pr.Comment
		if existing != nil && diff {
			prev = existing
		}
		body := r.body(o, pr.Marker{ID: r.cfg.ID, Fingerprint: fingerprint, Head: head}, prev)
		var c *pr.Comment
		if c, err = r.gh.Upsert(ctx, number, existing, body); err == nil {
			o.CommentURL = c.URL
			return
		}
	}
	r.Logger.Error("sticky comment not written", "error", err)
	o.Notes = append(o.Notes, "The pull request comment could not be written: "+err.Error())
	if o.Code == ExitOK {
		o.Code = ExitFailure
	}
}

// trackingIssue writes a scheduled or dispatched run's plan into the report
// id's tracking issue: opened when there is something to do, updated in
// place, closed when nothing remains.
func (r *run) trackingIssue(ctx context.Context, o *Outcome, existing *pr.Issue, fingerprint string, diff bool) {
	remaining := len(o.Plan.Actions)
	if o.Plan.Applied() {
		remaining = len(o.Plan.Remaining())
	}
	if existing == nil && remaining == 0 {
		return // nothing to track
	}
	if existing == nil {
		r.ensureApproveLabel(ctx, o)
	}
	marker := pr.Marker{ID: r.cfg.ID, Fingerprint: fingerprint, Head: r.Getenv("GITHUB_SHA")}
	var prev *pr.Comment
	if existing != nil && diff {
		prev = &pr.Comment{Body: existing.Body, Marker: existing.Marker}
	}
	body := r.body(o, marker, prev)
	is, err := r.gh.UpsertIssue(ctx, existing, "broom plan: "+r.cfg.ID, body, remaining == 0)
	if err != nil {
		r.Logger.Error("tracking issue not written", "error", err)
		o.Notes = append(o.Notes, "The tracking issue could not be written: "+err.Error())
		if o.Code == ExitOK {
			o.Code = ExitFailure
		}
		return
	}
	o.CommentURL = is.URL
}

// body renders the report for a sticky comment or tracking issue: within
// GitHub's body limit, with a hidden list of the plan's actions, and, when
// it replaces an earlier plan, a line saying what changed since.
func (r *run) body(o *Outcome, marker pr.Marker, prev *pr.Comment) string {
	rep := r.report(*o, marker)
	if o.Shards != nil { // right after the marker, where the gate reads it
		rep.Marker += "\n" + pr.ShardsLine(*o.Shards)
	}
	if prev != nil && !o.Plan.Applied() {
		if line := report.Changes(prev.Body, prev.Marker.Fingerprint, o.Plan); line != "" {
			rep.Notes = append([]string{line}, rep.Notes...)
		}
	}
	keys := report.KeysBlock(o.Plan)
	rep.Limit = report.CommentLimit - len(keys)
	return report.Markdown(rep) + keys
}
