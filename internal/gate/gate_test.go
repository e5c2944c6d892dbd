package gate

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	const label = "broom:approved"
	pr := func(action, l string) Event { return Event{Name: "pull_request", Action: action, Label: l} }
	tests := map[string]struct {
		ev    Event
		mode  string
		want  Do
		clear bool
	}{
		"pr opened plans":                          {pr("opened", ""), "auto", Plan, false},
		"pr reopened plans":                        {pr("reopened", ""), "auto", Plan, false},
		"pr synchronize plans and clears approval": {pr("synchronize", ""), "auto", Plan, true},
		"pr labeled with approve label approves":   {pr("labeled", label), "auto", Approve, false},
		"pr labeled with another label is ignored": {pr("labeled", "bug"), "auto", Ignore, false},
		"pr unlabeled is ignored":                  {pr("unlabeled", label), "auto", Ignore, false},
		"pr closed is ignored":                     {pr("closed", ""), "auto", Ignore, false},
		"pr approve label in plan mode only plans": {pr("labeled", label), "plan", Plan, false},
		"pr with mode apply is misuse":             {pr("opened", ""), "apply", Misuse, false},
		"pr labeled with mode apply is misuse":     {pr("labeled", label), "apply", Misuse, false},
		"tracking issue labeled approves":          {Event{Name: "issues", Action: "labeled", Label: label, Tracking: true}, "auto", Approve, false},
		"other issue labeled is ignored":           {Event{Name: "issues", Action: "labeled", Label: label}, "auto", Ignore, false},
		"tracking issue other label is ignored":    {Event{Name: "issues", Action: "labeled", Label: "x", Tracking: true}, "auto", Ignore, false},
		"issues with mode apply is misuse":         {Event{Name: "issues", Action: "labeled", Label: label, Tracking: true}, "apply", Misuse, false},
		"schedule plans":                           {Event{Name: "schedule"}, "auto", Plan, false},
		"schedule with mode apply applies":         {Event{Name: "schedule"}, "apply", Apply, false},
		"push plans":                               {Event{Name: "push"}, "auto", Plan, false},
		"dispatch plans by default":                {Event{Name: "workflow_dispatch"}, "auto", Plan, false},
		"dispatch with mode plan plans":            {Event{Name: "workflow_dispatch"}, "plan", Plan, false},
		"dispatch with mode apply applies":         {Event{Name: "workflow_dispatch"}, "apply", Apply, false},
		"unknown event is ignored":                 {Event{Name: "release", Action: "published"}, "auto", Ignore, false},
		"no event name is misuse":                  {Event{}, "auto", Misuse, false},
		"gate on the approve label approves":       {pr("labeled", label), "gate", Approve, false},
		"gate on another label is misuse":          {pr("labeled", "bug"), "gate", Misuse, false},
		"gate on synchronize is misuse":            {pr("synchronize", ""), "gate", Misuse, false},
		"gate on a tracking issue is misuse":       {Event{Name: "issues", Action: "labeled", Label: label, Tracking: true}, "gate", Misuse, false},
		"gate on schedule is misuse":               {Event{Name: "schedule"}, "gate", Misuse, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Decide(tc.ev, tc.mode, label)
			if got.Do != tc.want || got.ClearApproval != tc.clear {
				t.Errorf("Decide = %v (clear %v, %q), want %v (clear %v)", got.Do, got.ClearApproval, got.Reason, tc.want, tc.clear)
			}
			if (got.Do == Ignore || got.Do == Misuse) && got.Reason == "" {
				t.Errorf("%v without a reason", got.Do)
			}
			if tc.ev.Label != "" && got.Do == Ignore && !strings.Contains(got.Reason, `(label "`+tc.ev.Label+`")`) {
				t.Errorf("Ignore reason %q does not name the label %q", got.Reason, tc.ev.Label)
			}
			if tc.mode == "gate" && got.Do == Misuse && !strings.Contains(got.Reason, "mode gate runs only when the broom:approved label is added to a pull request (sharded approval is PR-only), not on "+tc.ev.Name) {
				t.Errorf("gate misuse reason %q does not say where gate runs and what the event was", got.Reason)
			}
			if tc.ev.Label == "" && strings.Contains(got.Reason, "(label") {
				t.Errorf("reason %q names a label the event did not have", got.Reason)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	written := time.Date(2026, 12, 4, 12, 3, 40, 0, time.UTC)
	valid := Facts{Labeler: "alice", LabelerRole: "write", Required: "write", Author: "bob",
		EventHead: "aaaaaaaa", CurrentHead: "aaaaaaaa", PlanHead: "aaaaaaaa", HasPlan: true, LabelOn: true,
		LabelAddedBy: "alice", LabelAddedAt: written.Add(time.Minute),
		Viewer: "github-actions[bot]", PlanWritten: written}
	with := func(f func(*Facts)) Facts { v := valid; f(&v); return v }
	tests := map[string]struct {
		facts Facts
		want  string // "" = valid; else a phrase the reason must hold
	}{
		"write user approves another's plan":    {valid, ""},
		"admin approves":                        {with(func(f *Facts) { f.LabelerRole = "admin" }), ""},
		"maintain satisfies write":              {with(func(f *Facts) { f.LabelerRole = "maintain" }), ""},
		"triage user is refused":                {with(func(f *Facts) { f.LabelerRole = "triage" }), "triage permission"},
		"read user is refused":                  {with(func(f *Facts) { f.LabelerRole = "read" }), "read permission"},
		"outsider is refused":                   {with(func(f *Facts) { f.LabelerRole = "" }), "no permission"},
		"write is not maintain":                 {with(func(f *Facts) { f.Required = "maintain" }), "needs maintain"},
		"maintain satisfies maintain":           {with(func(f *Facts) { f.Required, f.LabelerRole = "maintain", "maintain" }), ""},
		"write is not admin":                    {with(func(f *Facts) { f.Required = "admin"; f.LabelerRole = "maintain" }), "needs admin"},
		"bot is refused even with write":        {with(func(f *Facts) { f.LabelerBot = true }), "is a bot"},
		"author is refused":                     {with(func(f *Facts) { f.Author = "alice" }), "cannot approve their own"},
		"author allowed with allow-self":        {with(func(f *Facts) { f.Author, f.AllowSelf = "alice", true }), ""},
		"fork is refused":                       {with(func(f *Facts) { f.Fork = true }), "fork"},
		"fork is refused even for admin":        {with(func(f *Facts) { f.Fork, f.LabelerRole = true, "admin" }), "fork"},
		"new commit after label is refused":     {with(func(f *Facts) { f.CurrentHead = "bbbbbbbb" }), "label was added at commit aaaaaaa"},
		"plan made at an older commit refused":  {with(func(f *Facts) { f.PlanHead = "cccccccc" }), "plan shown was made at commit ccccccc"},
		"no plan comment is refused":            {with(func(f *Facts) { f.HasPlan = false }), "no plan"},
		"label removed meanwhile is refused":    {with(func(f *Facts) { f.LabelOn = false }), "no longer on"},
		"tracking issue without heads approves": {with(func(f *Facts) { f.EventHead, f.CurrentHead, f.PlanHead = "", "", "" }), ""},
		"every reason is given, not just first": {with(func(f *Facts) { f.Fork, f.LabelerRole = true, "read" }), "fork"},

		"label last added by another is refused": {with(func(f *Facts) { f.LabelAddedBy = "dana" }), "the label was last added by dana, not alice"},
		"labeler's login case does not matter":   {with(func(f *Facts) { f.LabelAddedBy = "Alice" }), ""},
		"no labeled event is refused":            {with(func(f *Facts) { f.LabelAddedBy = "" }), "no event adding the approve label"},
		"label added before the plan is refused": {with(func(f *Facts) { f.LabelAddedAt = time.Date(2026, 12, 4, 12, 1, 7, 0, time.UTC) }),
			"the label was added at 12:01:07 UTC, before this plan was written at 12:03:40 UTC"},
		"label added a day before names dates": {with(func(f *Facts) { f.LabelAddedAt = written.Add(-24 * time.Hour) }),
			"added at 2026-12-03 12:03:40 UTC, before this plan was written at 2026-12-04 12:03:40 UTC"},
		"label added in the plan's second is valid":          {with(func(f *Facts) { f.LabelAddedAt = written }), ""},
		"an event without a head against a PR head is valid": {with(func(f *Facts) { f.EventHead = "" }), ""},
		"a plan without a head is valid":                     {with(func(f *Facts) { f.PlanHead = "" }), ""},
		"a short head is shown whole":                        {with(func(f *Facts) { f.EventHead, f.CurrentHead, f.PlanHead = "abc", "def", "def" }), "added at commit abc but the head is now def"},
		"plan edited by broom itself is valid":               {with(func(f *Facts) { f.PlanEdited, f.PlanEditor = true, "github-actions[bot]" }), ""},
		"a user named like the App is refused":               {with(func(f *Facts) { f.PlanEdited, f.PlanEditor = true, "github-actions" }), "edited by github-actions,"},
		"plan edited by a person is refused":                 {with(func(f *Facts) { f.PlanEdited, f.PlanEditor = true, "dana" }), "the plan shown was edited by dana, not written by broom"},
		"plan edited by a ghost is refused":                  {with(func(f *Facts) { f.PlanEdited, f.PlanEditor = true, "" }), "edited by an account GitHub no longer knows"},
		"plan edited by a lookalike bot is refused":          {with(func(f *Facts) { f.PlanEdited, f.PlanEditor = true, "github-actions-evil" }), "edited by github-actions-evil"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Check(tc.facts)
			if tc.want == "" && got != "" {
				t.Fatalf("Check = %q, want valid", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("Check = %q, want it to contain %q", got, tc.want)
			}

		})
	}
	if got := Check(with(func(f *Facts) { f.Fork, f.LabelerRole = true, "read" })); !strings.Contains(got, "read permission") {
		t.Errorf("Check = %q: second reason missing", got)
	}
	// Without a plan there is no plan head to speak of: one reason, not two.
	if got := Check(with(func(f *Facts) { f.HasPlan, f.PlanHead = false, "cccccccc" })); got != "no plan from broom was found to approve" {
		t.Errorf("Check without a plan = %q, want only that no plan was found", got)
	}
}

func TestSameLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"GitHub-Actions[bot]", "github-actions[BOT]", true},
		{"alice", "ALICE", true},
		{"github-actions", "github-actions[bot]", false}, // a user so named is not the App
		{"alice", "alice[bot]", false},
		{"alice", "bob", false},
		{"github-actions", "github-actions-bot", false},
		{"", "", false},
		{"alice", "", false},
	}
	for _, tc := range tests {
		if got := SameLogin(tc.a, tc.b); got != tc.want {
			t.Errorf("SameLogin(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
