package action

import (
	"context"
	"fmt"
	"time"

	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
)

// home is where a shown plan lives: the PR's sticky comment or a tracking
// issue. An approval is checked against it and its result written to it.
type home struct {
	number int
	shown  *pr.Marker // the plan shown there, nil when none was found
	// write replaces the body with o's report, whose marker carries
	// fingerprint: what an approval would now approve. diff says whether
	// to note what changed since the plan the body showed.
	write func(ctx context.Context, o *Outcome, fingerprint string, diff bool)
	// notes replaces only the notes of the body (a refusal leaves the
	// plan shown as it was).
	notes func(ctx context.Context, o *Outcome)
}

// claim is the approval the labeled event on number states.
func (r *run) claim(number int, eventHead string) claim {
	return claim{Number: number, Labeler: r.pay.Sender.Login, LabelerType: r.pay.Sender.Type, EventHead: eventHead,
		Label: r.cfg.ApproveLabel, ReportID: r.cfg.ID, Viewer: r.viewer,
		Required: r.cfg.ApproverPermission, AllowSelf: r.cfg.AllowSelfApproval}
}

func (r *run) approvePR(ctx context.Context) Outcome {
	number := r.pay.PullRequest.Number
	a, err := gatherPR(ctx, r.gh, r.claim(number, r.pay.PullRequest.Head.SHA))
	if err != nil {
		return failed("plan", ExitFailure, err)
	}
	h := home{number: number,
		write: func(ctx context.Context, o *Outcome, fp string, diff bool) {
			if r.cfg.Comment {
				r.comment(ctx, o, number, a.pull.HeadSHA, fp, diff)
			}
		},
		notes: func(ctx context.Context, o *Outcome) {
			if a.sticky != nil && r.cfg.Comment {
				if c, err := r.gh.Upsert(ctx, number, a.sticky, report.ReplaceNotes(a.sticky.Body, o.Notes)); err == nil {
					o.CommentURL = c.URL
				}
			}
		}}
	if a.sticky != nil {
		h.shown = &a.sticky.Marker
	}
	return r.approve(ctx, h, a.facts)
}

// approveIssue handles the approve label on a tracking issue: the same gate
// and apply as a pull request, against the plan in the issue's body.
func (r *run) approveIssue(ctx context.Context) Outcome {
	a, err := gatherIssue(ctx, r.gh, r.claim(r.pay.Issue.Number, ""))
	if err != nil {
		return failed("plan", ExitFailure, err)
	}
	is := a.issue
	h := home{number: is.Number,
		write: func(ctx context.Context, o *Outcome, fp string, diff bool) { r.trackingIssue(ctx, o, &is, fp, diff) },
		notes: func(ctx context.Context, o *Outcome) {
			if a.own {
				if up, err := r.gh.UpsertIssue(ctx, &is, "", report.ReplaceNotes(is.Body, o.Notes), false); err == nil {
					o.CommentURL = up.URL
				}
			}
		}}
	if a.own {
		h.shown = &is.Marker
	}
	return r.approve(ctx, h, a.facts)
}

// approve judges an approval on its facts, then plans again and applies if
// the plan is the one shown. The approve label is removed whatever happens.
func (r *run) approve(ctx context.Context, h home, facts gate.Facts) Outcome {
	label := r.cfg.ApproveLabel
	removeLabel := func(o *Outcome) {
		if err := r.gh.RemoveLabel(ctx, h.number, label); err != nil {
			o.Notes = append(o.Notes, err.Error())
		}
	}
	if why := gate.Check(facts); why != "" {
		return r.refuse(ctx, h, facts, why, removeLabel)
	}

	c, res, err := r.plan(ctx, MayChange) // the gate passed: this run may apply
	if err != nil {
		return failed("plan", codeOf(err), err)
	}
	// The plan approved is the plan applied (SPEC §7). A fresh plan that is
	// empty is drift too: what was approved will not happen (protected or
	// gone since), and the approver is told so, with the comment rewritten.
	if res.Plan.Fingerprint != h.shown.Fingerprint {
		o := PlanOutcome(res, r.cfg)
		o.Result, o.Code = Drift, ExitDrift
		next := "review the new plan below and approve again"
		if len(res.Plan.Actions) == 0 {
			next = "the plan is now empty: what was approved is protected, in use or gone"
		}
		o.Notes = append([]string{fmt.Sprintf("Drift: the plan changed since it was shown (fingerprint %.12s → %.12s). Nothing was applied; %s.",
			h.shown.Fingerprint, res.Plan.Fingerprint, next)}, o.Notes...)
		removeLabel(&o)
		h.write(ctx, &o, res.Plan.Fingerprint, true)
		return o
	}
	o := c.Apply(ctx, r.cfg, res, "")
	ctx, cancel := finishing(ctx)
	defer cancel()
	o.Notes = append([]string{fmt.Sprintf("Approved by %s at %s.", facts.Labeler, time.Now().UTC().Format(time.RFC3339))}, o.Notes...)
	removeLabel(&o)
	fingerprint := o.Plan.Fingerprint
	if o.Plan.Applied() {
		fingerprint = plan.Fingerprint(o.Plan.Remaining())
	}
	h.write(ctx, &o, fingerprint, true)
	return o
}

// refuse ends a refused approval: nothing applied, the label removed, and
// the reason written where the plan is shown. A plan someone else edited
// is not left standing: broom plans again and writes the true plan over it.
func (r *run) refuse(ctx context.Context, h home, facts gate.Facts, why string, removeLabel func(*Outcome)) Outcome {
	r.Logger.Warn("approval refused", "labeler", facts.Labeler, "reason", why)
	note := fmt.Sprintf("Approval by %s refused: %s. Nothing was applied.", facts.Labeler, why)
	o := Outcome{Mode: "plan", Result: Refused, Code: ExitRefused, Notes: []string{note}}
	if !facts.EditedByOther() {
		removeLabel(&o)
		h.notes(ctx, &o)
		return o
	}
	_, res, err := r.plan(ctx, PlanOnly) // refused: this run only shows the true plan
	if err != nil {
		o.Notes = append(o.Notes, "The edited plan could not be replaced: planning again failed: "+err.Error())
		o.Code = ExitFailure
		removeLabel(&o)
		h.notes(ctx, &o)
		return o
	}
	fresh := PlanOutcome(res, r.cfg)
	o.Plan, o.Protected = fresh.Plan, fresh.Protected
	o.Notes = append(o.Notes, "The plan below was computed again by broom and replaces the edited one: review it, then approve again.")
	o.Notes = append(o.Notes, fresh.Notes...)
	removeLabel(&o)
	h.write(ctx, &o, res.Plan.Fingerprint, false) // the edited body says nothing trustworthy to compare with
	return o
}
