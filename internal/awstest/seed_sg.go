package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CreateSecurityGroup creates a security group called name in the default
// VPC, with the given tags (none if empty), and returns its id.
func CreateSecurityGroup(t testing.TB, cfg aws.Config, name string, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("awstest group " + name)}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: EC2Tags(tags)}}
	}
	out, err := ec2.NewFromConfig(cfg).CreateSecurityGroup(ctx, in)
	if err != nil {
		t.Fatalf("awstest: create security group %s: %v", name, err)
	}
	return aws.ToString(out.GroupId)
}

// DefaultSecurityGroup returns the id of the default VPC's default group.
func DefaultSecurityGroup(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	client := ec2.NewFromConfig(cfg)
	vpcs, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatalf("awstest: describe the default VPC: %v", err)
	}
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("awstest: %d default VPCs, want 1", len(vpcs.Vpcs))
	}
	out, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpcs.Vpcs[0].VpcId)}},
		{Name: aws.String("group-name"), Values: []string{"default"}},
	}})
	if err != nil {
		t.Fatalf("awstest: describe the default VPC's default group: %v", err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("awstest: %d default groups in the default VPC, want 1", len(out.SecurityGroups))
	}
	return aws.ToString(out.SecurityGroups[0].GroupId)
}

// AllowIngressFrom adds an ingress rule to group that lets source in on
// TCP 443: group's rules reference source.
func AllowIngressFrom(t testing.TB, cfg aws.Config, group, source string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(group), IpPermissions: groupPermission(source),
	})
	if err != nil {
		t.Fatalf("awstest: allow ingress to %s from %s: %v", group, source, err)
	}
}

// AllowEgressTo adds an egress rule to group that lets it reach target on
// TCP 443: group's rules reference target.
func AllowEgressTo(t testing.TB, cfg aws.Config, group, target string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: aws.String(group), IpPermissions: groupPermission(target),
	})
	if err != nil {
		t.Fatalf("awstest: allow egress from %s to %s: %v", group, target, err)
	}
}

func groupPermission(other string) []types.IpPermission {
	return []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other)}},
	}}
}

// InterfaceInGroups creates a network interface with the given security
// groups in the default subnet (DefaultSubnet), and returns its id.
func InterfaceInGroups(t testing.TB, cfg aws.Config, groups ...string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(DefaultSubnet(t, cfg)), Groups: groups})
	if err != nil {
		t.Fatalf("awstest: create network interface with %v: %v", groups, err)
	}
	return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
}
