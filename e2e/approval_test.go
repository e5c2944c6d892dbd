package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

// The attacks of issue 11 on "nothing changes unless a person with the
// right to approve approved the exact plan they saw", each through the
// built binary against moto and the GitHub fake, and the checks that stop
// them.

// refused checks a refusal that changed nothing in AWS, removed the label
// and says why in the sticky comment.
func (w *world) refused(t *testing.T, r result, why string, keep []string) {
	t.Helper()
	r.want(t, 5, map[string]string{"result": "refused", "mode": "plan"})
	w.noMutatingCalls()
	for _, id := range keep {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted despite the refusal", id)
		}
	}
	if contains(w.gh.Labels(prNumber), label) {
		t.Error("the approve label is still on the pull request")
	}
	if body := w.stickyComments()[0].Body; !strings.Contains(body, why) {
		t.Errorf("the comment does not say %q:\n%s", why, body)
	}
}

// A re-run of alice's old labeled job, after drift removed her label and
// the PR's author put it back, replays alice's payload: it must not apply
// the new plan, which alice never saw.
func TestReplayOfAnApprovalAfterDriftIsRefused(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	appeared := w.snapshot("-100d", map[string]string{"Environment": "ci"})
	alice := w.labeled("alice", label)
	w.run("pull_request", alice, nil).want(t, 4, map[string]string{"result": "drift", "planned": "3"})
	if contains(w.gh.Labels(prNumber), label) {
		t.Fatal("drift left the approve label on")
	}

	w.gh.Advance(time.Minute)
	w.gh.AddLabel(prNumber, author, label) // dana, who has write, puts the label back…
	w.rec.Reset()
	r := w.run("pull_request", alice, nil) // …and presses "Re-run" on alice's job
	w.refused(t, r, "the label was last added by dana, not alice", append(old, appeared))

	// Alice, having seen the new plan, approves it herself: that applies.
	w.gh.Advance(time.Minute)
	r = w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 0, map[string]string{"result": "applied", "applied": "3"})
	if w.exists(appeared) {
		t.Errorf("snapshot %s not deleted after alice's own approval", appeared)
	}
}

// An approval that waited in the queue while the PR was re-planned (a
// reopen) was given for the older plan: it must not apply the new one.
func TestQueuedApprovalOlderThanThePlanIsRefused(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	queued := w.labeled("alice", label) // alice labels; her run waits in the queue

	w.gh.Advance(30 * time.Second)
	appeared := w.snapshot("-100d", map[string]string{"Environment": "ci"})
	w.run("pull_request", w.prPayload("reopened"), nil).want(t, 0, map[string]string{"planned": "3"})

	w.rec.Reset()
	r := w.run("pull_request", queued, nil)
	w.refused(t, r, "before this plan was written at", append(old, appeared))
}

// A writer edits broom's comment to hide a row and fixes the summary line;
// an approver approves what they see. broom refuses, and writes the true
// plan again.
func TestEditedCommentIsRefusedAndWrittenAgain(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	sticky := w.stickyComments()[0]
	var kept []string
	for _, line := range strings.Split(sticky.Body, "\n") {
		if !strings.Contains(line, old[0]) { // hide the first deletion
			kept = append(kept, strings.Replace(line, "Plan: 2 to delete", "Plan: 1 to delete", 1))
		}
	}
	w.gh.Advance(time.Minute)
	w.gh.EditCommentAs(sticky.ID, author, strings.Join(kept, "\n"))

	w.gh.Advance(time.Minute)
	w.rec.Reset()
	r := w.run("pull_request", w.labeled("alice", label), nil)
	w.refused(t, r, "the plan shown was edited by dana, not written by broom", old)
	after := w.stickyComments()
	if len(after) != 1 || after[0].ID != sticky.ID {
		t.Fatalf("sticky comments after the refusal: %+v, want the one comment, written again", after)
	}
	for _, id := range old {
		if !strings.Contains(after[0].Body, id) {
			t.Errorf("the comment written again does not show %s:\n%s", id, after[0].Body)
		}
	}
	if !strings.Contains(after[0].Body, "Plan: 2 to delete") {
		t.Errorf("the comment written again does not have the true summary:\n%s", after[0].Body)
	}
	if m, _ := pr.ParseMarker(after[0].Body); m.Fingerprint != r.outputs["fingerprint"] {
		t.Errorf("marker %s, want the fresh plan's %s", m.Fingerprint, r.outputs["fingerprint"])
	}

	// The plan is broom's again: a new approval applies it.
	w.gh.Advance(time.Minute)
	w.run("pull_request", w.labeled("alice", label), nil).want(t, 0, map[string]string{"result": "applied", "applied": "2"})
}

// The same edit on a tracking issue's body.
func TestEditedTrackingIssueIsRefusedAndWrittenAgain(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"tracking-issue": "true"}).want(t, 0, nil)
	is := w.trackingIssues()[0]
	w.gh.Advance(time.Minute)
	w.gh.EditIssueAs(is.Number, author, strings.ReplaceAll(is.Body, old[0], "snap-00000000000000000"))

	w.gh.Advance(time.Minute)
	w.rec.Reset()
	edited, _ := w.gh.Issue(is.Number)
	r := w.run("issues", w.issueLabeled(is.Number, edited.Body, "alice", label), nil)
	r.want(t, 5, map[string]string{"result": "refused"})
	w.noMutatingCalls()
	after, _ := w.gh.Issue(is.Number)
	if !strings.Contains(after.Body, "edited by dana") || !strings.Contains(after.Body, old[0]) {
		t.Errorf("the issue does not say why and show the true plan again:\n%s", after.Body)
	}
	if contains(after.Labels, label) {
		t.Error("the approve label is still on the issue")
	}
	for _, id := range old {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted", id)
		}
	}
}

