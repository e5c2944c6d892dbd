package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/broom-dev/broom/internal/awstest"
)

// An unused security group is deleted; the default group, one an interface
// uses, one another group's rule references and a protected one stay.
func TestKindLifecycleSecurityGroup(t *testing.T) {
	w := newWorld(t)
	idle := awstest.CreateSecurityGroup(t, w.aws, "idle", nil)
	kept := awstest.CreateSecurityGroup(t, w.aws, "kept", map[string]string{"broom:keep": "yes"})
	used := awstest.CreateSecurityGroup(t, w.aws, "used", nil)
	awstest.InterfaceInGroups(t, w.aws, used)
	referenced := awstest.CreateSecurityGroup(t, w.aws, "referenced", nil)
	awstest.AllowIngressFrom(t, w.aws, used, referenced)
	def := awstest.DefaultSecurityGroup(t, w.aws)

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: idle-groups
    resource: security-group
    action: delete
    where: {unused: true}
`, 1)

	out, err := ec2.NewFromConfig(w.aws).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, g := range out.SecurityGroups {
		left[*g.GroupId] = true
	}
	if left[idle] || !left[kept] || !left[used] || !left[referenced] || !left[def] {
		t.Errorf("groups left %v, want %s deleted and %s, %s, %s, %s (default) kept", left, idle, kept, used, referenced, def)
	}
	// The default group matches the rule (nothing uses it) and is vetoed;
	// the plan's summary says why it was left.
	if !strings.Contains(plan.summary, def) || !strings.Contains(plan.summary, "default group") {
		t.Errorf("plan summary does not list %s as left alone for being the default group:\n%s", def, plan.summary)
	}
}
