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
