package action

import (
	"context"
	"fmt"
	"strings"

	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/pr"
)

// approvalReader is the part of GitHub an approval's facts are read from;
// *pr.Client satisfies it, tests give a small fake.
type approvalReader interface {
	GetPullRequest(ctx context.Context, number int) (pr.PullRequest, error)
	FindSticky(ctx context.Context, number int, id, viewer string) (*pr.Comment, error)
	GetIssue(ctx context.Context, number int) (pr.Issue, error)
	Role(ctx context.Context, user string) (string, error)
	LabelEvents(ctx context.Context, number int) ([]pr.LabelEvent, error)
	EditFacts(ctx context.Context, nodeID string) (pr.EditFacts, error)
}

var _ approvalReader = (*pr.Client)(nil)

// claim is an approval as the event states it, and what the run requires
// of one. The event's payload is a snapshot from when the label was added
// (a re-run replays it): every fact the gate trusts is read again.
type claim struct {
	Number      int    // the pull request or issue
	Labeler     string // the event's sender
	LabelerType string // the sender's account type: User, Bot, …
	EventHead   string // the head commit in the payload; "" for issues
	Label       string // the approve label
	ReportID    string
	Viewer      string // broom's own login
	Required    string // approver-permission
	AllowSelf   bool
}

// prApproval is what an approval on a pull request was judged on.
type prApproval struct {
	facts  gate.Facts
	pull   pr.PullRequest // as it is now
	sticky *pr.Comment    // broom's comment for the report id; nil if none
}

// gatherPR reads the facts of an approval on a pull request: the PR now,
// broom's comment and its history, the labeler's role and the label's
// events.
func gatherPR(ctx context.Context, gh approvalReader, c claim) (prApproval, error) {
	var a prApproval
	var err error
	if a.pull, err = gh.GetPullRequest(ctx, c.Number); err != nil {
		return a, err
	}
	if a.sticky, err = gh.FindSticky(ctx, c.Number, c.ReportID, c.Viewer); err != nil {
		return a, err
	}
	a.facts = gate.Facts{Author: a.pull.Author, Fork: a.pull.Fork(), EventHead: c.EventHead,
		CurrentHead: a.pull.HeadSHA, LabelOn: contains(a.pull.Labels, c.Label)}
	nodeID := ""
	if a.sticky != nil {
		a.facts.HasPlan, a.facts.PlanHead, nodeID = true, a.sticky.Marker.Head, a.sticky.NodeID
	}
	return a, c.gatherCommon(ctx, gh, &a.facts, nodeID)
}

// issueApproval is what an approval on a tracking issue was judged on.
type issueApproval struct {
	facts gate.Facts
	issue pr.Issue
	// own is true when the issue is broom's open tracking issue for the
	// report id: only that holds a plan to approve.
	own bool
}

// gatherIssue reads the facts of an approval on a tracking issue. An issue
// that carries broom's marker but was opened by someone else, or is
// closed, holds no plan: a forged or finished plan is never approved.
func gatherIssue(ctx context.Context, gh approvalReader, c claim) (issueApproval, error) {
	var a issueApproval
	var err error
	if a.issue, err = gh.GetIssue(ctx, c.Number); err != nil {
		return a, err
	}
	is := a.issue
	a.own = gate.SameLogin(is.Author, c.Viewer) && is.Marker.ID == c.ReportID && is.State == "open"
	a.facts = gate.Facts{HasPlan: a.own, LabelOn: contains(is.Labels, c.Label)}
	nodeID := ""
	if a.own {
		nodeID = is.NodeID
	}
	return a, c.gatherCommon(ctx, gh, &a.facts, nodeID)
}

// gatherCommon fills in what every approval is judged on: who the labeler
// is and may do, who added the label last and when, and (for a home with a
// plan, nodeID) when the plan was written and whether someone else edited it.
func (c claim) gatherCommon(ctx context.Context, gh approvalReader, f *gate.Facts, nodeID string) error {
	f.Labeler, f.Required, f.AllowSelf, f.Viewer = c.Labeler, c.Required, c.AllowSelf, c.Viewer
	// An App's account is type Bot; its login ends in [bot] either way.
	f.LabelerBot = c.LabelerType == "Bot" || strings.HasSuffix(strings.ToLower(c.Labeler), "[bot]")
	role, err := gh.Role(ctx, c.Labeler)
	if err != nil {
		return err
	}
	f.LabelerRole = role
	events, err := gh.LabelEvents(ctx, c.Number)
	if err != nil {
		return err
	}
	for _, ev := range events { // oldest first: the last one wins
		if ev.Added && strings.EqualFold(ev.Label, c.Label) { // label names ignore case
			f.LabelAddedBy, f.LabelAddedAt = ev.Actor, ev.At
		}
	}
	if !f.HasPlan {
		return nil
	}
	if nodeID == "" { // GitHub always sends one: without it nothing says who wrote the plan
		return fmt.Errorf("broom's plan in #%d came without a node id: its edit history cannot be read", c.Number)
	}
	edits, err := gh.EditFacts(ctx, nodeID)
	if err != nil {
		return err
	}
	f.PlanWritten, f.PlanEdited, f.PlanEditor = edits.LastWrite(), !edits.Edited.IsZero(), edits.Editor
	return nil
}
