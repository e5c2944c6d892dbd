package resource

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2InstanceAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2InstanceAPI interface {
	ec2.DescribeInstancesAPIClient
	ec2.DescribeVolumesAPIClient
	DescribeInstanceAttribute(context.Context, *ec2.DescribeInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	ec2TagAPI
}

type ec2Instances struct {
	api    ec2InstanceAPI
	region string
	ref    string
	narrow Narrow
}

var (
	_ Kind     = (*ec2Instances)(nil)
	_ Rereader = (*ec2Instances)(nil)
)

func newEC2Instances(env Env) Kind {
	return &ec2Instances{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow}
}

// instanceStates are the states broom lists and acts in: an instance on
// its way between them (pending, stopping, shutting-down) or terminated
// is never touched.
var instanceStates = []string{"running", "stopped"}

// List lists the region's running and stopped instances (or those of the
// one state every rule asks for).
func (k *ec2Instances) List(ctx context.Context) ([]plan.Resource, error) {
	states := instanceStates
	if k.narrow.State != "" {
		states = []string{k.narrow.State}
	}
	filters := append(k.narrow.ec2Filters(), types.Filter{Name: aws.String("instance-state-name"), Values: states})
	insts, err := k.describe(ctx, filters, "instances")
	if err != nil {
		return nil, err
	}
	return k.resources(ctx, insts)
}

// Get re-reads one instance.
func (k *ec2Instances) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads instances with one filtered DescribeInstances; one
// that left the running and stopped states is missing from the answer.
func (k *ec2Instances) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	filters := append(byFilter("instance-id", ids...), types.Filter{Name: aws.String("instance-state-name"), Values: instanceStates})
	insts, err := k.describe(ctx, filters, naming("instance", "instances", ids))
	if err != nil {
		return nil, err
	}
	rs, err := k.resources(ctx, insts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]plan.Resource, len(rs))
	for _, r := range rs {
		out[r.ID] = r
	}
	return out, nil
}

func (k *ec2Instances) describe(ctx context.Context, filters []types.Filter, what string) ([]types.Instance, error) {
	var out []types.Instance
	p := ec2.NewDescribeInstancesPaginator(k.api, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000), Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", what, err)
		}
		for _, res := range page.Reservations {
			out = append(out, res.Instances...)
		}
	}
	return out, nil
}

