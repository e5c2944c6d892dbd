package e2e

import (
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old running instance is stopped; one with termination protection, an
// Auto Scaling group's, a spot one, a protected one and a young one keep
// running.
func TestKindLifecycleEC2InstanceStop(t *testing.T) {
	w := newWorld(t)
	image, _ := registerImage(w)
	run := func(in awstest.Instance) string { in.Image = image; return awstest.RunInstanceOf(t, w.aws, in) }
	w.moto.SetClock("-400d")
	old := run(awstest.Instance{})
	kept := []string{
		run(awstest.Instance{Protected: true}),
		run(awstest.Instance{Tags: map[string]string{"aws:autoscaling:groupName": "web"}}),
		run(awstest.Instance{Spot: true}),
		run(awstest.Instance{Tags: map[string]string{"broom:keep": "yes"}}),
	}
	w.moto.SetClock("+0")
	kept = append(kept, run(awstest.Instance{}))

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: stop-idle
    resource: ec2-instance
    action: stop
    where: {state: running, older-than: 30d}
`, 1)

	// A t3.micro: $0.0104 an hour × 730.
	if !strings.Contains(plan.summary, "saves ≈ $7.59/month") {
		t.Errorf("the plan does not show the saving:\n%s", plan.summary)
	}
	if got := awstest.InstanceState(t, w.aws, old); got != "stopped" {
		t.Errorf("old instance %s is %s, want stopped", old, got)
	}
	for _, id := range kept {
		if got := awstest.InstanceState(t, w.aws, id); got != "running" {
			t.Errorf("instance %s is %s, want it left running", id, got)
		}
	}
}

// An instance stopped long ago is terminated; one stopped lately, one
// with termination protection and a running one stay.
func TestKindLifecycleEC2InstanceDelete(t *testing.T) {
	w := newWorld(t)
	image, _ := registerImage(w)
	run := func(in awstest.Instance) string { in.Image = image; return awstest.RunInstanceOf(t, w.aws, in) }
	w.moto.SetClock("-400d")
	stale, protected, lately, running := run(awstest.Instance{}), run(awstest.Instance{Protected: true}), run(awstest.Instance{}), run(awstest.Instance{})
	w.moto.SetClock("-100d")
	awstest.StopInstance(t, w.aws, stale)
	awstest.StopInstance(t, w.aws, protected)
	w.moto.SetClock("+0")
	awstest.StopInstance(t, w.aws, lately)

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
rules:
  - name: terminate-stopped
    resource: ec2-instance
    action: delete
    where: {older-than: 30d}
`, 1)

	// Its 8 GiB root volume goes with it; the running one is named.
	for _, want := range []string{"saves ≈ $0.80/month", running + "` ec2-instance in us-east-1 (rule terminate-stopped): running: stop it first"} {
		if !strings.Contains(plan.summary, want) {
			t.Errorf("the plan does not say %q:\n%s", want, plan.summary)
		}
	}
	for id, want := range map[string]string{stale: "terminated", protected: "stopped", lately: "stopped", running: "running"} {
		if got := awstest.InstanceState(t, w.aws, id); got != want {
			t.Errorf("instance %s is %s, want %s", id, got, want)
		}
	}
}
