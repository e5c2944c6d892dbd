package resource_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/resource"
)

// lgRetentionRule is a config with one log-group update rule setting days.
func lgRetentionRule(days string) string {
	return "version: 1\nregions: [us-east-1]\nrules:\n  - name: retention\n    resource: log-group\n    action: update\n    where: {older-than: 30d}\n    set: {retention-days: " + days + "}\n"
}

// lgRetention is each group's retention in days (0: never expires) and tags.
func lgRetention(t *testing.T, cfg aws.Config) (map[string]int32, map[string]map[string]string) {
	t.Helper()
	c := cloudwatchlogs.NewFromConfig(cfg)
	out, err := c.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	days, tags := map[string]int32{}, map[string]map[string]string{}
	for _, g := range out.LogGroups {
		name := aws.ToString(g.LogGroupName)
		days[name] = aws.ToInt32(g.RetentionInDays)
		tg, err := c.ListTagsForResource(t.Context(), &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.LogGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		tags[name] = tg.Tags
	}
	return days, tags
}

// TestLogGroupRetentionMoto runs a log-group update rule (retention-days:
// 30) through the engine against moto: a group that never expires and one
// at 7 days are planned, one already at 30 is not, one under /aws/ is left
// alone; the plan saves nothing known; apply sets the retention and
// broom:change; a second apply is already done, and a new plan has nothing
// to do.
func TestLogGroupRetentionMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, "us-east-1")
	logs := cloudwatchlogs.NewFromConfig(direct)
	m.SetClock("-400d")
	for _, g := range []string{"/ci/never", "/ci/at-7", "/ci/at-30", "/aws/lambda/fn"} {
		awstest.CreateLogGroup(t, direct, g, nil)
	}
	for g, d := range map[string]int32{"/ci/at-7": 7, "/ci/at-30": 30} {
		if _, err := logs.PutRetentionPolicy(t.Context(), &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g), RetentionInDays: aws.Int32(d)}); err != nil {
			t.Fatal(err)
		}
	}
	m.SetClock("+0")
	// Stored bytes give the group a cost, which a delete would save and
	// the update must not claim.
	awstest.PutLogEvent(t, direct, "/ci/at-7", "kept 7 days")

	f, err := config.Parse("broom.yml", []byte(lgRetentionRule("30")), resource.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{File: f}
	rc, rec := m.Recorded(t, "us-east-1")
	load := func(context.Context, string, string) (aws.Config, error) { return rc.Copy(), nil }
	const ref = "https://github.com/acme/infra/pull/15"
	e := engine.New(slog.New(slog.DiscardHandler), load, engine.WithChangeRef(ref))

	res, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("plan made mutating calls: %v", got)
	}
	changes := map[string]map[string]string{}
	for _, a := range res.Plan.Actions {
		if a.Op != plan.Update {
			t.Errorf("plan: %s %v, want update", a.ID, a.Op)
		}
		if a.MonthlyCostUSD != 0 || !a.SavingUnknown {
			t.Errorf("plan: %s saves $%.2f, unknown %v; want unknown (0, true)", a.ID, a.MonthlyCostUSD, a.SavingUnknown)
		}
		changes[a.ID] = a.Change
	}
	want := map[string]map[string]string{"/ci/never": {"retention-days": "30"}, "/ci/at-7": {"retention-days": "30"}}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	left := map[string]string{}
	for _, a := range res.Protected {
		left[a.ID] = a.Reason
	}
	if !strings.Contains(left["/aws/lambda/fn"], "AWS-owned prefix /aws/") {
		t.Errorf("/aws/lambda/fn left alone: %q, want the AWS-owned prefix", left["/aws/lambda/fn"])
	}
	if r, ok := left["/ci/at-30"]; ok {
		t.Errorf("/ci/at-30 is left alone (%q): want no mention, nothing to do", r)
	}
	if s := report.Summary(res.Plan); strings.Contains(s, "saves") {
		t.Errorf("summary %q: want no saving", s)
	}
	if md := report.Markdown(report.Report{Plan: res.Plan}); strings.Contains(md, "$") || strings.Count(md, "saves: —") != 2 {
		t.Errorf("report shows a saving, or not the two updates' saves: —:\n%s", md)
	}

	applied := e.Apply(t.Context(), cfg, res.Plan)
	for _, a := range applied.Actions {
		if a.Status != plan.Done {
			t.Errorf("apply %s: %s %s, want done", a.ID, a.Status, a.Error)
		}
	}
	days, tags := lgRetention(t, direct)
	wantDays := map[string]int32{"/ci/never": 30, "/ci/at-7": 30, "/ci/at-30": 30, "/aws/lambda/fn": 0}
	if diff := cmp.Diff(wantDays, days); diff != "" {
		t.Errorf("retention after apply (-want +got):\n%s", diff)
	}
	stamp := map[string]string{"broom:change": ref}
	wantTags := map[string]map[string]string{"/ci/never": stamp, "/ci/at-7": stamp, "/ci/at-30": {}, "/aws/lambda/fn": {}}
	if diff := cmp.Diff(wantTags, tags, cmp.Transformer("nilmap", func(m map[string]string) map[string]string {
		if m == nil {
			return map[string]string{}
		}
		return m
	})); diff != "" {
		t.Errorf("tags after apply (-want +got): want broom:change on the updated groups alone\n%s", diff)
	}

	rec.Reset()
	again := e.Apply(t.Context(), cfg, res.Plan)
	for _, a := range again.Actions {
		if a.Status != plan.AlreadyDone {
			t.Errorf("second apply %s: %s %s, want already-done", a.ID, a.Status, a.Error)
		}
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("second apply made mutating calls: %v", got)
	}
	next, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Plan.Actions) != 0 {
		t.Errorf("plan after apply: %v, want nothing to do", next.Plan.Actions)
	}
}

// TestLogGroupRetentionValues: the loader takes the retentions CloudWatch
// Logs accepts and rejects any other at the value's line.
func TestLogGroupRetentionValues(t *testing.T) {
	for _, days := range []string{"1", "30", "3653"} {
		if _, err := config.Parse("broom.yml", []byte(lgRetentionRule(days)), resource.Catalog()); err != nil {
			t.Errorf("retention-days %s: %v, want accepted", days, err)
		}
	}
	for _, days := range []string{"0", "2", "31", "3654", "never", "-1"} {
		_, err := config.Parse("broom.yml", []byte(lgRetentionRule(days)), resource.Catalog())
		if err == nil || !strings.Contains(err.Error(), "broom.yml:8") {
			t.Errorf("retention-days %s: %v, want an error at broom.yml:8", days, err)
		}
	}
	// Missing set, or another key: rejected too.
	for _, set := range []string{"{}", "{retention: 30}"} {
		text := strings.Replace(lgRetentionRule("30"), "{retention-days: 30}", set, 1)
		if _, err := config.Parse("broom.yml", []byte(text), resource.Catalog()); err == nil {
			t.Errorf("set: %s accepted, want an error", set)
		}
	}
}
