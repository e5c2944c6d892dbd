package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/pr"
)

const (
	commentEdits   = "/repos/acme/infra/issues/comments/"
	secondaryLimit = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	// githubAttempts is broom's retry budget per GitHub call (internal/pr).
	githubAttempts = 5
)

// allOutputs are the outputs every run writes (SPEC §4).
var allOutputs = []string{"mode", "result", "fingerprint", "planned", "applied", "failed", "skipped",
	"plan-file", "report-file", "comment-url", "exit-code"}

// A secondary rate limit on the sticky comment's update is waited out and
// the update sent again: one comment, updated, exit 0.
func TestFaultGitHubSecondaryRateLimitOnCommentUpdate(t *testing.T) {
	w := newWorld(t)
	w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	newer := w.snapshot("-90d", map[string]string{"Environment": "ci"})
	w.gh.FailNext("PATCH", commentEdits, 1, http.StatusForbidden, http.Header{"Retry-After": {"1"}}, secondaryLimit)

	start := time.Now()
	r := w.run("pull_request", w.prPayload("synchronize"), nil)
	elapsed := time.Since(start)
	r.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "3"})
	if r.outputs["comment-url"] == "" {
		t.Error("no comment-url output")
	}
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	if !strings.Contains(comments[0].Body, newer) {
		t.Errorf("the comment was not updated: it does not list %s", newer)
	}
	if m, _ := pr.ParseMarker(comments[0].Body); m.Fingerprint != r.outputs["fingerprint"] {
		t.Errorf("marker fingerprint %s, want the new plan's %s", m.Fingerprint, r.outputs["fingerprint"])
	}
	if n := w.gh.Count("POST", "/repos/acme/infra/issues/7/comments"); n != 1 {
		t.Errorf("%d comments created, want 1", n)
	}
	if n := w.gh.Count("PATCH", commentEdits+"*"); n != 2 {
		t.Errorf("%d comment updates sent, want 2 (the rate-limited one and its retry)", n)
	}
	if elapsed < time.Second {
		t.Errorf("the run took %v, less than the Retry-After of 1s", elapsed)
	}
}

// GitHub failing for good after an apply loses nothing of the AWS side:
// the deletions happened and are in the outputs, the step summary and the
// plan file; the run says the comment failed and exits 1.
func TestFaultGitHub502AfterApply(t *testing.T) {
	w := newWorld(t)
	old, kept := w.seed()
	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, nil)
	w.rec.Reset()
	w.gh.FailNext("PATCH", commentEdits, 2*githubAttempts, http.StatusBadGateway, nil, `{"message":"Server Error"}`)

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 1, map[string]string{"mode": "apply", "result": "applied", "planned": "2", "applied": "2",
		"failed": "0", "skipped": "0", "fingerprint": plan.outputs["fingerprint"], "comment-url": ""})
	for _, k := range allOutputs {
		if _, ok := r.outputs[k]; !ok {
			t.Errorf("output %s not written", k)
		}
	}
	for _, id := range old {
		if w.exists(id) {
			t.Errorf("snapshot %s was not deleted", id)
		}
		if !strings.Contains(r.summary, id) {
			t.Errorf("the step summary does not list %s", id)
		}
	}
	for _, id := range kept {
		if !w.exists(id) {
			t.Errorf("snapshot %s was deleted", id)
		}
	}
	if n := w.rec.Count("DeleteSnapshot"); n != 2 {
		t.Errorf("%d DeleteSnapshot calls, want 2", n)
	}
	if !strings.Contains(r.summary, "could not be written") {
		t.Errorf("the step summary does not say the comment failed:\n%s", r.summary)
	}
	// PATCH is retried on 502 (GitHub's PATCH is a merge patch), up to the budget.
	if n := w.gh.Count("PATCH", commentEdits+"*"); n != githubAttempts {
		t.Errorf("%d comment updates sent, want %d", n, githubAttempts)
	}
	if n := w.gh.Count("POST", "/repos/acme/infra/issues/7/comments"); n != 1 {
		t.Errorf("%d comments created, want only the plan's", n)
	}
	if got := w.gh.Labels(prNumber); len(got) != 0 {
		t.Errorf("labels %v, want the approval removed", got)
	}

	data := r.file(t, "plan-file")
	var pf struct {
		Actions []struct{ ID, Status string }
	}
	if err := json.Unmarshal(data, &pf); err != nil {
		t.Fatalf("plan file: %v", err)
	}
	status := map[string]string{}
	for _, a := range pf.Actions {
		status[a.ID] = a.Status
	}
	for _, id := range old {
		if status[id] != "done" {
			t.Errorf("plan file: %s has status %q, want done", id, status[id])
		}
	}
}
