package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CreateVPC creates a VPC (10.0.0.0/16) with one subnet (10.0.1.0/24) in
// availability zone cfg.Region+"a", and returns both ids.
func CreateVPC(t testing.TB, cfg aws.Config) (vpc, subnet string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := ec2.NewFromConfig(cfg)
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatalf("awstest: create vpc: %v", err)
	}
	vpc = aws.ToString(v.Vpc.VpcId)
	s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String(cfg.Region + "a")})
	if err != nil {
		t.Fatalf("awstest: create subnet in %s: %v", vpc, err)
	}
	return vpc, aws.ToString(s.Subnet.SubnetId)
}

// CreateNATGateway creates a public NAT gateway in subnet with the Elastic
// IP of allocation and the given tags (none if empty), and returns its id.
// moto makes it available at once (AWS: pending for a minute or two); its
// CreateTime is moto's clock at the call (see Moto.SetClock).
func CreateNATGateway(t testing.TB, cfg aws.Config, subnet, allocation string, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: aws.String(allocation)}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeNatgateway, Tags: EC2Tags(tags)}}
	}
	out, err := ec2.NewFromConfig(cfg).CreateNatGateway(ctx, in)
	if err != nil {
		t.Fatalf("awstest: create NAT gateway in %s: %v", subnet, err)
	}
	return aws.ToString(out.NatGateway.NatGatewayId)
}

// RouteToNATGateway creates a route table in vpc whose default route
// (0.0.0.0/0) targets the NAT gateway nat, and returns the table's id.
func RouteToNATGateway(t testing.TB, cfg aws.Config, vpc, nat string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := ec2.NewFromConfig(cfg)
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)})
	if err != nil {
		t.Fatalf("awstest: create route table in %s: %v", vpc, err)
	}
	id := aws.ToString(rt.RouteTable.RouteTableId)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(id), DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(nat)})
	if err != nil {
		t.Fatalf("awstest: route 0.0.0.0/0 of %s to %s: %v", id, nat, err)
	}
	return id
}

// NATGatewayState is the state of the NAT gateway id ("" when it is not
// listed at all).
func NATGatewayState(t testing.TB, cfg aws.Config, id string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{
		Filter: []types.Filter{{Name: aws.String("nat-gateway-id"), Values: []string{id}}},
	})
	if err != nil {
		t.Fatalf("awstest: describe NAT gateway %s: %v", id, err)
	}
	if len(out.NatGateways) == 0 {
		return ""
	}
	return string(out.NatGateways[0].State)
}
