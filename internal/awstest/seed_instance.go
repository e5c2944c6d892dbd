package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Instance is how RunInstanceOf launches an instance.
type Instance struct {
	Image string
	Type  types.InstanceType // t3.micro when empty
	// Tags may use the aws: prefix, which AWS keeps for itself (an Auto
	// Scaling group's instances) but moto 5.2.1 accepts from anyone.
	Tags map[string]string
	// Protected turns termination protection on (DisableApiTermination).
	Protected bool
	// Spot asks for a spot instance (InstanceLifecycle "spot").
	Spot bool
}

// RunInstanceOf launches one instance as in describes, in availability
// zone cfg.Region+"a", and returns its id. moto gives it an 8 GiB root
// volume that is deleted on termination.
func RunInstanceOf(t testing.TB, cfg aws.Config, in Instance) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	typ := in.Type
	if typ == "" {
		typ = types.InstanceTypeT3Micro
	}
	run := &ec2.RunInstancesInput{
		ImageId: aws.String(in.Image), InstanceType: typ,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &types.Placement{AvailabilityZone: aws.String(cfg.Region + "a")},
	}
	if len(in.Tags) > 0 {
		run.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: EC2Tags(in.Tags)}}
	}
	if in.Spot {
		run.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}
	}
	client := ec2.NewFromConfig(cfg)
	out, err := client.RunInstances(ctx, run)
	if err != nil {
		t.Fatalf("awstest: run instance of %s: %v", in.Image, err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	if in.Protected { // moto 5.2.1 ignores RunInstances' DisableApiTermination
		_, err := client.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
			InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)},
		})
		if err != nil {
			t.Fatalf("awstest: protect instance %s from termination: %v", id, err)
		}
	}
	return id
}

// StopInstance stops instance; its StateTransitionReason then holds moto's
// clock at the call.
func StopInstance(t testing.TB, cfg aws.Config, instance string) {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	if _, err := ec2.NewFromConfig(cfg).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{instance}}); err != nil {
		t.Fatalf("awstest: stop instance %s: %v", instance, err)
	}
}

// InstanceState returns the state of instance ("running", "stopped",
// "terminated", …), or "" when EC2 does not know it.
func InstanceState(t testing.TB, cfg aws.Config, instance string) string {
	t.Helper()
	ctx, cancel := callCtx(t)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{instance}}},
	})
	if err != nil {
		t.Fatalf("awstest: describe instance %s: %v", instance, err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State != nil {
				return string(i.State.Name)
			}
		}
	}
	return ""
}
