package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/awstest"
)

// Old untagged ECR images of ci-* repositories are deleted, except the
// three newest of their repository (keep-last, the young one among them);
// a tagged one, a protected repository's images and another repository's
// stay. Each push has a clock and layer of its own:
// moto's push times are to the second and its digests hash the layers.
func TestKindLifecycleECRImage(t *testing.T) {
	w := newWorld(t)
	awstest.CreateRepository(t, w.aws, "ci-app", nil)
	awstest.CreateRepository(t, w.aws, "ci-kept", map[string]string{"broom:keep": "yes"})
	awstest.CreateRepository(t, w.aws, "prod-app", nil)
	push := func(clock, repo, tag, layer string) string {
		w.moto.SetClock(clock)
		return awstest.PushImage(t, w.aws, repo, tag, layer, 1<<20)
	}
	old1 := push("-400d", "ci-app", "", "old-1")
	old2 := push("-390d", "ci-app", "", "old-2")
	tagged := push("-380d", "ci-app", "v1", "tagged")
	newest2 := push("-370d", "ci-app", "", "newest-2")
	newest1 := push("-360d", "ci-app", "", "newest-1")
	// Four: keep-last alone would spare three of them.
	kept := []string{push("-400d", "ci-kept", "", "kept-1"), push("-390d", "ci-kept", "", "kept-2"),
		push("-380d", "ci-kept", "", "kept-3"), push("-370d", "ci-kept", "", "kept-4")}
	prod := push("-400d", "prod-app", "", "prod")
	young := push("+0", "ci-app", "", "young")

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: old-ci-images
    resource: ecr-image
    action: delete
    where: {repository: ci-*, untagged: true, older-than: 30d, keep-last: 3}
`, 2)
	if !strings.Contains(plan.summary, "one of the 3 newest in ci-app") {
		t.Errorf("the plan does not say why the newest are left alone:\n%s", plan.summary)
	}

	left := awstest.ECRImages(t, w.aws, "ci-app")
	// young, newest-1 and newest-2 are the three newest; the young one is
	// too young anyway, the other two keep-last spares.
	for _, id := range []string{young, newest1, newest2, tagged} {
		if !slices.Contains(left, id) {
			t.Errorf("image %s was deleted, want it kept", id)
		}
	}
	for _, id := range []string{old1, old2} {
		if slices.Contains(left, id) {
			t.Errorf("image %s is still there, want it deleted", id)
		}
	}
	if got := awstest.ECRImages(t, w.aws, "ci-kept"); len(got) != len(kept) {
		t.Errorf("protected repository's images %v, want all %d kept", got, len(kept))
	}
	if got := awstest.ECRImages(t, w.aws, "prod-app"); !slices.Equal(got, []string{prod}) {
		t.Errorf("prod-app's images %v, want %s kept (another repository)", got, prod)
	}
}