// resources reads what DescribeInstances leaves out: termination
// protection (one call per instance no other veto keeps) and the size of
// the volumes a stopped instance's termination deletes.
func (k *ec2Instances) resources(ctx context.Context, insts []types.Instance) ([]plan.Resource, error) {
	var volumeIDs []string
	for _, inst := range insts {
		if inst.State != nil && inst.State.Name == types.InstanceStateNameStopped {
			volumeIDs = append(volumeIDs, deletedWith(inst)...)
		}
	}
	volumes, err := k.volumes(ctx, volumeIDs)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Resource, 0, len(insts))
	for _, inst := range insts {
		r := instanceResource(inst, volumes, k.region)
		if r.InUse == "" {
			in := &ec2.DescribeInstanceAttributeInput{InstanceId: inst.InstanceId, Attribute: types.InstanceAttributeNameDisableApiTermination}
			attr, err := k.api.DescribeInstanceAttribute(ctx, in)
			if isCode(err, "InvalidInstanceID.NotFound") {
				continue // terminated since it was listed
			}
			if err != nil {
				return nil, fmt.Errorf("describe termination protection of %s: %w", r.ID, err)
			}
			if attr.DisableApiTermination != nil && aws.ToBool(attr.DisableApiTermination.Value) {
				r.InUse = "termination protection is on"
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// volumes reads the given volumes, snapshotBatch ids a call.
func (k *ec2Instances) volumes(ctx context.Context, ids []string) (map[string]types.Volume, error) {
	out := map[string]types.Volume{}
	for batch := range slices.Chunk(ids, snapshotBatch) {
		p := ec2.NewDescribeVolumesPaginator(k.api, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(500), Filters: byFilter("volume-id", batch...)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe %s of stopped instances: %w", naming("volume", "volumes", batch), err)
			}
			for _, v := range page.Volumes {
				out[aws.ToString(v.VolumeId)] = v
			}
		}
	}
	return out, nil
}

// deletedWith lists the EBS volumes that terminating inst deletes.
func deletedWith(inst types.Instance) []string {
	var out []string
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToBool(m.Ebs.DeleteOnTermination) && m.Ebs.VolumeId != nil {
			out = append(out, *m.Ebs.VolumeId)
		}
	}
	return out
}

// Do stops, terminates or tags the instance. The engine has re-read it:
// a stop or terminate here only learns from EC2's answer that it was
// already done.
func (k *ec2Instances) Do(ctx context.Context, a plan.Action) error {
	ids := []string{a.ID}
	switch {
	case a.Op == plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case a.Op == plan.Update && a.Change["state"] == "stopped":
		out, err := k.api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
		if isCode(err, "InvalidInstanceID.NotFound") {
			return fmt.Errorf("stop instance %s: %w", a.ID, ErrGone)
		}
		if err != nil {
			return fmt.Errorf("stop instance %s: %w", a.ID, err)
		}
		if len(out.StoppingInstances) == 1 && previous(out.StoppingInstances[0]) == types.InstanceStateNameStopped {
			return fmt.Errorf("stop instance %s: %w", a.ID, ErrConverged)
		}
		return nil
	case a.Op == plan.Delete:
		out, err := k.api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
		if isCode(err, "InvalidInstanceID.NotFound") {
			return fmt.Errorf("terminate instance %s: %w", a.ID, ErrGone)
		}
		if err != nil {
			return fmt.Errorf("terminate instance %s: %w", a.ID, err)
		}
		if len(out.TerminatingInstances) == 1 {
			if was := previous(out.TerminatingInstances[0]); was == types.InstanceStateNameTerminated || was == types.InstanceStateNameShuttingDown {
				return fmt.Errorf("terminate instance %s: %w", a.ID, ErrGone)
			}
		}
		return nil
	}
	return fmt.Errorf("ec2-instance cannot %s %v", a.Op, a.Change)
}

func previous(c types.InstanceStateChange) types.InstanceStateName {
	if c.PreviousState == nil {
		return ""
	}
	return c.PreviousState.Name
}

// instanceManagers are the tags by which a service says it runs an
// instance, and which: stopping or terminating it would fight the service
// (an Auto Scaling group replaces it, EKS and ECS lose capacity).
var instanceManagers = []struct{ key, by string }{
	{"aws:autoscaling:groupName", "member of an Auto Scaling group"},
	{"eks:cluster-name", "managed by EKS"},
	{"eks:nodegroup-name", "managed by EKS"},
	{"aws:ecs:cluster-name", "managed by ECS"},
	{"AmazonECSManaged", "managed by ECS"},
}

// kubernetesTag prefixes the tag of an instance in a Kubernetes cluster
// (kubernetes.io/cluster/NAME), self-managed or EKS.
const kubernetesTag = "kubernetes.io/cluster/"

// stoppedAt reads the time an instance stopped from its state transition
// reason: "User initiated (2026-11-01 10:00:00 GMT)" (moto writes UTC).
var stoppedAt = regexp.MustCompile(`\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)`)

// instanceResource is an instance's facts, apart from termination
// protection. Its age is since launch when it runs, since it stopped when
// stopped (unknown, so never older than anything, when the reason gives
// no time).
func instanceResource(inst types.Instance, volumes map[string]types.Volume, region string) plan.Resource {
	r := plan.Resource{
		ID:      aws.ToString(inst.InstanceId),
		Tags:    tagMap(inst.Tags),
		Details: map[string]string{"type": string(inst.InstanceType)},
	}
	r.Name = r.Tags["Name"]
	if inst.State != nil {
		r.State = string(inst.State.Name)
		r.Details["state"] = r.State
	}
	if inst.LaunchTime != nil {
		r.Details["launched"] = inst.LaunchTime.UTC().Format("2006-01-02")
	}
	switch r.State {
	case "running":
		r.Created = aws.ToTime(inst.LaunchTime)
		r.Vetoes = map[string]string{"delete": "running: stop it first"}
		usd, note := price(instancePrices[string(inst.InstanceType)], region)
		r.MonthlyCostUSD = usd * hoursPerMonth
		switch {
		case usd == 0:
			r.Details["price"] = "no price listed for " + string(inst.InstanceType)
		case note != "":
			r.Details["price"] = note
		}
	case "stopped":
		if m := stoppedAt.FindStringSubmatch(aws.ToString(inst.StateTransitionReason)); m != nil {
			if t, err := time.Parse(time.DateTime, m[1]); err == nil {
				r.Created = t
				r.Details["stopped"] = t.Format("2006-01-02")
			}
		}
		var size int32
		for _, id := range deletedWith(inst) {
			v := volumes[id]
			usd, _ := price(volumePrices[string(v.VolumeType)], region)
			size += aws.ToInt32(v.Size)
			r.MonthlyCostUSD += float64(aws.ToInt32(v.Size)) * usd
		}
		r.Details["deletes volumes"] = fmt.Sprintf("%d GiB", size)
	}
	r.InUse = instanceVeto(inst, r.Tags)
	return r
}

// instanceVeto says why no rule may stop or terminate inst, or "".
func instanceVeto(inst types.Instance, tags map[string]string) string {
	for _, m := range instanceManagers {
		if v, ok := tags[m.key]; ok {
			return fmt.Sprintf("%s (tag %s=%s)", m.by, m.key, v)
		}
	}
	for _, k := range sortedKeys(tags) {
		if strings.HasPrefix(k, kubernetesTag) {
			return "in Kubernetes cluster " + strings.TrimPrefix(k, kubernetesTag) + " (tag " + k + ")"
		}
	}
	if inst.InstanceLifecycle != "" { // spot, scheduled, capacity-block; on-demand has none
		return string(inst.InstanceLifecycle) + " instance"
	}
	return ""
}

// ec2InstanceSpec is the kind's registry entry. Its stop is an update
// (Moves): a running instance to stopped.
var ec2InstanceSpec = Spec{
	Name: "ec2-instance",
	New:  newEC2Instances,
	Actions: map[string][]string{
		"stop":   {"state", "older-than", "tags", "missing-tags", "name"},
		"delete": {"state", "older-than", "tags", "missing-tags", "name"},
		"tag":    append([]string{"state"}, tagDated...),
	},
	Moves: map[string]string{"stop": "stopped"},
	IAM: func() map[string]Access {
		// Instances, their termination protection, and the volumes a
		// stopped one's termination deletes (for the saving).
		list := readEC2("ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeVolumes")
		return map[string]Access{
			"stop":   {Plan: []Grant{list}, Apply: []Grant{unmanagedInstances("StopInstances", "ec2:StopInstances")}},
			"delete": {Plan: []Grant{list}, Apply: []Grant{unmanagedInstances("TerminateInstances", "ec2:TerminateInstances")}},
			"tag":    {Plan: []Grant{list}, Apply: []Grant{tagEC2Grant("TagInstances", arnInstance)}},
		}
	}(),
}

// unmanagedInstances grants an action on instances that carry none of the
// managers' tags, so that IAM too refuses what the vetoes keep (the
// kubernetes.io/cluster/NAME tag has no fixed key for a condition).
func unmanagedInstances(sid, action string) Grant {
	absent := map[string]Values{}
	for _, m := range instanceManagers {
		absent["aws:ResourceTag/"+m.key] = Values{"true"}
	}
	return Grant{Sid: sid, Actions: []string{action}, Resources: []string{arnInstance}, Condition: Condition{"Null": absent}, RuleResourceTags: true}
}

const arnInstance = "arn:aws:ec2:*:*:instance/*"

// hoursPerMonth is AWS's own month for monthly prices.
const hoursPerMonth = 730

// instancePrices is per hour, On-Demand, Linux, shared tenancy, by
// instance type (Amazon EC2 On-Demand price list, 2026-12-04). A type not
// listed has no saving shown.
var instancePrices = map[string]regionPrices{
	"t3.nano":   {"us-east-1": 0.0052, "eu-west-1": 0.0057},
	"t3.micro":  {"us-east-1": 0.0104, "eu-west-1": 0.0114},
	"t3.small":  {"us-east-1": 0.0208, "eu-west-1": 0.0228},
	"t3.medium": {"us-east-1": 0.0416, "eu-west-1": 0.0456},
	"t3.large":  {"us-east-1": 0.0832, "eu-west-1": 0.0912},
	"t3.xlarge": {"us-east-1": 0.1664, "eu-west-1": 0.1824},
	"t2.micro":  {"us-east-1": 0.0116, "eu-west-1": 0.0126},
	"m5.large":  {"us-east-1": 0.096, "eu-west-1": 0.107},
	"m5.xlarge": {"us-east-1": 0.192, "eu-west-1": 0.214},
	"c5.large":  {"us-east-1": 0.085, "eu-west-1": 0.096},
	"c5.xlarge": {"us-east-1": 0.17, "eu-west-1": 0.192},
	"r5.large":  {"us-east-1": 0.126, "eu-west-1": 0.141},
}
