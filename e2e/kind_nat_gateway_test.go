package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old NAT gateway no route targets is deleted; a routed one and a
// protected one stay; the Elastic IP of the deleted one stays allocated
// (only an elastic-ip rule releases it), and the plan says so.
func TestKindLifecycleNATGateway(t *testing.T) {
	w := newWorld(t)
	w.moto.SetClock("-400d")
	vpc, subnet := awstest.CreateVPC(t, w.aws)
	eip := awstest.AllocateAddress(t, w.aws)
	idle := awstest.CreateNATGateway(t, w.aws, subnet, eip, nil)
	routed := awstest.CreateNATGateway(t, w.aws, subnet, awstest.AllocateAddress(t, w.aws), nil)
	awstest.RouteToNATGateway(t, w.aws, vpc, routed)
	kept := awstest.CreateNATGateway(t, w.aws, subnet, awstest.AllocateAddress(t, w.aws), map[string]string{"broom:keep": "yes"})
	w.moto.SetClock("+0")

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: idle-nat-gateways
    resource: nat-gateway
    action: delete
    where: {unused: true, older-than: 30d}
`, 1)

	c := ec2.NewFromConfig(w.aws)
	addr, err := c.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{eip}})
	if err != nil || len(addr.Addresses) != 1 {
		t.Fatalf("the Elastic IP %s of the deleted gateway: %v, %v; want it still allocated", eip, addr, err)
	}
	if note := "leaves Elastic IP: " + eip + " (" + aws.ToString(addr.Addresses[0].PublicIp) + ")"; !strings.Contains(plan.summary, note) {
		t.Errorf("the plan does not say %q:\n%s", note, plan.summary)
	}
	out, err := c.DescribeNatGateways(context.Background(), &ec2.DescribeNatGatewaysInput{})
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]types.NatGatewayState{}
	for _, g := range out.NatGateways {
		state[*g.NatGatewayId] = g.State
	}
	if state[idle] != types.NatGatewayStateDeleted || state[routed] != types.NatGatewayStateAvailable || state[kept] != types.NatGatewayStateAvailable {
		t.Errorf("NAT gateways after apply %v, want %s deleted and %s, %s available", state, idle, routed, kept)
	}
}
