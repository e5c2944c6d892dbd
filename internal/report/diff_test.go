package report

import (
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/plan"
)

func TestChanges(t *testing.T) {
	t.Parallel()
	a, b, c := action("snap-a"), action("snap-b"), action("snap-c")
	shown := plan.New("p", fixed, []plan.Action{a, b})
	body := "<!-- broom:plan … -->\nsome report\n" + KeysBlock(shown)
	big := make([]plan.Action, maxKeys+1)
	for i := range big {
		big[i] = action("snap-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
	}
	tests := map[string]struct {
		body string
		now  plan.Plan
		want string
	}{
		"no earlier plan":             {"<!-- broom:plan … -->\nreport\n", plan.New("p", fixed, []plan.Action{a}), ""},
		"same plan":                   {body, plan.New("p", fixed, []plan.Action{b, a}), "Unchanged since the last plan"},
		"one new, one gone":           {body, plan.New("p", fixed, []plan.Action{a, c}), "+1 new, −1 gone (fingerprint " + shown.Fingerprint[:12] + " → "},
		"all gone":                    {body, plan.New("p", fixed, nil), "+0 new, −2 gone"},
		"from empty":                  {"x\n" + KeysBlock(plan.New("p", fixed, nil)), plan.New("p", fixed, []plan.Action{a}), "+1 new, −0 gone"},
		"too many to list: by counts": {"x\n" + KeysBlock(plan.New("p", fixed, big)), shown, "2 actions, was 2001"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prevFP := shown.Fingerprint
			if strings.Contains(tc.body, "count=2001") {
				prevFP = plan.Fingerprint(big)
			} else if strings.Contains(tc.body, "count=0") {
				prevFP = plan.Fingerprint(nil)
			}
			got := Changes(tc.body, prevFP, tc.now)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("Changes = %q, want it to contain %q", got, tc.want)
			}
		})
	}
	if n := len(KeysBlock(plan.New("p", fixed, big[:maxKeys]))); n > 19000 {
		t.Errorf("keys block for %d actions is %d characters", maxKeys, n)
	}
}
