package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/broom-dev/broom/internal/awstest"
)

const retentionConfig = `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: log-retention
    resource: log-group
    action: update
    where: {older-than: 30d}
    set: {retention-days: 30}
`

// An old group that never expires and one kept 7 days get a retention of
// 30 days and are stamped with the pull request; one already at 30 has
// nothing to do; a protected one, an /aws/lambda one no rule names and a
// young one stay as they are. The plan shows no saving: "—", unknown.
func TestKindLifecycleLogGroupUpdate(t *testing.T) {
	w := newWorld(t)
	logs := cloudwatchlogs.NewFromConfig(w.aws)
	w.moto.SetClock("-400d")
	for _, g := range []string{"/ci/never", "/ci/at-7", "/ci/at-30", "/ci/kept", "/aws/lambda/fn"} {
		awstest.CreateLogGroup(t, w.aws, g, nil)
	}
	for g, d := range map[string]int32{"/ci/at-7": 7, "/ci/at-30": 30} {
		if _, err := logs.PutRetentionPolicy(t.Context(), &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(g), RetentionInDays: aws.Int32(d)}); err != nil {
			t.Fatal(err)
		}
	}
	w.moto.SetClock("+0")
	// Stored bytes give it a cost, which the update must not claim as saved.
	awstest.PutLogEvent(t, w.aws, "/ci/at-7", "kept 7 days")
	awstest.TagLogGroup(t, w.aws, "/ci/kept", map[string]string{"broom:keep": "yes"})
	awstest.CreateLogGroup(t, w.aws, "/ci/young", nil)

	plan, _ := w.lifecycle(t, retentionConfig, 2)
	if !strings.Contains(plan.summary, "AWS-owned prefix /aws/") {
		t.Errorf("the plan does not say why /aws/lambda/fn is left alone:\n%s", plan.summary)
	}
	if strings.Contains(plan.summary, "saves ≈") || strings.Contains(plan.summary, "$") {
		t.Errorf("the plan shows a saving for retention updates:\n%s", plan.summary)
	}
	if n := strings.Count(plan.summary, "saves: —"); n != 2 {
		t.Errorf("the plan says saves: — %d times, want once for each update (unknown):\n%s", n, plan.summary)
	}

	out, err := logs.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int32{"/ci/never": 30, "/ci/at-7": 30, "/ci/at-30": 30, "/ci/kept": 0, "/aws/lambda/fn": 0, "/ci/young": 0}
	for _, g := range out.LogGroups {
		name := aws.ToString(g.LogGroupName)
		if got := aws.ToInt32(g.RetentionInDays); got != want[name] {
			t.Errorf("log group %s keeps %d days, want %d (0: never expires)", name, got, want[name])
		}
		tags, err := logs.ListTagsForResource(t.Context(), &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.LogGroupArn})
		if err != nil {
			t.Fatal(err)
		}
		change := tags.Tags["broom:change"]
		updated := name == "/ci/never" || name == "/ci/at-7"
		if updated && !strings.HasSuffix(change, "/acme/infra/pull/7") {
			t.Errorf("updated log group %s: broom:change %q, want the pull request", name, change)
		}
		if !updated && change != "" {
			t.Errorf("log group %s left alone has broom:change %q", name, change)
		}
	}
}

// A retention CloudWatch Logs does not accept is a config error at its
// line: exit 2, before any AWS call.
func TestLogGroupUpdateBadRetentionIsMisuse(t *testing.T) {
	w := newWorldWithoutAWS(t)
	w.writeConfig(strings.Replace(retentionConfig, "retention-days: 30", "retention-days: 31", 1))
	r := w.run("pull_request", w.prPayload("opened"), nil)
	r.want(t, 2, map[string]string{"result": "error"})
	if calls := w.rec.Calls(); len(calls) != 0 {
		t.Errorf("AWS calls made with a bad config: %v", calls)
	}
	if !strings.Contains(r.stdout, "::error file=.github/broom.yml,line=11::") {
		t.Errorf("no ::error annotation at the set's line in stdout:\n%s", r.stdout)
	}
}
