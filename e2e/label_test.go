package e2e

import (
	"testing"

	"github.com/broom-dev/broom/internal/pr"
)

// The approve label must exist before anyone can add it in GitHub's UI: the
// first pull request plan with something to do creates it, once; the next
// plan finds it.
func TestFirstPlanCreatesTheApproveLabel(t *testing.T) {
	w := newWorld(t)
	w.seed()
	if _, ok := w.gh.RepoLabel(label); ok {
		t.Fatalf("the fake repository starts with the %s label", label)
	}
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, map[string]string{"result": "planned"})
	l, ok := w.gh.RepoLabel(label)
	if !ok || l.Description != pr.ApproveLabelDescription || l.Color != pr.ApproveLabelColor {
		t.Fatalf("repository label %+v, %v; want %s with broom's color and description", l, ok, label)
	}
	w.run("pull_request", w.prPayload("synchronize"), nil).want(t, 0, map[string]string{"result": "planned"})
	if n := w.gh.Count("POST", "/repos/acme/infra/labels"); n != 1 {
		t.Errorf("%d label creations over two plans, want 1", n)
	}
	w.noMutatingCalls()
}
