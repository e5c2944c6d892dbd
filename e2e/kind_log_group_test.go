package e2e

import (
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old empty log group is deleted, and so is an old Lambda group that a
// rule names explicitly; an /aws/lambda group no rule names, a protected
// one, a full one and a young one stay.
func TestKindLifecycleLogGroup(t *testing.T) {
	w := newWorld(t)
	w.moto.SetClock("-400d")
	for _, g := range []string{"/ci/old-empty", "/ci/old-full", "/ci/kept", "/aws/lambda/unnamed", "/aws/lambda/old-fn"} {
		awstest.CreateLogGroup(t, w.aws, g, nil)
	}
	w.moto.SetClock("+0")
	awstest.TagLogGroup(t, w.aws, "/ci/kept", map[string]string{"broom:keep": "yes"})
	awstest.PutLogEvent(t, w.aws, "/ci/old-full", "still written to")
	awstest.CreateLogGroup(t, w.aws, "/ci/young", nil)

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: empty-log-groups
    resource: log-group
    action: delete
    where: {empty: true, older-than: 30d}
  - name: old-lambda-logs
    resource: log-group
    action: delete
    where: {name: "/aws/lambda/old-*", older-than: 30d}
`, 2)
	if !strings.Contains(plan.summary, "AWS-owned prefix /aws/") {
		t.Errorf("the plan does not say why /aws/lambda/unnamed is left alone:\n%s", plan.summary)
	}

	left := awstest.LogGroups(t, w.aws)
	for _, g := range []string{"/ci/old-full", "/ci/kept", "/aws/lambda/unnamed", "/ci/young"} {
		if !left[g] {
			t.Errorf("log group %s was deleted, want it kept", g)
		}
	}
	for _, g := range []string{"/ci/old-empty", "/aws/lambda/old-fn"} {
		if left[g] {
			t.Errorf("log group %s is still there, want it deleted", g)
		}
	}
}
