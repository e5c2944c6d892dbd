package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

const label = "broom:approved"

// seed makes two old CI snapshots (to delete), a young one, a protected
// one, a prod one, and an old CI snapshot that backs an AMI (in use).
func (w *world) seed() (old []string, kept []string) {
	ci := map[string]string{"Environment": "ci"}
	old = []string{w.snapshot("-400d", ci), w.snapshot("-40d", ci)}
	kept = []string{
		w.snapshot("-5d", ci),
		w.snapshot("-400d", map[string]string{"Environment": "ci", "broom:keep": "true"}),
		w.snapshot("-400d", map[string]string{"Environment": "prod"}),
	}
	w.moto.SetClock("-400d")
	_, inUse := registerImage(w)
	w.moto.SetClock("+0")
	return old, append(kept, inUse)
}

func TestPullRequestOpenedPlansAndComments(t *testing.T) {
	w := newWorld(t)
	old, kept := w.seed()

	r := w.run("pull_request", w.prPayload("opened"), nil)
	r.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "2", "applied": "0", "failed": "0"})
	w.noMutatingCalls()
	for _, id := range append(old, kept...) {
		if !w.exists(id) {
			t.Errorf("snapshot %s was deleted by a plan run", id)
		}
	}
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	m, ok := pr.ParseMarker(comments[0].Body)
	if !ok || m.ID != "nightly" || m.Fingerprint != r.outputs["fingerprint"] || m.Head != headSHA {
		t.Errorf("marker %+v, want id nightly, fingerprint %s, head %s", m, r.outputs["fingerprint"], headSHA)
	}
	for _, id := range old {
		if !strings.Contains(comments[0].Body, id) {
			t.Errorf("comment does not list %s:\n%s", id, comments[0].Body)
		}
	}
	// The heading names the account the plan acts in (moto's), so an
	// approver sees where a change would land.
	if !strings.Contains(comments[0].Body, "### broom plan · `nightly` · account 123456789012") ||
		!strings.Contains(r.summary, "account 123456789012") || !strings.Contains(r.stdout, "account 123456789012") {
		t.Errorf("the comment, summary or log does not name the account:\n%s", comments[0].Body)
	}
	if !strings.Contains(r.summary, old[0]) {
		t.Errorf("job summary does not list %s", old[0])
	}
	if r.outputs["comment-url"] == "" {
		t.Errorf("no comment-url output: %v", r.outputs)
	}
	// Relative to the workspace (SPEC §4), named after the config's id.
	r.want(t, 0, map[string]string{"plan-file": ".broom/broom-plan-nightly.json", "report-file": ".broom/broom-report-nightly.md"})
}

func TestSynchronizeUpdatesTheSameCommentPastManyOthers(t *testing.T) {
	w := newWorld(t)
	w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	for i := 0; i < 45; i++ { // more than one page of 30
		w.gh.AddComment(prNumber, fmt.Sprintf("reviewer%d", i%3), fmt.Sprintf("comment %d", i))
	}
	newer := w.snapshot("-90d", map[string]string{"Environment": "ci"})

	r := w.run("pull_request", w.prPayload("synchronize"), nil)
	r.want(t, 0, map[string]string{"result": "planned", "planned": "3"})
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments after synchronize, want 1", len(comments))
	}
	if !strings.Contains(comments[0].Body, newer) {
		t.Errorf("updated comment does not list the new snapshot %s", newer)
	}
	if !strings.Contains(comments[0].Body, "Changed since the last plan: +1 new, −0 gone") {
		t.Errorf("updated comment does not say what changed since the last plan:\n%s", comments[0].Body)
	}
	if n := w.gh.Count("POST", "/repos/acme/infra/issues/7/comments"); n != 1 {
		t.Errorf("%d comments created, want 1 (then updated in place)", n)
	}
}

func TestSynchronizeRemovesStaleApproval(t *testing.T) {
	w := newWorld(t)
	w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	w.gh.SetLabels(prNumber, label, "bug")
	p := w.prPayload("synchronize")
	p["pull_request"].(map[string]any)["labels"] = []any{map[string]any{"name": label}, map[string]any{"name": "bug"}}
	w.run("pull_request", p, nil).want(t, 0, map[string]string{"result": "planned"})
	if got := w.gh.Labels(prNumber); strings.Join(got, ",") != "bug" {
		t.Errorf("labels %v, want only bug (approval removed)", got)
	}
	if body := w.stickyComments()[0].Body; !strings.Contains(body, "label was removed") {
		t.Errorf("comment does not say the approval was removed:\n%s", body)
	}
}

