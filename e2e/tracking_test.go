package e2e

import (
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

// trackingIssues returns the issues broom opened with its label.
func (w *world) trackingIssues() []prtest.Issue {
	var out []prtest.Issue
	for _, is := range w.gh.Issues() {
		if is.Author == prtest.DefaultLogin && contains(is.Labels, pr.TrackingLabel) {
			out = append(out, is)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// issueLabeled is sender adding label to issue number now, and the event's
// payload (body: the issue's body as the event saw it).
func (w *world) issueLabeled(number int, body, sender, label string) map[string]any {
	p := prtest.Payload(w.t, "issues", "labeled")
	prtest.Set(p, "issue.number", number)
	prtest.Set(p, "issue.body", body)
	prtest.Set(p, "issue.user.login", prtest.DefaultLogin)
	prtest.Set(p, "label.name", label)
	prtest.Set(p, "sender.login", sender)
	prtest.Set(p, "sender.type", "User")
	prtest.Set(p, "repository.full_name", repo)
	w.gh.AddLabel(number, sender, label) // as a person does: a labeled event by sender
	return p
}

func TestTrackingIssueLifecycle(t *testing.T) {
	w := newWorld(t)
	old, kept := w.seed()
	tracking := map[string]string{"tracking-issue": "true"}

	first := w.run("schedule", prtest.Payload(t, "schedule", ""), tracking)
	first.want(t, 0, map[string]string{"result": "planned", "planned": "2"})
	w.noMutatingCalls()
	issues := w.trackingIssues()
	if len(issues) != 1 {
		t.Fatalf("%d tracking issues, want 1", len(issues))
	}
	is := issues[0]
	if m, ok := pr.ParseMarker(is.Body); !ok || m.Fingerprint != first.outputs["fingerprint"] || m.Head != headSHA {
		t.Errorf("issue marker %+v, want fingerprint %s at %s", m, first.outputs["fingerprint"], headSHA)
	}
	if first.outputs["comment-url"] == "" {
		t.Error("comment-url output does not point at the tracking issue")
	}

	// The next night: the same issue, updated in place, not a second one.
	w.run("schedule", prtest.Payload(t, "schedule", ""), tracking).want(t, 0, map[string]string{"result": "planned"})
	if got := w.trackingIssues(); len(got) != 1 || got[0].Number != is.Number {
		t.Fatalf("tracking issues after a second run: %+v", got)
	}

	// A triage-only user's approval is refused.
	is, _ = w.gh.Issue(is.Number)
	w.gh.SetLabels(is.Number, pr.TrackingLabel) // issueLabeled adds the label, as a person would
	w.rec.Reset()
	w.run("issues", w.issueLabeled(is.Number, is.Body, "tom", label), nil).want(t, 5, map[string]string{"result": "refused"})
	w.noMutatingCalls()

	// A writer's approval applies exactly the plan in the issue, then closes it.
	w.gh.SetLabels(is.Number, pr.TrackingLabel) // issueLabeled adds the label, as a person would
	r := w.run("issues", w.issueLabeled(is.Number, is.Body, "alice", label), nil)
	r.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "applied": "2"})
	for _, id := range old {
		if w.exists(id) {
			t.Errorf("snapshot %s not deleted", id)
		}
	}
	for _, id := range kept {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted", id)
		}
	}
	after, _ := w.gh.Issue(is.Number)
	if after.State != "closed" || !strings.Contains(after.Body, "Approved by alice") {
		t.Errorf("issue after apply: state %s, body:\n%s", after.State, after.Body)
	}
	if contains(w.gh.Labels(is.Number), label) {
		t.Error("approve label still on the issue")
	}

	// Nothing left: a scheduled run opens no new issue.
	w.run("schedule", prtest.Payload(t, "schedule", ""), tracking).want(t, 0, map[string]string{"result": "nothing-to-do"})
	if got := w.trackingIssues(); len(got) != 1 {
		t.Errorf("%d tracking issues after the plan emptied, want the one closed issue", len(got))
	}
}

func TestTrackingIssueDrift(t *testing.T) {
	w := newWorld(t)
	w.seed()
	w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"tracking-issue": "true"}).want(t, 0, nil)
	is := w.trackingIssues()[0]
	appeared := w.snapshot("-100d", map[string]string{"Environment": "ci"})
	w.gh.SetLabels(is.Number, pr.TrackingLabel) // issueLabeled adds the label, as a person would
	w.rec.Reset()
	r := w.run("issues", w.issueLabeled(is.Number, is.Body, "alice", label), nil)
	r.want(t, 4, map[string]string{"result": "drift", "planned": "3"})
	w.noMutatingCalls()
	after, _ := w.gh.Issue(is.Number)
	if !strings.Contains(after.Body, appeared) || !strings.Contains(after.Body, "Drift") {
		t.Errorf("issue does not show the new plan:\n%s", after.Body)
	}
}
