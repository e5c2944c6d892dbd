package e2e

import (
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old balancer with no listener is deleted; one serving a target, one
// with deletion protection (which moto would delete: SPEC §11), one tagged
// broom:keep and a new one stay.
func TestKindLifecycleLoadBalancer(t *testing.T) {
	w := newWorld(t)
	n := awstest.CreateLBNetwork(t, w.aws)
	alb := elbtypes.LoadBalancerTypeEnumApplication
	w.moto.SetClock("-400d")
	idle := awstest.CreateLoadBalancer(t, w.aws, n, "idle", alb, nil)
	kept := awstest.CreateLoadBalancer(t, w.aws, n, "kept", alb, map[string]string{"broom:keep": "yes"})
	protected := awstest.CreateLoadBalancer(t, w.aws, n, "protected", alb, nil)
	awstest.SetDeletionProtection(t, w.aws, protected, true)
	served := awstest.CreateLoadBalancer(t, w.aws, n, "served", alb, nil)
	tg := awstest.CreateTargetGroup(t, w.aws, n, "web", elbtypes.ProtocolEnumHttp)
	awstest.CreateListener(t, w.aws, served, tg, elbtypes.ProtocolEnumHttp)
	awstest.RegisterTarget(t, w.aws, tg, "10.0.0.10")
	w.moto.SetClock("+0")
	fresh := awstest.CreateLoadBalancer(t, w.aws, n, "fresh", alb, nil)

	w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: idle-load-balancers
    resource: load-balancer
    action: delete
    where: {unused: true, older-than: 30d}
`, 1)

	left := awstest.LoadBalancers(t, w.aws)
	if left[idle] || !left[kept] || !left[protected] || !left[served] || !left[fresh] {
		t.Errorf("balancers left %v, want %s deleted and %s, %s, %s, %s kept", left, idle, kept, protected, served, fresh)
	}
}

// Deletion protection turned on between the plan and the approval keeps
// the balancer: the apply plans again, reading the attribute afresh, and
// acts on nothing; moto, unlike AWS, would have deleted it (SPEC §11).
// Whether that run says nothing-to-do (as now) or drift is the action's
// business, not the kind's: this test pins neither.
func TestKindLoadBalancerDeletionProtectionAtApply(t *testing.T) {
	w := newWorld(t)
	n := awstest.CreateLBNetwork(t, w.aws)
	idle := awstest.CreateLoadBalancer(t, w.aws, n, "idle", elbtypes.LoadBalancerTypeEnumApplication, nil)
	w.writeConfig(`version: 1
regions: [us-east-1]
rules:
  - name: idle-load-balancers
    resource: load-balancer
    action: delete
    where: {unused: true}
`)
	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, map[string]string{"mode": "plan", "result": "planned", "planned": "1"})

	awstest.SetDeletionProtection(t, w.aws, idle, true)
	w.rec.Reset()
	apply := w.run("pull_request", w.labeled("alice", label), nil)
	if apply.outputs["planned"] != "0" || apply.outputs["applied"] != "" && apply.outputs["applied"] != "0" {
		t.Errorf("apply after protection: planned %q, applied %q; want nothing planned or applied (result %q)",
			apply.outputs["planned"], apply.outputs["applied"], apply.outputs["result"])
	}
	w.noMutatingCalls()
	if !awstest.LoadBalancers(t, w.aws)[idle] {
		t.Errorf("balancer %s was deleted although its deletion protection was on at apply", idle)
	}
}
