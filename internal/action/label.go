package action

import (
	"context"
	"fmt"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/report"
)

// ensureApproveLabel creates the approve label when the repository lacks
// it, so that a person can add it from GitHub's UI, which offers only
// labels that exist. It is called where a plan that needs approving is
// written (a pull request plan with something to do, a tracking issue
// being opened) and tries once per run. A failure (a token that may not
// create labels: 403) is a warning and a note in o, never a failed run.
func (r *run) ensureApproveLabel(ctx context.Context, o *Outcome) {
	if r.labelTried || r.gh == nil {
		return
	}
	r.labelTried = true
	label := r.cfg.ApproveLabel
	created, err := r.gh.EnsureLabel(ctx, label, pr.ApproveLabelColor, pr.ApproveLabelDescription)
	if err != nil {
		r.Logger.Warn("the approve label could not be checked or created", "label", label, "error", err)
		r.gha.Warningf("%s", report.Clean(fmt.Sprintf("broom could not make sure the %s label exists: %v", label, err)))
		o.Notes = append(o.Notes, fmt.Sprintf("broom could not make sure the %s label exists in this repository (%v). If it is missing, create it by hand (Issues → Labels → New label) before approving: GitHub offers only labels that exist.", label, err))
		return
	}
	if created {
		r.Logger.Info("created the approve label", "label", label)
	}
}
