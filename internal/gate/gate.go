// Package gate decides, from the event and facts read from GitHub, whether a
// run plans, applies, is ignored or is refused (SPEC §4 and §7). It does no
// I/O: the action driver gathers the facts, the gate judges them.
package gate

import (
	"fmt"
	"strings"
	"time"
)

// Do is what a run does.
type Do int

// What a run can do.
const (
	Plan    Do = iota // compute and report the plan, change nothing
	Apply             // apply the plan directly (schedule or dispatch with mode apply)
	Approve           // an approve label was added: check the approval, then apply
	Ignore            // nothing to do for this event
	Misuse            // the inputs ask for something not allowed (exit 2)
)

func (d Do) String() string {
	return [...]string{"plan", "apply", "approve", "ignore", "misuse"}[d]
}

// Event is what the gate needs of the triggering event.
type Event struct {
	Name   string // GITHUB_EVENT_NAME
	Action string // the payload's action, e.g. "labeled"
	Label  string // the label added or removed, for labeled events
	// Tracking is true for an issues event on a broom tracking issue.
	Tracking bool
}

// Route is the first decision, made from the event and the mode alone.
type Route struct {
	Do     Do
	Reason string
	// ClearApproval asks the driver to remove a stale approve label: new
	// commits were pushed after it was added (SPEC §4, synchronize).
	ClearApproval bool
}

// Decide routes an event. mode is auto, plan, apply or gate.
func Decide(ev Event, mode, approveLabel string) Route {
	labeled := ev.Action == "labeled"
	approving := labeled && strings.EqualFold(ev.Label, approveLabel) // label names ignore case
	if mode == "gate" {                                               // the gate job of a sharded approval: nothing else to do
		if ev.Name == "pull_request" && approving {
			return Route{Do: Approve}
		}
		return Route{Do: Misuse, Reason: fmt.Sprintf("mode gate runs only when the %s label is added to a pull request (sharded approval is PR-only), not on %s", approveLabel, describe(ev))}
	}
	switch ev.Name {
	case "pull_request":
		if mode == "apply" {
			return Route{Do: Misuse, Reason: "mode apply is not allowed on pull_request events: a plan is approved with the " + approveLabel + " label"}
		}
		if ev.Action == "opened" || ev.Action == "reopened" {
			return Route{Do: Plan}
		}
		if ev.Action == "synchronize" {
			return Route{Do: Plan, ClearApproval: true}
		}
		if approving && mode == "plan" {
			return Route{Do: Plan, Reason: "mode is plan: the approval is not acted on"}
		}
		if approving {
			return Route{Do: Approve}
		}
		return Route{Do: Ignore, Reason: fmt.Sprintf("pull_request %s%s is not an event broom acts on", ev.Action, labelSuffix(ev))}
	case "issues":
		if mode == "apply" {
			return Route{Do: Misuse, Reason: "mode apply is not allowed on issues events: a plan is approved with the " + approveLabel + " label"}
		}
		if approving && ev.Tracking && mode != "plan" {
			return Route{Do: Approve}
		}
		return Route{Do: Ignore, Reason: fmt.Sprintf("issues %s%s is not an event broom acts on", ev.Action, labelSuffix(ev))}
	case "schedule", "push", "workflow_dispatch":
		if mode == "apply" {
			return Route{Do: Apply}
		}
		return Route{Do: Plan}
	case "":
		return Route{Do: Misuse, Reason: "GITHUB_EVENT_NAME is not set: is this running in GitHub Actions? (use broom plan or broom apply outside it)"}
	}
	return Route{Do: Ignore, Reason: fmt.Sprintf("event %s is not one broom acts on", ev.Name)}
}

// describe names an event for a message: "issues labeled (label "x")".
func describe(ev Event) string {
	return strings.TrimSpace(ev.Name+" "+ev.Action) + labelSuffix(ev)
}

func labelSuffix(ev Event) string {
	if ev.Label == "" {
		return ""
	}
	return fmt.Sprintf(" (label %q)", ev.Label)
}

