package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/broom-dev/broom/internal/awstest"
)

// An idle network interface is deleted; an attached one, a protected one
// and a NAT gateway's stay. moto shows the NAT gateway's interface
// available and not requester-managed (AWS: in-use, requester-managed), so
// here it matches unattached and only broom's own veto keeps it.
func TestKindLifecycleNetworkInterface(t *testing.T) {
	w := newWorld(t)
	subnet := awstest.DefaultSubnet(t, w.aws)
	idle := awstest.CreateNetworkInterface(t, w.aws, subnet, "idle", nil)
	kept := awstest.CreateNetworkInterface(t, w.aws, subnet, "kept", map[string]string{"broom:keep": "yes"})
	used := awstest.CreateNetworkInterface(t, w.aws, subnet, "used", nil)
	image, _ := registerImage(w)
	awstest.AttachNetworkInterface(t, w.aws, used, awstest.RunInstance(t, w.aws, image))
	nat, natENI := awstest.NATGatewayWithInterface(t, w.aws, subnet)

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: idle-enis
    resource: network-interface
    action: delete
    where: {unattached: true}
`, 1)
	if !strings.Contains(plan.summary, natENI) || !strings.Contains(plan.summary, "NAT gateway "+nat) {
		t.Errorf("the plan does not list %s as left alone for NAT gateway %s:\n%s", natENI, nat, plan.summary)
	}

	out, err := ec2.NewFromConfig(w.aws).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, n := range out.NetworkInterfaces {
		left[*n.NetworkInterfaceId] = true
	}
	if left[idle] || !left[kept] || !left[used] || !left[natENI] {
		t.Errorf("interfaces left %v, want %s deleted and %s, %s, %s kept", left, idle, kept, used, natENI)
	}
}
