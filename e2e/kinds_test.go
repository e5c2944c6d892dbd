package e2e

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/broom-dev/broom/internal/awstest"
)

// lifecycle is what every kind goes through in a pull request, run as the
// Docker runner runs broom: the plan shows want actions and changes
// nothing; a writer's approval applies exactly those; the same approval
// again finds nothing to do and changes nothing. The config replaces the
// world's; the test checks AWS before and after.
func (w *world) lifecycle(t *testing.T, config string, want int) (plan, apply result) {
	t.Helper()
	w.writeConfig(config)
	n := strconv.Itoa(want)
	w.rec.Reset()
	plan = w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": n})
	w.noMutatingCalls()

	w.rec.Reset()
	apply = w.run("pull_request", w.labeled("alice", label), nil)
	apply.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "planned": n, "applied": n,
		"failed": "0", "skipped": "0", "fingerprint": plan.outputs["fingerprint"]})
	if t.Failed() {
		t.Logf("plan:\n%s\napply:\n%s", plan.summary, apply.stderr)
	}

	w.rec.Reset()
	again := w.run("pull_request", w.labeled("alice", label), nil)
	again.want(t, 0, map[string]string{"result": "nothing-to-do", "planned": "0"})
	w.noMutatingCalls()
	return plan, apply
}

// An idle Elastic IP is released; an associated one and a protected one
// stay. The example for every kind's lifecycle test.
func TestKindLifecycleElasticIP(t *testing.T) {
	w := newWorld(t)
	idle := awstest.AllocateAddress(t, w.aws)
	kept := awstest.AllocateAddress(t, w.aws)
	awstest.Tag(t, w.aws, kept, map[string]string{"broom:keep": "yes"})
	used := awstest.AllocateAddress(t, w.aws)
	image, _ := registerImage(w)
	awstest.AssociateAddress(t, w.aws, used, awstest.RunInstance(t, w.aws, image))

	w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: idle-eips
    resource: elastic-ip
    action: delete
    where: {unassociated: true}
`, 1)

	out, err := ec2.NewFromConfig(w.aws).DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, a := range out.Addresses {
		left[*a.AllocationId] = true
	}
	if left[idle] || !left[kept] || !left[used] {
		t.Errorf("addresses left %v, want %s released and %s, %s kept", left, idle, kept, used)
	}
}
