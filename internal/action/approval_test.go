package action

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/gate"
	"github.com/broom-dev/broom/internal/pr"
)

// fakeGitHub answers an approval's questions from fields; calls records
// what was asked, in order.
type fakeGitHub struct {
	pull   pr.PullRequest
	sticky *pr.Comment
	issue  pr.Issue
	roles  map[string]string
	events []pr.LabelEvent
	edits  map[string]pr.EditFacts // by node id
	err    error                   // returned by every call when set
	calls  []string
}

func (g *fakeGitHub) GetPullRequest(_ context.Context, n int) (pr.PullRequest, error) {
	g.calls = append(g.calls, "pull")
	return g.pull, g.err
}

func (g *fakeGitHub) FindSticky(_ context.Context, n int, id, viewer string) (*pr.Comment, error) {
	g.calls = append(g.calls, "sticky "+id+" "+viewer)
	return g.sticky, g.err
}

func (g *fakeGitHub) GetIssue(_ context.Context, n int) (pr.Issue, error) {
	g.calls = append(g.calls, "issue")
	return g.issue, g.err
}

func (g *fakeGitHub) Role(_ context.Context, user string) (string, error) {
	g.calls = append(g.calls, "role "+user)
	return g.roles[user], g.err
}

func (g *fakeGitHub) LabelEvents(_ context.Context, n int) ([]pr.LabelEvent, error) {
	g.calls = append(g.calls, "events")
	return g.events, g.err
}

func (g *fakeGitHub) EditFacts(_ context.Context, id string) (pr.EditFacts, error) {
	g.calls = append(g.calls, "edits "+id)
	f, ok := g.edits[id]
	if !ok && g.err == nil {
		return f, errors.New("no such node")
	}
	return f, g.err
}

const (
	approveLabel = "broom:approved"
	bot          = "github-actions[bot]"
	head         = "1111111111111111111111111111111111111111"
)

var (
	written = time.Date(2026, 12, 4, 12, 3, 40, 0, time.UTC)
	later   = written.Add(time.Minute)
)

// prWorld is a pull request with broom's plan, written at `written`, and
// alice's approval a minute later: every fact valid.
func prWorld() (*fakeGitHub, claim) {
	g := &fakeGitHub{
		pull: pr.PullRequest{Number: 7, Author: "dana", HeadSHA: head, HeadRepo: "acme/infra", BaseRepo: "acme/infra",
			Labels: []string{"bug", approveLabel}},
		sticky: &pr.Comment{ID: 1, NodeID: "IC_1", Marker: pr.Marker{ID: "nightly", Head: head}},
		roles:  map[string]string{"alice": "write", "dana": "write"},
		events: []pr.LabelEvent{
			{Added: true, Label: approveLabel, Actor: "dana", At: written.Add(-time.Hour)},
			{Added: false, Label: approveLabel, Actor: bot, At: written},
			{Added: true, Label: "bug", Actor: "dana", At: later},
			{Added: true, Label: "Broom:Approved", Actor: "alice", At: later}, // label names ignore case
		},
		edits: map[string]pr.EditFacts{"IC_1": {Created: written.Add(-time.Hour), Edited: written, Editor: bot}},
	}
	c := claim{Number: 7, Labeler: "alice", LabelerType: "User", EventHead: head, Label: approveLabel,
		ReportID: "nightly", Viewer: bot, Required: "write"}
	return g, c
}

func TestGatherPR(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(*fakeGitHub, *claim)
		want   string // "" = valid; else a phrase the gate's reason must hold
	}{
		"every fact valid approves": {func(*fakeGitHub, *claim) {}, ""},
		"a labeler of type Bot is refused": {func(_ *fakeGitHub, c *claim) { c.LabelerType = "Bot" },
			"alice is a bot"},
		"a labeler whose login ends in [bot] is refused": {func(g *fakeGitHub, c *claim) {
			c.Labeler, c.LabelerType = "renovate[bot]", "User"
			g.roles["renovate[bot]"] = "write"
			g.events = append(g.events, pr.LabelEvent{Added: true, Label: approveLabel, Actor: "renovate[bot]", At: later})
		}, "renovate[bot] is a bot"},
		"the labeler's role comes from the API": {func(g *fakeGitHub, _ *claim) { g.roles["alice"] = "triage" },
			"alice has triage permission"},
		"the author cannot approve": {func(g *fakeGitHub, _ *claim) { g.pull.Author = "alice" },
			"cannot approve their own"},
		"a fork is refused": {func(g *fakeGitHub, _ *claim) { g.pull.HeadRepo = "mallory/infra" }, "fork"},
		"the label gone from the PR now is refused": {func(g *fakeGitHub, _ *claim) { g.pull.Labels = []string{"bug"} },
			"no longer on the pull request"},
		"a head moved since the event is refused": {func(g *fakeGitHub, _ *claim) {
			g.pull.HeadSHA = strings.Repeat("2", 40)
			g.sticky.Marker.Head = strings.Repeat("2", 40)
		}, "label was added at commit 1111111"},
		"a plan made at an older head is refused": {func(g *fakeGitHub, _ *claim) { g.sticky.Marker.Head = strings.Repeat("3", 40) },
			"plan shown was made at commit 3333333"},
		"no plan comment is refused": {func(g *fakeGitHub, _ *claim) { g.sticky = nil }, "no plan from broom"},
		"the label last added by someone else is refused": {func(g *fakeGitHub, _ *claim) {
			g.events = append(g.events, pr.LabelEvent{Added: true, Label: approveLabel, Actor: "dana", At: later.Add(time.Second)})
		}, "the label was last added by dana, not alice"},
		"no labeled event is refused": {func(g *fakeGitHub, _ *claim) { g.events = g.events[1:3] },
			"no event adding the approve label"},
		"a label added before the plan was written is refused": {func(g *fakeGitHub, _ *claim) {
			g.events[3].At = time.Date(2026, 12, 4, 12, 1, 7, 0, time.UTC)
		}, "the label was added at 12:01:07 UTC, before this plan was written at 12:03:40 UTC"},
		"a plan never edited is written at its creation": {func(g *fakeGitHub, _ *claim) {
			g.edits["IC_1"] = pr.EditFacts{Created: later.Add(time.Second)}
		}, "before this plan was written at 12:04:41 UTC"},
		"a plan edited by a person is refused": {func(g *fakeGitHub, _ *claim) {
			g.edits["IC_1"] = pr.EditFacts{Created: written.Add(-time.Hour), Edited: written, Editor: "dana"}
		}, "edited by dana"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, c := prWorld()
			tc.change(g, &c)
			a, err := gatherPR(t.Context(), g, c)
			if err != nil {
				t.Fatalf("gatherPR: %v", err)
			}
			got := gate.Check(a.facts)
			if tc.want == "" && got != "" {
				t.Fatalf("refused (%s), want approved; facts %+v", got, a.facts)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("reason %q, want it to hold %q", got, tc.want)
			}
		})
	}
}

