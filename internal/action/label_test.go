package action

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/pr/prtest"
)

const (
	labelGet   = "/repos/acme/infra/labels/*"
	labelsPost = "/repos/acme/infra/labels"
)

// newPRPlanRun is a pull request event run against gh for PR 9, whose plan
// has n actions.
func newPRPlanRun(t *testing.T, gh *prtest.Fake, action string, n int) *driverRun {
	t.Helper()
	head := strings.Repeat("1", 40)
	gh.AddPR(prtest.PR{Number: 9, Author: "dana", HeadSHA: head, HeadRepo: "acme/infra"})
	p := prtest.Payload(t, "pull_request", action)
	prtest.Set(p, "pull_request.number", 9)
	prtest.Set(p, "pull_request.head.sha", head)
	d := newDriverRun(t, "pull_request", p, driverConfig)
	d.connect = fakeCloud(manySnapshots{n: n})
	d.env["INPUT_GITHUB-TOKEN"] = prtest.DefaultToken
	for k, v := range gh.Env() {
		d.env[k] = v
	}
	return d
}

// The first plan that needs approving creates the approve label the
// repository lacks, once; later plans find it and create nothing.
func TestFirstPRPlanCreatesTheApproveLabel(t *testing.T) {
	t.Parallel()
	gh := prtest.New(t)
	d := newPRPlanRun(t, gh, "opened", 2)
	if code, out := d.run(t); code != ExitOK || out["result"] != "planned" {
		t.Fatalf("exit %d, outputs %v", code, out)
	}
	l, ok := gh.RepoLabel(approveLabel)
	if !ok || l.Name != approveLabel || l.Description != pr.ApproveLabelDescription {
		t.Fatalf("repository label %+v, %v; want %s with broom's description", l, ok, approveLabel)
	}
	if g, p := gh.Count("GET", labelGet), gh.Count("POST", labelsPost); g != 1 || p != 1 {
		t.Errorf("first plan: %d GET and %d POST of the label; want one of each", g, p)
	}

	again := newPRPlanRun(t, gh, "synchronize", 2)
	if code, _ := again.run(t); code != ExitOK {
		t.Fatalf("second plan: exit %d", code)
	}
	if g, p := gh.Count("GET", labelGet), gh.Count("POST", labelsPost); g != 2 || p != 1 {
		t.Errorf("after the second plan: %d GET and %d POST of the label; want 2 and 1 (no second creation)", g, p)
	}
}

// An empty plan needs no approval: no label is looked for.
func TestEmptyPRPlanLeavesLabelsAlone(t *testing.T) {
	t.Parallel()
	gh := prtest.New(t)
	d := newPRPlanRun(t, gh, "opened", 0)
	if code, out := d.run(t); code != ExitOK || out["result"] != "nothing-to-do" {
		t.Fatalf("exit %d, outputs %v", code, out)
	}
	if n := gh.Count("", "/repos/acme/infra/labels*"); n != 0 {
		t.Errorf("%d label requests for an empty plan; want none", n)
	}
}

// A token that may not create labels: the plan is still written and the run
// succeeds; the log warns and the comment says to create the label by hand.
func TestApproveLabelRefusedIsAWarning(t *testing.T) {
	t.Parallel()
	gh := prtest.New(t)
	gh.FailNext("POST", labelsPost, 1, http.StatusForbidden, nil,
		`{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/labels#create-a-label","status":"403"}`)
	d := newPRPlanRun(t, gh, "opened", 2)
	code, out := d.run(t)
	if code != ExitOK || out["result"] != "planned" {
		t.Fatalf("exit %d, outputs %v; want 0 and planned", code, out)
	}
	if !strings.Contains(d.stdout.String(), "::warning::broom could not make sure the broom:approved label exists") {
		t.Errorf("no warning annotation in:\n%s", d.stdout.String())
	}
	comments := gh.Comments(9)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "create it by hand") || !strings.Contains(comments[0].Body, "403") {
		t.Errorf("the comment does not say to create the label by hand: %+v", comments)
	}
	if n := gh.Count("POST", labelsPost); n != 1 {
		t.Errorf("%d POST of the label; want one attempt", n)
	}
	if _, ok := gh.RepoLabel(approveLabel); ok {
		t.Errorf("the label exists after a refusal")
	}
}

// A scheduled run that opens a tracking issue creates the approve label
// too; the next run, which updates the issue, asks nothing about labels.
func TestTrackingIssueCreatesTheApproveLabel(t *testing.T) {
	t.Parallel()
	gh := prtest.New(t)
	newRun := func() *driverRun {
		d := newDriverRun(t, "schedule", nil, driverConfig)
		d.env["INPUT_GITHUB-TOKEN"] = prtest.DefaultToken
		d.env["INPUT_TRACKING-ISSUE"] = "true"
		for k, v := range gh.Env() {
			d.env[k] = v
		}
		return d
	}
	d := newRun()
	if code, out := d.run(t); code != ExitOK || out["comment-url"] == "" {
		t.Fatalf("exit %d, outputs %v; want a tracking issue", code, out)
	}
	if _, ok := gh.RepoLabel(approveLabel); !ok {
		t.Fatalf("no %s label after opening the tracking issue; labels %v", approveLabel, gh.RepoLabels())
	}
	if n := gh.Count("POST", labelsPost); n != 1 {
		t.Errorf("%d POST of the label; want 1", n)
	}
	if code, _ := newRun().run(t); code != ExitOK {
		t.Fatalf("second run: exit %d", code)
	}
	if g, p := gh.Count("GET", labelGet), gh.Count("POST", labelsPost); g != 1 || p != 1 {
		t.Errorf("after updating the issue: %d GET and %d POST of the label; want 1 and 1", g, p)
	}
	if summary, _ := os.ReadFile(d.env["GITHUB_STEP_SUMMARY"]); strings.Contains(string(summary), "could not make sure") {
		t.Errorf("the summary speaks of a label failure:\n%s", summary)
	}
}
