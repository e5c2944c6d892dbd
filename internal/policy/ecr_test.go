package policy

import (
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
)

// TestRepositoryAndKeepLast pins the ecr-image filters policy decides:
// the repository glob (with '*' not crossing '/'), and keep-last, a veto
// checked after protect so that a protected image says so.
func TestRepositoryAndKeepLast(t *testing.T) {
	t.Parallel()
	now := time.Now()
	img := func(repo string, newer int, tags map[string]string) plan.Resource {
		return plan.Resource{ID: repo + "@sha256:1", Repository: repo, Newer: newer, Created: now.Add(-48 * time.Hour), Tags: tags}
	}
	del := func(w config.Where) config.Rule {
		return config.Rule{Name: "r", Resource: "ecr-image", Action: "delete", Where: w}
	}
	tests := map[string]struct {
		rule    config.Rule
		protect config.Protect
		r       plan.Resource
		want    Verdict
	}{
		"glob matches":                      {rule: del(config.Where{Repository: "ci-*"}), r: img("ci-app", 5, nil), want: Verdict{Outcome: Act, Reason: "repository ci-*"}},
		"glob does not match":               {rule: del(config.Where{Repository: "ci-*"}), r: img("prod-app", 5, nil), want: Verdict{Outcome: Leave}},
		"star does not cross slash":         {rule: del(config.Where{Repository: "ci-*"}), r: img("ci-team/app", 5, nil), want: Verdict{Outcome: Leave}},
		"beyond keep-last":                  {rule: del(config.Where{KeepLast: 3}), r: img("ci-app", 3, nil), want: Verdict{Outcome: Act, Reason: "matches rule r"}},
		"within keep-last":                  {rule: del(config.Where{KeepLast: 3}), r: img("ci-app", 2, nil), want: Verdict{Outcome: Protect, Reason: "one of the 3 newest in ci-app"}},
		"no keep-last, the newest":          {rule: del(config.Where{OlderThan: time.Hour}), r: img("ci-app", 0, nil), want: Verdict{Outcome: Act, Reason: "2 days old > 1h"}},
		"keep-last does not match a filter": {rule: del(config.Where{KeepLast: 3, Repository: "x"}), r: img("ci-app", 0, nil), want: Verdict{Outcome: Leave}},
		"protect first": {rule: del(config.Where{KeepLast: 3}), protect: config.Protect{Tags: map[string]string{"keep": "*"}},
			r: img("ci-app", 0, map[string]string{"keep": "1"}), want: Verdict{Outcome: Protect, Reason: "protected: tag keep=1"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(tt.rule, tt.protect, now, tt.r)
			if got.Outcome != tt.want.Outcome || got.Reason != tt.want.Reason {
				t.Errorf("Evaluate = %v %q, want %v %q", got.Outcome, got.Reason, tt.want.Outcome, tt.want.Reason)
			}
		})
	}
}