func TestApprovalByWriterApplies(t *testing.T) {
	w := newWorld(t)
	old, kept := w.seed()
	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, nil)
	w.rec.Reset()

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "planned": "2", "applied": "2", "failed": "0", "skipped": "0",
		"fingerprint": plan.outputs["fingerprint"]})
	for _, id := range old {
		if w.exists(id) {
			t.Errorf("old snapshot %s still exists", id)
		}
	}
	for _, id := range kept {
		if !w.exists(id) {
			t.Errorf("snapshot %s (young, protected, other env or in use) was deleted", id)
		}
	}
	if n := w.rec.Count("DeleteSnapshot"); n != 2 {
		t.Errorf("%d DeleteSnapshot calls, want exactly 2", n)
	}
	if got := w.gh.Labels(prNumber); len(got) != 0 {
		t.Errorf("labels after apply %v, want the approval removed", got)
	}
	comments := w.stickyComments()
	if len(comments) != 1 {
		t.Fatalf("%d sticky comments, want 1", len(comments))
	}
	body := comments[0].Body
	for _, want := range []string{"Result", "done", "Approved by alice", "/acme/infra/actions/runs/4242"} {
		if !strings.Contains(body, want) {
			t.Errorf("after-apply comment lacks %q:\n%s", want, body)
		}
	}
	// The marker now holds what remains: nothing.
	if m, _ := pr.ParseMarker(body); m.Fingerprint == plan.outputs["fingerprint"] {
		t.Errorf("marker still holds the applied plan's fingerprint")
	}

	// The same event again: nothing left to do, nothing deleted twice.
	w.rec.Reset()
	again := w.run("pull_request", w.labeled("alice", label), nil)
	again.want(t, 0, map[string]string{"result": "nothing-to-do", "planned": "0"})
	w.noMutatingCalls()
}

func TestApprovalRefused(t *testing.T) {
	// One world for every case: a refusal changes nothing but the label
	// and the comment's notes, which each case checks afresh.
	w := newWorld(t)
	old, _ := w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	tests := []struct {
		name    string
		labeler string
		inputs  map[string]string
		fork    bool
		want    string
	}{
		{name: "triage-only user", labeler: "tom", want: "triage permission"},
		{name: "outside user", labeler: "mallory", want: "no permission"},
		{name: "the PR's own author", labeler: author, want: "cannot approve their own"},
		{name: "write below a maintain bar", labeler: "alice", inputs: map[string]string{"approver-permission": "maintain"}, want: "needs maintain"},
		{name: "fork pull request", labeler: "alice", fork: true, want: "fork"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fork {
				w.gh.AddPR(prtestPR(w, "someone/infra-fork"))
			}
			w.rec.Reset()
			r := w.run("pull_request", w.labeled(tc.labeler, label), tc.inputs)
			r.want(t, 5, map[string]string{"result": "refused"})
			w.noMutatingCalls()
			for _, id := range old {
				if !w.exists(id) {
					t.Errorf("snapshot %s deleted despite refusal", id)
				}
			}
			if got := w.gh.Labels(prNumber); len(got) != 0 {
				t.Errorf("labels %v, want the approval removed", got)
			}
			if body := w.stickyComments()[0].Body; !strings.Contains(body, tc.want) {
				t.Errorf("comment does not say why (%q):\n%s", tc.want, body)
			}
		})
	}
}

func TestSelfApprovalAllowedWhenConfigured(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	r := w.run("pull_request", w.labeled(author, label), map[string]string{"allow-self-approval": "true"})
	r.want(t, 0, map[string]string{"result": "applied", "applied": "2"})
	if w.exists(old[0]) {
		t.Errorf("snapshot %s not deleted", old[0])
	}
}

func TestForgedMarkerIsIgnored(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	// Someone copies broom's marker with a fingerprint of their choosing
	// before broom has posted anything.
	forged := pr.Marker{ID: "nightly", Fingerprint: strings.Repeat("ab", 32), Head: headSHA}
	w.gh.AddComment(prNumber, "mallory", forged.String()+"\nlooks legit")

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 5, map[string]string{"result": "refused"})
	w.noMutatingCalls()
	if !w.exists(old[0]) {
		t.Error("a forged marker led to a deletion")
	}

	// With broom's own plan posted, a later forged copy is still ignored:
	// the real fingerprint is the one checked, and it matches.
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	w.gh.AddComment(prNumber, "mallory", forged.String())
	r = w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 0, map[string]string{"result": "applied", "applied": "2"})
}

func TestDriftBetweenPlanAndApproval(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, nil)
	appeared := w.snapshot("-100d", map[string]string{"Environment": "ci"})
	w.rec.Reset()

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 4, map[string]string{"result": "drift", "planned": "3"})
	w.noMutatingCalls()
	for _, id := range append(old, appeared) {
		if !w.exists(id) {
			t.Errorf("snapshot %s deleted despite drift", id)
		}
	}
	if got := w.gh.Labels(prNumber); len(got) != 0 {
		t.Errorf("labels %v, want the approval removed", got)
	}
	body := w.stickyComments()[0].Body
	if m, _ := pr.ParseMarker(body); m.Fingerprint != r.outputs["fingerprint"] || m.Fingerprint == plan.outputs["fingerprint"] {
		t.Errorf("comment marker %s should now show the new plan %s", m.Fingerprint, r.outputs["fingerprint"])
	}
	if !strings.Contains(body, "Drift") || !strings.Contains(body, appeared) {
		t.Errorf("comment does not show the drift and the new plan:\n%s", body)
	}
}

