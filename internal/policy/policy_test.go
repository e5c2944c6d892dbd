package policy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	rule := config.Rule{Name: "old-ci", Where: config.Where{OlderThan: 30 * day, Tags: map[string]string{"Environment": "ci"}}}
	protect := config.Protect{Tags: map[string]string{"broom:keep": "*", "Tier": "gold"}, IDs: []string{"snap-listed"}}
	old := func(id string, tags map[string]string) plan.Resource {
		return plan.Resource{ID: id, Created: now.Add(-400 * day), Tags: tags}
	}
	ci := map[string]string{"Environment": "ci"}

	tests := map[string]struct {
		rule config.Rule
		r    plan.Resource
		want Verdict
	}{
		"old and tagged is acted on": {rule, old("snap-1", ci),
			Verdict{Outcome: Act, Reason: "400 days old > 30d; tags Environment=ci"}},
		"young is left": {rule, plan.Resource{ID: "snap-2", Created: now.Add(-29 * day), Tags: ci},
			Verdict{Outcome: Leave}},
		"exactly the age limit is left": {rule, plan.Resource{ID: "snap-2", Created: now.Add(-30 * day), Tags: ci},
			Verdict{Outcome: Leave}},
		"unknown creation time is left": {rule, plan.Resource{ID: "snap-3", Tags: ci},
			Verdict{Outcome: Leave}},
		"other tag value is left": {rule, old("snap-4", map[string]string{"Environment": "prod"}),
			Verdict{Outcome: Leave}},
		"missing tag is left": {rule, old("snap-5", nil),
			Verdict{Outcome: Leave}},
		"star matches any value": {config.Rule{Where: config.Where{Tags: map[string]string{"Environment": "*"}}}, old("snap-6", map[string]string{"Environment": "x"}),
			Verdict{Outcome: Act, Reason: "tags Environment=*"}},
		"star needs the key": {config.Rule{Where: config.Where{Tags: map[string]string{"Environment": "*"}}}, old("snap-7", map[string]string{"Other": "x"}),
			Verdict{Outcome: Leave}},
		"protect tag with any value wins": {rule, old("snap-8", map[string]string{"Environment": "ci", "broom:keep": "yes"}),
			Verdict{Outcome: Protect, Reason: "protected: tag broom:keep=yes"}},
		"protect tag with a value must match it": {rule, old("snap-9", map[string]string{"Environment": "ci", "Tier": "bronze"}),
			Verdict{Outcome: Act, Reason: "400 days old > 30d; tags Environment=ci"}},
		"protect id wins": {rule, old("snap-listed", ci),
			Verdict{Outcome: Protect, Reason: "protected: id listed in protect.ids"}},
		"in use is never acted on": {rule, plan.Resource{ID: "snap-10", Created: now.Add(-400 * day), Tags: ci, InUse: "backs AMI ami-1"},
			Verdict{Outcome: Protect, Reason: "in use: backs AMI ami-1"}},
		"protection is not reported for non-matching resources": {rule, plan.Resource{ID: "snap-listed", Created: now, Tags: ci},
			Verdict{Outcome: Leave}},
		"no filters acts on everything": {config.Rule{Name: "all"}, old("snap-11", nil),
			Verdict{Outcome: Act, Reason: "matches rule all"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, Evaluate(tc.rule, protect, now, tc.r)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateNewFilters(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	protect := config.Protect{Tags: map[string]string{"broom:keep": "*"}}
	unattached := config.Rule{Name: "orphans", Action: "delete", Where: config.Where{Flags: map[string]bool{"unattached": true}}}
	attachedOnly := config.Rule{Name: "attached", Action: "delete", Where: config.Where{Flags: map[string]bool{"unattached": false}}}
	tagOwner := config.Rule{Name: "owner", Action: "tag", Where: config.Where{MissingTags: []string{"Owner"}}, Set: map[string]string{"Owner": "platform"}}
	setTeam := config.Rule{Name: "team", Action: "tag", Set: map[string]string{"Team": "sre", "Cost": "42"}}

	tests := map[string]struct {
		rule config.Rule
		r    plan.Resource
		want Verdict
	}{
		"flag filter true matches the fact": {unattached, plan.Resource{ID: "vol-1", Flags: map[string]bool{"unattached": true}},
			Verdict{Outcome: Act, Reason: "unattached: true"}},
		"flag filter true leaves the others": {unattached, plan.Resource{ID: "vol-2", Flags: map[string]bool{"unattached": false}},
			Verdict{Outcome: Leave}},
		"flag filter false matches the absence": {attachedOnly, plan.Resource{ID: "vol-3", InUse: "attached to i-1"},
			Verdict{Outcome: Protect, Reason: "in use: attached to i-1"}},
		"missing tag is tagged": {tagOwner, plan.Resource{ID: "vol-4", Tags: map[string]string{"Name": "x"}},
			Verdict{Outcome: Act, Reason: "missing tags Owner", Change: map[string]string{"Owner": "platform"}}},
		"present tag is left": {tagOwner, plan.Resource{ID: "vol-5", Tags: map[string]string{"Owner": "someone"}},
			Verdict{Outcome: Leave}},
		"in use does not stop tagging": {tagOwner, plan.Resource{ID: "vol-6", InUse: "attached to i-1"},
			Verdict{Outcome: Act, Reason: "missing tags Owner", Change: map[string]string{"Owner": "platform"}}},
		"protected is not tagged either": {tagOwner, plan.Resource{ID: "vol-7", Tags: map[string]string{"broom:keep": "1"}},
			Verdict{Outcome: Protect, Reason: "protected: tag broom:keep=1"}},
		"only differing tags are written": {setTeam, plan.Resource{ID: "vol-8", Tags: map[string]string{"Team": "sre", "Cost": "41"}},
			Verdict{Outcome: Act, Reason: "set Cost=42", Change: map[string]string{"Cost": "42"}}},
		"already converged is left": {setTeam, plan.Resource{ID: "vol-9", Tags: map[string]string{"Team": "sre", "Cost": "42", "broom:change": "old"}},
			Verdict{Outcome: Leave}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, Evaluate(tc.rule, protect, now, tc.r)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
	if got := TagChange(map[string]string{ChangeTag: "x", "A": "1"}, map[string]string{"A": "1"}); got != nil {
		t.Errorf("a missing broom:change alone is a difference: %v", got)
	}
}

// TestEvaluateState checks the state filter and a veto of one action:
// the rule's state must equal the resource's, and a veto by action name
// protects from that action alone.
func TestEvaluateState(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	stopRunning := config.Rule{Name: "stop", Action: "stop", Where: config.Where{State: "running", OlderThan: 7 * day}}
	deleteStopped := config.Rule{Name: "gone", Action: "delete", Where: config.Where{State: "stopped"}}
	deleteAny := config.Rule{Name: "any", Action: "delete"}
	tagAny := config.Rule{Name: "owner", Action: "tag", Set: map[string]string{"Owner": "platform"}}
	old := now.Add(-30 * day)
	runs := map[string]string{"delete": "running: stop it first"}

	tests := map[string]struct {
		rule config.Rule
		r    plan.Resource
		want Verdict
	}{
		"state matches": {stopRunning, plan.Resource{ID: "i-1", State: "running", Created: old},
			Verdict{Outcome: Act, Reason: "30 days old > 1w; state running"}},
		"another state is left": {stopRunning, plan.Resource{ID: "i-2", State: "stopped", Created: old},
			Verdict{Outcome: Leave}},
		"no state is left": {deleteStopped, plan.Resource{ID: "i-3"},
			Verdict{Outcome: Leave}},
		"stopped matches stopped": {deleteStopped, plan.Resource{ID: "i-4", State: "stopped"},
			Verdict{Outcome: Act, Reason: "state stopped"}},
		"a veto of the rule's action protects": {deleteAny, plan.Resource{ID: "i-5", State: "running", Vetoes: runs},
			Verdict{Outcome: Protect, Reason: "running: stop it first"}},
		"a veto of another action does not": {stopRunning, plan.Resource{ID: "i-6", State: "running", Created: old, Vetoes: runs},
			Verdict{Outcome: Act, Reason: "30 days old > 1w; state running"}},
		"a veto of delete does not stop tagging": {tagAny, plan.Resource{ID: "i-7", Vetoes: runs},
			Verdict{Outcome: Act, Reason: "set Owner=platform", Change: map[string]string{"Owner": "platform"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, Evaluate(tc.rule, config.Protect{}, now, tc.r)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

// Ages read in days from two days on, in hours below.
func TestFormatAge(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		47 * time.Hour: "47 hours", 48 * time.Hour: "2 days", 49 * time.Hour: "2 days",
		90 * time.Minute: "1 hour", 30 * time.Minute: "0 hours", 412 * 24 * time.Hour: "412 days",
	} {
		if got := formatAge(d); got != want {
			t.Errorf("formatAge(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestEvaluateName(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rule := func(glob string) config.Rule {
		return config.Rule{Name: "r", Action: "delete", Where: config.Where{Name: glob}}
	}
	tagged := func(name string) plan.Resource {
		return plan.Resource{ID: "vol-1", Name: name, Tags: map[string]string{"Name": name}}
	}
	tests := map[string]struct {
		rule config.Rule
		r    plan.Resource
		want Verdict
	}{
		"the Name tag matches": {rule("ci-*"), tagged("ci-cache"),
			Verdict{Outcome: Act, Reason: "name matches ci-*"}},
		"the Name tag does not match": {rule("ci-*"), tagged("prod-db"),
			Verdict{Outcome: Leave}},
		"the own name matches when the Name tag does not": {rule("web-*"),
			plan.Resource{ID: "sg-1", Name: "web-old", Tags: map[string]string{"Name": "frontend"}},
			Verdict{Outcome: Act, Reason: "name matches web-*"}},
		"the Name tag matches when the own name does not": {rule("frontend"),
			plan.Resource{ID: "sg-1", Name: "web-old", Tags: map[string]string{"Name": "frontend"}},
			Verdict{Outcome: Act, Reason: "name matches frontend"}},
		"star does not cross a slash": {rule("/aws/*"), plan.Resource{ID: "/aws/lambda/f", Name: "/aws/lambda/f"},
			Verdict{Outcome: Leave}},
		"star matches within a level": {rule("/aws/lambda/*"), plan.Resource{ID: "/aws/lambda/f", Name: "/aws/lambda/f"},
			Verdict{Outcome: Act, Reason: "name matches /aws/lambda/*"}},
		"no name matches no glob, not even star": {rule("*"), plan.Resource{ID: "vol-2"},
			Verdict{Outcome: Leave}},
		"the id is not a name": {rule("vol-*"), plan.Resource{ID: "vol-3"},
			Verdict{Outcome: Leave}},
		"protect still wins": {rule("ci-*"), plan.Resource{ID: "vol-4", Name: "ci-x", Tags: map[string]string{"broom:keep": "y"}},
			Verdict{Outcome: Protect, Reason: "protected: tag broom:keep=y"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			protect := config.Protect{Tags: map[string]string{"broom:keep": "*"}}
			if diff := cmp.Diff(tc.want, Evaluate(tc.rule, protect, now, tc.r)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateAWSPrefix(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	lambda := plan.Resource{ID: "/aws/lambda/old-fn", Name: "/aws/lambda/old-fn", AWSPrefix: "/aws/", Flags: map[string]bool{"empty": true}}
	vetoed := Verdict{Outcome: Protect, Reason: "AWS-owned prefix /aws/ (a rule acts on it only with a name that starts with /aws/)"}
	rule := func(w config.Where) config.Rule { return config.Rule{Name: "r", Action: "delete", Where: w} }
	tests := map[string]struct {
		rule config.Rule
		r    plan.Resource
		want Verdict
	}{
		"a rule without a name":                                  {rule(config.Where{Flags: map[string]bool{"empty": true}}), lambda, vetoed},
		"a glob that matches but does not start with the prefix": {rule(config.Where{Name: "/*/lambda/*"}), lambda, vetoed},
		"a name that starts with the prefix": {rule(config.Where{Name: "/aws/lambda/old-*"}), lambda,
			Verdict{Outcome: Act, Reason: "name matches /aws/lambda/old-*"}},
		"a resource AWS does not own": {rule(config.Where{Flags: map[string]bool{"empty": true}}), plan.Resource{ID: "/ci/x", Name: "/ci/x", Flags: map[string]bool{"empty": true}},
			Verdict{Outcome: Act, Reason: "empty: true"}},
		"protect still wins over a named one": {rule(config.Where{Name: "/aws/lambda/*"}), plan.Resource{ID: "/aws/lambda/old-fn", Name: "/aws/lambda/old-fn", AWSPrefix: "/aws/", Tags: map[string]string{"broom:keep": "y"}},
			Verdict{Outcome: Protect, Reason: "protected: tag broom:keep=y"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			protect := config.Protect{Tags: map[string]string{"broom:keep": "*"}}
			if diff := cmp.Diff(tc.want, Evaluate(tc.rule, protect, now, tc.r)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}
