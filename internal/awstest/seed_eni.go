package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// DefaultSubnet returns the id of the default VPC's subnet in availability
// zone cfg.Region+"a", where RunInstance puts its instances.
func DefaultSubnet(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("default-for-az"), Values: []string{"true"}},
		{Name: aws.String("availability-zone"), Values: []string{cfg.Region + "a"}},
	}})
	if err != nil {
		t.Fatalf("awstest: describe default subnet: %v", err)
	}
	if len(out.Subnets) == 0 {
		t.Fatalf("awstest: no default subnet in %sa", cfg.Region)
	}
	return aws.ToString(out.Subnets[0].SubnetId)
}

// CreateNetworkInterface creates an unattached network interface in
// subnet with description and tags (none if empty) and returns its id.
func CreateNetworkInterface(t testing.TB, cfg aws.Config, subnet, description string, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	in := &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Description: aws.String(description)}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: EC2Tags(tags)}}
	}
	out, err := ec2.NewFromConfig(cfg).CreateNetworkInterface(ctx, in)
	if err != nil {
		t.Fatalf("awstest: create network interface in %s: %v", subnet, err)
	}
	return aws.ToString(out.NetworkInterface.NetworkInterfaceId)
}

// AttachNetworkInterface attaches the interface to instance as its second
// device (index 1; the instance's own interface is 0).
func AttachNetworkInterface(t testing.TB, cfg aws.Config, eni, instance string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{
		NetworkInterfaceId: aws.String(eni), InstanceId: aws.String(instance), DeviceIndex: aws.Int32(1),
	})
	if err != nil {
		t.Fatalf("awstest: attach %s to %s: %v", eni, instance, err)
	}
}

// AssociateAddressWithInterface associates the address of allocation with
// the network interface eni.
func AssociateAddressWithInterface(t testing.TB, cfg aws.Config, allocation, eni string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := ec2.NewFromConfig(cfg).AssociateAddress(ctx, &ec2.AssociateAddressInput{
		AllocationId: aws.String(allocation), NetworkInterfaceId: aws.String(eni),
	})
	if err != nil {
		t.Fatalf("awstest: associate %s with %s: %v", allocation, eni, err)
	}
}

// NATGatewayWithInterface creates a public NAT gateway in subnet with a
// new Elastic IP (CreateNATGateway) and returns its id and the id of its
// network interface.
//
// moto (5.2) shows that interface available, of type interface, not
// requester-managed and without a description; AWS shows it in-use and
// requester-managed, described as "Interface for NAT Gateway nat-…".
func NATGatewayWithInterface(t testing.TB, cfg aws.Config, subnet string) (natID, eniID string) {
	t.Helper()
	natID = CreateNATGateway(t, cfg, subnet, AllocateAddress(t, cfg), nil)
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{natID}})
	if err != nil || len(out.NatGateways) != 1 {
		t.Fatalf("awstest: describe NAT gateway %s: %v", natID, err)
	}
	g := out.NatGateways[0]
	if len(g.NatGatewayAddresses) == 0 || aws.ToString(g.NatGatewayAddresses[0].NetworkInterfaceId) == "" {
		t.Fatalf("awstest: NAT gateway %s has no network interface: %+v", natID, g.NatGatewayAddresses)
	}
	return natID, aws.ToString(g.NatGatewayAddresses[0].NetworkInterfaceId)
}