// Everything the approved plan would do became protected before the
// approval: the fresh plan is empty, which is drift all the same (SPEC §7:
// the plan approved is the plan applied). Nothing is applied, the approver
// is told, and the comment shows the empty plan.
func TestApprovedPlanNowEmptyIsDrift(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, map[string]string{"planned": "2"})
	for _, id := range old {
		awstest.Tag(t, w.aws, id, map[string]string{"broom:keep": "yes"})
	}
	w.rec.Reset()

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 4, map[string]string{"result": "drift", "planned": "0", "applied": "0"})
	w.noMutatingCalls()
	if got := w.gh.Labels(prNumber); len(got) != 0 {
		t.Errorf("labels %v, want the approval removed", got)
	}
	body := w.stickyComments()[0].Body
	if m, _ := pr.ParseMarker(body); m.Fingerprint != r.outputs["fingerprint"] || m.Fingerprint == plan.outputs["fingerprint"] {
		t.Errorf("comment marker %s should now show the new, empty plan %s", m.Fingerprint, r.outputs["fingerprint"])
	}
	if !strings.Contains(body, "Drift") || !strings.Contains(body, "the plan is now empty") {
		t.Errorf("comment does not say the approved plan drifted to nothing:\n%s", body)
	}
}

func TestNewCommitAfterLabelIsRefused(t *testing.T) {
	w := newWorld(t)
	w.seed()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, nil)
	p := w.labeled("alice", label)
	w.gh.AddPR(prtestPRWithHead(w, newHeadSHA)) // pushed after the label
	w.rec.Reset()
	w.run("pull_request", p, nil).want(t, 5, map[string]string{"result": "refused"})
	w.noMutatingCalls()
}

func TestBadConfigIsMisuseBeforeAnyCall(t *testing.T) {
	w := newWorldWithoutAWS(t)
	w.writeConfig("version: 1\nrules:\n  - name: x\n    resource: ebs-snapshot\n    action: delete\n    where: {older-than: 30 days}\n")
	r := w.run("pull_request", w.prPayload("opened"), nil)
	r.want(t, 2, map[string]string{"result": "error"})
	if calls := w.rec.Calls(); len(calls) != 0 {
		t.Errorf("AWS calls made with a bad config: %v", calls)
	}
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests made with a bad config", n)
	}
	if !strings.Contains(r.stdout, "::error file=.github/broom.yml,line=6::") {
		t.Errorf("no ::error annotation at file and line in stdout:\n%s", r.stdout)
	}
}

func TestBadPayloadIsMisuse(t *testing.T) {
	w := newWorldWithoutAWS(t)
	p := w.prPayload("opened")
	delete(p, "pull_request")
	w.run("pull_request", p, nil).want(t, 2, map[string]string{"result": "error"})
	if calls := w.rec.Calls(); len(calls) != 0 {
		t.Errorf("AWS calls made with a bad payload: %v", calls)
	}
}

func TestOtherLabelIsIgnored(t *testing.T) {
	w := newWorldWithoutAWS(t)
	w.run("pull_request", w.labeled("alice", "bug"), nil).want(t, 0, map[string]string{"result": "ignored"})
	if calls := w.rec.Calls(); len(calls) != 0 {
		t.Errorf("AWS calls made for an ignored event: %v", calls)
	}
}

func TestScheduleAndDispatch(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	sched := w.run("schedule", prtest.Payload(t, "schedule", ""), nil)
	sched.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "2", "comment-url": ""})
	w.noMutatingCalls()
	if !strings.Contains(sched.summary, old[0]) {
		t.Errorf("scheduled run's summary lacks %s", old[0])
	}

	d := w.run("workflow_dispatch", prtest.Payload(t, "workflow_dispatch", ""), map[string]string{"mode": "apply", "expect-fingerprint": strings.Repeat("0", 64)})
	d.want(t, 4, map[string]string{"result": "drift"})
	w.noMutatingCalls()

	d = w.run("workflow_dispatch", prtest.Payload(t, "workflow_dispatch", ""), map[string]string{"mode": "apply", "expect-fingerprint": sched.outputs["fingerprint"]})
	d.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "applied": "2"})
	if plan, results := strings.Index(d.summary, "before applying"), strings.Index(d.summary, "Applied: 2 done"); plan < 0 || results < plan {
		t.Errorf("dispatch apply's summary should show the plan, then the results:\n%s", d.summary)
	}
	if w.exists(old[0]) || w.exists(old[1]) {
		t.Error("dispatch apply did not delete the old snapshots")
	}
}

func TestOverLimitIsRefused(t *testing.T) {
	w := newWorld(t)
	old, _ := w.seed()
	w.run("workflow_dispatch", prtest.Payload(t, "workflow_dispatch", ""), map[string]string{"mode": "apply", "max-actions": "1"}).
		want(t, 6, map[string]string{"result": "over-limit"})
	w.noMutatingCalls()
	if !w.exists(old[0]) {
		t.Error("over-limit plan was applied")
	}
}
