package awstest

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// LBNetwork is a VPC with two subnets in different availability zones,
// where load balancers and their target groups go.
type LBNetwork struct {
	VPC     string
	Subnets []string
}

// CreateLBNetwork creates a VPC (10.0.0.0/16) with subnets in zones a and b
// of cfg's region, as an Application Load Balancer needs.
func CreateLBNetwork(t testing.TB, cfg aws.Config) LBNetwork {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatalf("awstest: create vpc: %v", err)
	}
	n := LBNetwork{VPC: aws.ToString(vpc.Vpc.VpcId)}
	for i, az := range []string{"a", "b"} {
		s, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0." + strconv.Itoa(i) + ".0/24"), AvailabilityZone: aws.String(cfg.Region + az),
		})
		if err != nil {
			t.Fatalf("awstest: create subnet in %s%s: %v", cfg.Region, az, err)
		}
		n.Subnets = append(n.Subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return n
}

// CreateLoadBalancer creates a load balancer called name of type typ
// (application or network) in n's subnets, with tags (none if empty), and
// returns its ARN. Its CreatedTime is moto's clock (see Moto.SetClock).
func CreateLoadBalancer(t testing.TB, cfg aws.Config, n LBNetwork, name string, typ elbtypes.LoadBalancerTypeEnum, tags map[string]string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := elbv2.NewFromConfig(cfg).CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Type: typ, Subnets: n.Subnets, Tags: elbTags(tags),
	})
	if err != nil {
		t.Fatalf("awstest: create load balancer %s: %v", name, err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

// CreateTargetGroup creates an IP target group called name in n's VPC,
// with protocol HTTP (for an ALB) or TCP (for an NLB), and returns its ARN.
func CreateTargetGroup(t testing.TB, cfg aws.Config, n LBNetwork, name string, protocol elbtypes.ProtocolEnum) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := elbv2.NewFromConfig(cfg).CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: protocol, Port: aws.Int32(80), VpcId: aws.String(n.VPC), TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil {
		t.Fatalf("awstest: create target group %s: %v", name, err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

// CreateListener adds a listener on port 80 to the balancer lb that
// forwards to the target group tg, with protocol HTTP (ALB) or TCP (NLB).
func CreateListener(t testing.TB, cfg aws.Config, lb, tg string, protocol elbtypes.ProtocolEnum) {
	t.Helper()
	createListener(t, cfg, lb, protocol, elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)})
}

// CreateRedirectListener adds an HTTP listener on port 80 to the
// Application Load Balancer lb that redirects to HTTPS: it has no target
// group.
func CreateRedirectListener(t testing.TB, cfg aws.Config, lb string) {
	t.Helper()
	createListener(t, cfg, lb, elbtypes.ProtocolEnumHttp, elbtypes.Action{Type: elbtypes.ActionTypeEnumRedirect,
		RedirectConfig: &elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301}})
}

func createListener(t testing.TB, cfg aws.Config, lb string, protocol elbtypes.ProtocolEnum, action elbtypes.Action) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := elbv2.NewFromConfig(cfg).CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lb), Protocol: protocol, Port: aws.Int32(80), DefaultActions: []elbtypes.Action{action},
	})
	if err != nil {
		t.Fatalf("awstest: create listener on %s: %v", lb, err)
	}
}

// RegisterTarget registers the IP address ip (in the VPC) with the target
// group tg.
func RegisterTarget(t testing.TB, cfg aws.Config, tg, ip string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := elbv2.NewFromConfig(cfg).RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
		TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(ip), Port: aws.Int32(80)}},
	})
	if err != nil {
		t.Fatalf("awstest: register %s with %s: %v", ip, tg, err)
	}
}

// SetDeletionProtection turns the balancer's deletion protection on or off.
func SetDeletionProtection(t testing.TB, cfg aws.Config, lb string, on bool) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := elbv2.NewFromConfig(cfg).ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{
		LoadBalancerArn: aws.String(lb),
		Attributes:      []elbtypes.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String(strconv.FormatBool(on))}},
	})
	if err != nil {
		t.Fatalf("awstest: set deletion protection of %s to %v: %v", lb, on, err)
	}
}

// TagLoadBalancer adds tags to the balancer (or target group) arn.
func TagLoadBalancer(t testing.TB, cfg aws.Config, arn string, tags map[string]string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	_, err := elbv2.NewFromConfig(cfg).AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: elbTags(tags)})
	if err != nil {
		t.Fatalf("awstest: tag %s: %v", arn, err)
	}
}

// LoadBalancers returns the ARNs of the region's load balancers.
func LoadBalancers(t testing.TB, cfg aws.Config) map[string]bool {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := elbv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatalf("awstest: describe load balancers: %v", err)
	}
	arns := map[string]bool{}
	for _, lb := range out.LoadBalancers {
		arns[aws.ToString(lb.LoadBalancerArn)] = true
	}
	return arns
}

func elbTags(tags map[string]string) []elbtypes.Tag {
	var out []elbtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