// On a tracking issue the workflow comes from the default branch, but the
// re-run button works the same: a replay of alice's approval after dana
// put the label on is dana's, not alice's.
func TestReplayOnTrackingIssueIsRefused(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"tracking-issue": "true"}).want(t, 0, nil)
	is := w.trackingIssues()[0]
	alice := w.issueLabeled(is.Number, is.Body, "alice", label)
	w.gh.Advance(time.Minute)
	w.gh.RemoveLabelAs(is.Number, "alice", label) // alice changes her mind
	w.gh.AddLabel(is.Number, "tom", label)        // tom (triage) labels
	w.rec.Reset()
	r := w.run("issues", alice, nil) // and re-runs alice's job
	r.want(t, 5, map[string]string{"result": "refused"})
	w.noMutatingCalls()
	if after, _ := w.gh.Issue(is.Number); !strings.Contains(after.Body, "the label was last added by tom, not alice") {
		t.Errorf("the issue does not say whose label it is:\n%s", after.Body)
	}
	for _, id := range old {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted", id)
		}
	}
}

// The checks the driver feeds the gate, each reached only through a real
// run: a bot labeler, a label gone by the time the run starts, a plan made
// at an older head than the one labeled, and tracking issues that are not
// broom's (forged, or closed).
func TestApprovalFactsThroughTheBinary(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.gh.SetPermission("renovate[bot]", "write")
	w.gh.SetPermission("deploy-bot", "write")
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)

	t.Run("a labeler of type Bot", func(t *testing.T) {
		p := w.labeled("deploy-bot", label)
		prtest.Set(p, "sender.type", "Bot")
		w.rec.Reset()
		w.refused(t, w.run("pull_request", p, nil), "deploy-bot is a bot", old)
	})
	t.Run("a labeler whose login ends in [bot]", func(t *testing.T) {
		w.rec.Reset()
		w.refused(t, w.run("pull_request", w.labeled("renovate[bot]", label), nil), `renovate\[bot\] is a bot`, old) // escaped in markdown
	})
	t.Run("the label removed before the run started", func(t *testing.T) {
		p := w.labeled("alice", label)
		w.gh.RemoveLabelAs(prNumber, "alice", label)
		w.rec.Reset()
		w.refused(t, w.run("pull_request", p, nil), "no longer on the pull request", old)
	})
	t.Run("a plan made at an older head than the one labeled", func(t *testing.T) {
		// A push, then the label before broom's synchronize run wrote the
		// plan for the new head: the label is for a plan not yet shown.
		w.gh.AddPR(prtestPRWithHead(w, newHeadSHA))
		p := w.labeled("alice", label)
		prtest.Set(p, "pull_request.head.sha", newHeadSHA)
		w.rec.Reset()
		w.refused(t, w.run("pull_request", p, nil), "plan shown was made at commit 1111111", old)
		w.gh.AddPR(prtestPRWithHead(w, headSHA))
	})
}

func TestTrackingIssueNotBroomsHoldsNoPlan(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"tracking-issue": "true"}).want(t, 0, nil)
	real := w.trackingIssues()[0]

	t.Run("an issue dana opened with broom's marker", func(t *testing.T) {
		forged := w.gh.AddIssue(prtest.Issue{Author: author, Title: "broom plan: nightly", Body: real.Body,
			Labels: []string{pr.TrackingLabel}})
		w.gh.Advance(time.Minute)
		w.rec.Reset()
		r := w.run("issues", w.issueLabeled(forged, real.Body, "alice", label), nil)
		r.want(t, 5, map[string]string{"result": "refused"})
		w.noMutatingCalls()
		if !strings.Contains(r.summary, "no plan from broom") {
			t.Errorf("the summary does not say there is no plan:\n%s", r.summary)
		}
	})
	t.Run("broom's issue, closed", func(t *testing.T) {
		w.gh.AddIssue(prtest.Issue{Number: real.Number, Author: prtest.DefaultLogin, Title: real.Title, Body: real.Body,
			Labels: []string{pr.TrackingLabel}, State: "closed"})
		w.gh.Advance(time.Minute)
		w.rec.Reset()
		r := w.run("issues", w.issueLabeled(real.Number, real.Body, "alice", label), nil)
		r.want(t, 5, map[string]string{"result": "refused"})
		w.noMutatingCalls()
		if !strings.Contains(r.summary, "no plan from broom") {
			t.Errorf("the summary does not say there is no plan:\n%s", r.summary)
		}
	})
	for _, id := range old {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted", id)
		}
	}
}

// comment: false on a synchronize with the approve label on: a plan and
// its outputs, no GitHub call, and a log line about the stale label.
func TestSynchronizeWithCommentsOffAndTheLabelOn(t *testing.T) {
	w := newWorld(t)
	w.seed()
	p := w.prPayload("synchronize")
	prtest.Set(p, "pull_request.labels", []any{map[string]any{"name": label}})
	w.gh.SetLabels(prNumber, label)
	r := w.run("pull_request", p, map[string]string{"comment": "false"})
	r.want(t, 0, map[string]string{"result": "planned", "planned": "2"})
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests with comment: false, want 0", n)
	}
	if !strings.Contains(r.stderr, "stale approve label could not be removed") {
		t.Errorf("the log does not say the stale label stayed:\n%s", r.stderr)
	}
}