func TestGatherPRAsksForWhatItJudges(t *testing.T) {
	t.Parallel()
	g, c := prWorld()
	a, err := gatherPR(t.Context(), g, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pull", "sticky nightly " + bot, "role alice", "events", "edits IC_1"}
	if diff := cmp.Diff(want, g.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if a.sticky != g.sticky || a.pull.HeadSHA != head {
		t.Errorf("gatherPR did not return the comment and PR it judged")
	}
	if !a.facts.LabelAddedAt.Equal(later) || a.facts.LabelAddedBy != "alice" || !a.facts.PlanWritten.Equal(written) {
		t.Errorf("facts %+v: want alice's label at %v, plan written at %v", a.facts, later, written)
	}
}

func TestGatherFailsWhenGitHubCannotAnswer(t *testing.T) {
	t.Parallel()
	g, c := prWorld()
	g.sticky.NodeID = "" // nothing says who wrote the plan: never approve blind
	if _, err := gatherPR(t.Context(), g, c); err == nil || !strings.Contains(err.Error(), "node id") {
		t.Errorf("gatherPR without a node id: err = %v, want one naming the node id", err)
	}
	g, c = prWorld()
	g.err = errors.New("502 Bad Gateway")
	if _, err := gatherPR(t.Context(), g, c); err == nil {
		t.Error("gatherPR with GitHub failing: no error")
	}
	g, c = prWorld()
	delete(g.edits, "IC_1")
	if _, err := gatherPR(t.Context(), g, c); err == nil {
		t.Error("gatherPR when the edit facts cannot be read: no error")
	}
}

// issueWorld is broom's open tracking issue for report nightly, with
// alice's approval after the plan was written.
func issueWorld() (*fakeGitHub, claim) {
	g, c := prWorld()
	g.issue = pr.Issue{Number: 9, NodeID: "I_9", Author: bot, State: "open", Labels: []string{"broom", approveLabel},
		Marker: pr.Marker{ID: "nightly"}}
	g.edits = map[string]pr.EditFacts{"I_9": {Created: written}}
	c.Number, c.EventHead = 9, ""
	return g, c
}

func TestGatherIssue(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(*fakeGitHub, *claim)
		own    bool
		want   string
	}{
		"broom's open issue approves": {func(*fakeGitHub, *claim) {}, true, ""},
		"an issue opened by someone else holds no plan": {func(g *fakeGitHub, _ *claim) { g.issue.Author = "dana" },
			false, "no plan from broom"},
		"an issue by a user named like the App holds no plan": {func(g *fakeGitHub, _ *claim) { g.issue.Author = "github-actions" },
			false, "no plan from broom"},
		"a closed issue holds no plan": {func(g *fakeGitHub, _ *claim) { g.issue.State = "closed" },
			false, "no plan from broom"},
		"another report's issue holds no plan": {func(g *fakeGitHub, _ *claim) { g.issue.Marker.ID = "weekly" },
			false, "no plan from broom"},
		"the label gone from the issue is refused": {func(g *fakeGitHub, _ *claim) { g.issue.Labels = []string{"broom"} },
			true, "no longer on"},
		"a re-run of someone else's approval is refused": {func(g *fakeGitHub, c *claim) {
			c.Labeler = "dana" // dana's old run replayed; alice's label is on now
		}, true, "the label was last added by alice, not dana"},
		"an issue body edited by a person is refused": {func(g *fakeGitHub, _ *claim) {
			g.edits["I_9"] = pr.EditFacts{Created: written, Edited: written, Editor: "dana"}
		}, true, "edited by dana"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, c := issueWorld()
			tc.change(g, &c)
			a, err := gatherIssue(t.Context(), g, c)
			if err != nil {
				t.Fatalf("gatherIssue: %v", err)
			}
			if a.own != tc.own {
				t.Errorf("own = %v, want %v", a.own, tc.own)
			}
			got := gate.Check(a.facts)
			if tc.want == "" && got != "" {
				t.Fatalf("refused (%s), want approved", got)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("reason %q, want it to hold %q", got, tc.want)
			}
			for _, call := range g.calls {
				if strings.HasPrefix(call, "edits ") && !a.own {
					t.Errorf("asked for the edit facts of an issue that is not broom's: %s", call)
				}
			}
		})
	}
}