// Facts are what the driver learned about an approval from the event and
// from the API at the time of the run.
type Facts struct {
	Labeler     string
	LabelerBot  bool   // the labeler's account type is Bot
	LabelerRole string // role_name from the API: admin, maintain, write, triage, read or "" (no access)
	Required    string // approver-permission: write, maintain or admin
	Author      string // the pull request's (or issue's) author
	AllowSelf   bool
	Fork        bool   // the PR's head repository is not the base repository
	EventHead   string // head commit in the labeled event's payload
	CurrentHead string // head commit now, from the API
	PlanHead    string // head commit in the shown plan's marker
	HasPlan     bool   // broom's own comment (or tracking issue) with a plan was found
	LabelOn     bool   // the approve label is still on the PR now

	// Who added the approve label last, and when, from the events:
	// a re-run carries its old payload, the events say whose approval is on
	// now. LabelAddedBy is "" when no labeled event was found.
	LabelAddedBy string
	LabelAddedAt time.Time

	// The shown plan's history, from GraphQL: broom's identity (Viewer),
	// when the plan's text was last written (PlanWritten: its last edit, or
	// its creation), and whether it was edited and by whom.
	Viewer      string
	PlanWritten time.Time
	PlanEdited  bool
	PlanEditor  string // "" when GitHub no longer knows the editor
}

// EditedByOther reports whether the shown plan was last edited by someone
// other than broom: what an approver saw may not be the plan broom wrote.
func (f Facts) EditedByOther() bool {
	return f.HasPlan && f.PlanEdited && !SameLogin(f.PlanEditor, f.Viewer)
}

// SameLogin reports whether two logins, both in REST's form (a GitHub App
// as github-actions[bot]), name the same account; case does not matter. An
// empty login matches nothing. pr.EditFacts turns GraphQL's bare slug for a
// Bot into REST's form, so that a user who happens to be called
// github-actions is never taken for the App.
func SameLogin(a, b string) bool {
	return a != "" && strings.EqualFold(a, b)
}

var rank = map[string]int{"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

// Check judges an approval. It returns "" when the approval is valid, or why
// it is not, for the comment and the log (exit 5).
func Check(f Facts) string {
	var why []string
	if f.Fork {
		why = append(why, "the pull request comes from a fork; broom never applies plans from forks")
	}
	// if/else chains, not switch: a case expression is outside every
	// coverage block, so mutation testing (make mutation) would skip it.
	if f.LabelerBot {
		why = append(why, fmt.Sprintf("%s is a bot; only people may approve", f.Labeler))
	} else if rank[f.LabelerRole] < rank[f.Required] {
		role := f.LabelerRole
		if role == "" {
			role = "no"
		}
		why = append(why, fmt.Sprintf("%s has %s permission; approving needs %s or higher", f.Labeler, role, f.Required))
	}
	if f.Labeler == f.Author && !f.AllowSelf {
		why = append(why, fmt.Sprintf("%s opened this pull request and cannot approve their own plan (allow-self-approval is false)", f.Labeler))
	}
	if !f.HasPlan {
		why = append(why, "no plan from broom was found to approve")
	}
	if f.EventHead != "" && f.CurrentHead != "" && f.EventHead != f.CurrentHead {
		why = append(why, fmt.Sprintf("the label was added at commit %s but the head is now %s", short(f.EventHead), short(f.CurrentHead)))
	} else if f.HasPlan && f.PlanHead != "" && f.CurrentHead != "" && f.PlanHead != f.CurrentHead {
		why = append(why, fmt.Sprintf("the plan shown was made at commit %s but the head is now %s; wait for the new plan", short(f.PlanHead), short(f.CurrentHead)))
	}
	if !f.LabelOn {
		why = append(why, "the approve label is no longer on the pull request")
	}
	if f.LabelAddedBy == "" {
		why = append(why, "no event adding the approve label was found in the issue's events")
	} else if !SameLogin(f.LabelAddedBy, f.Labeler) {
		why = append(why, fmt.Sprintf("the label was last added by %s, not %s", f.LabelAddedBy, f.Labeler))
	} else if f.HasPlan && f.LabelAddedAt.Before(f.PlanWritten) {
		why = append(why, fmt.Sprintf("the label was added at %s, before this plan was written at %s",
			clock(f.LabelAddedAt, f.PlanWritten), clock(f.PlanWritten, f.LabelAddedAt)))
	}
	if f.EditedByOther() {
		editor := f.PlanEditor
		if editor == "" {
			editor = "an account GitHub no longer knows"
		}
		why = append(why, fmt.Sprintf("the plan shown was edited by %s, not written by broom", editor))
	}
	return strings.Join(why, "; ")
}

// clock formats t for a refusal: the time of day in UTC, with the date when
// other (the time it is compared with) falls on another day.
func clock(t, other time.Time) string {
	t, other = t.UTC(), other.UTC()
	if t.Format(time.DateOnly) == other.Format(time.DateOnly) {
		return t.Format(time.TimeOnly) + " UTC"
	}
	return t.Format(time.DateTime) + " UTC"
}

func short(sha string) string { return sha[:min(len(sha), 7)] }
