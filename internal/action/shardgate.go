package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/shard"
)

// gatePR is the gate job of a sharded approval (mode gate): the facts and
// the gate as for any approval, then, instead of planning and applying (no
// AWS here), the approved plan is published for the apply shards. The
// label stays on: the apply shards check it, the results job removes it.
func (r *run) gatePR(ctx context.Context) Outcome {
	number := r.pay.PullRequest.Number
	a, err := gatherPR(ctx, r.gh, r.claim(number, r.pay.PullRequest.Head.SHA))
	if err != nil {
		return failed("plan", ExitFailure, err)
	}
	removeLabel := func(o *Outcome) {
		if err := r.gh.RemoveLabel(ctx, number, r.cfg.ApproveLabel); err != nil {
			o.Notes = append(o.Notes, err.Error())
		}
	}
	if why := gate.Check(a.facts); why != "" {
		r.Logger.Warn("approval refused", "labeler", a.facts.Labeler, "reason", why)
		o := Outcome{Mode: "plan", Result: Refused, Code: ExitRefused,
			Notes: []string{fmt.Sprintf("Approval by %s refused: %s. Nothing was applied.", a.facts.Labeler, why)}}
		removeLabel(&o)
		if a.facts.EditedByOther() {
			r.withdraw(ctx, &o, number, a.pull.HeadSHA)
			return o
		}
		if a.sticky != nil && r.cfg.Comment {
			if c, err := r.gh.Upsert(ctx, number, a.sticky, report.ReplaceNotes(a.sticky.Body, o.Notes)); err == nil {
				o.CommentURL = c.URL
			}
		}
		return o
	}
	shards, ok := pr.ParseShards(a.sticky.Body)
	if !ok {
		return failed("plan", ExitMisuse, errors.New("the plan shown was not made in shards (its comment has no broom:shards line): mode gate approves only a plan merged from shards; run the approval without mode gate, or plan in shards"))
	}
	if err := checkShown(a.sticky.Body, shards); err != nil {
		return failed("plan", ExitMisuse, err)
	}
	total := shards.Actions()
	if total > r.cfg.MaxActions {
		o := Outcome{Mode: "plan", Result: OverLimit, Code: ExitOverLimit,
			Notes: []string{fmt.Sprintf("The plan has %d actions, more than max-actions (%d). Nothing was applied.", total, r.cfg.MaxActions)}}
		removeLabel(&o)
		if r.cfg.Comment {
			if c, err := r.gh.Upsert(ctx, number, a.sticky, report.ReplaceNotes(a.sticky.Body, o.Notes)); err == nil {
				o.CommentURL = c.URL
			}
		}
		return o
	}
	rec := shard.ApprovedFile{Version: 1, ID: r.cfg.ID, Fingerprint: a.sticky.Marker.Fingerprint, Head: a.pull.HeadSHA,
		ApprovedBy: a.facts.Labeler, ApprovedAt: time.Now().UTC().Truncate(time.Second), Shards: shards}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return failed("plan", ExitFailure, err)
	}
	o := Outcome{Mode: "plan", Result: Approved, CommentURL: a.sticky.URL,
		Plan:     plan.Plan{Version: 1, ID: r.cfg.ID, Fingerprint: rec.Fingerprint, Created: rec.ApprovedAt, Actions: []plan.Action{}},
		Headline: fmt.Sprintf("Approved: %d actions in %d shards · fingerprint %.12s", total, shards.Count, rec.Fingerprint),
		Notes: []string{fmt.Sprintf("Approved by %s at %s: the plan the pull request's comment shows, %d actions in %d shards (fingerprint %.12s). Each apply shard applies its own slice.",
			rec.ApprovedBy, rec.ApprovedAt.Format(time.RFC3339), total, shards.Count, rec.Fingerprint)}}
	if o.ApprovedFile = r.writeFile("approved-"+r.cfg.ID+".json", append(data, '\n')); o.ApprovedFile == "" {
		o.Result, o.Code = Error, ExitFailure
		o.Err = errors.New("the approved plan could not be written: the apply shards have nothing to apply")
	}
	return o
}

// withdraw replaces a plan someone else edited. The gate job cannot plan
// again (no AWS), so the comment says the plan was withdrawn; its marker
// approves the empty plan and it has no shards line, so a later approval
// of it finds nothing to apply.
func (r *run) withdraw(ctx context.Context, o *Outcome, number int, head string) {
	o.Plan = plan.New(r.cfg.ID, time.Now(), nil)
	o.Notes = append(o.Notes, "The plan shown was edited by someone other than broom, so it is withdrawn: push a commit or re-run the plan jobs to plan again, then review and approve the new plan.")
	if r.cfg.Comment {
		r.comment(ctx, o, number, head, o.Plan.Fingerprint, false)
	}
}

// checkShown checks that the shards line agrees with the plan shown: its
// slices hold no more actions than the comment's hidden list of actions
// (after an apply the list holds the done ones too, the slices only what
// remains).
func checkShown(body string, s shard.Shards) error {
	n, ok := report.ActionCount(body)
	if !ok {
		return errors.New("the plan shown has no broom:keys line: it was not written by this version of broom; plan again")
	}
	if total := s.Actions(); total > n {
		return fmt.Errorf("the plan shown has %d actions but its shards line counts %d: plan again", n, total)
	}
	return nil
}
