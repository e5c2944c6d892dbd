package resource

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// elbv2API is the part of ELBv2 this kind uses; *elbv2.Client satisfies it.
type elbv2API interface {
	elbv2.DescribeLoadBalancersAPIClient
	elbv2.DescribeListenersAPIClient
	elbv2.DescribeTargetGroupsAPIClient
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	DescribeLoadBalancerAttributes(context.Context, *elbv2.DescribeLoadBalancerAttributesInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancerAttributesOutput, error)
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DeleteLoadBalancer(context.Context, *elbv2.DeleteLoadBalancerInput, ...func(*elbv2.Options)) (*elbv2.DeleteLoadBalancerOutput, error)
}

// loadBalancers is the load-balancer kind: Application and Network Load
// Balancers, by ARN (unique across regions and accounts, so protect.ids
// cannot name the wrong one); the name is shown beside it. Gateway Load
// Balancers are left out, and Classic ones are another API.
//
// Calls: DescribeLoadBalancers per 400 balancers and DescribeTags per 20;
// then per active balancer that the listing's tags let through,
// DescribeListeners (1), DescribeTargetHealth (1 per target group until one
// has a target; none without a listener or when one redirects or answers
// itself) and DescribeLoadBalancerAttributes (1, skipped when every rule
// wants unused and the balancer is in use). The target groups are the
// region's, DescribeTargetGroups per 400, read once and only if a balancer
// forwards: each group names its balancers. A re-read is
// DescribeLoadBalancers per 20 ARNs plus the same.
type loadBalancers struct {
	api    elbv2API
	region string
	narrow Narrow
}

var (
	_ Kind     = (*loadBalancers)(nil)
	_ Rereader = (*loadBalancers)(nil)
)

func newLoadBalancers(env Env) Kind {
	return &loadBalancers{api: elbv2.NewFromConfig(env.AWS), region: env.AWS.Region, narrow: env.Narrow}
}

// elbBatch is the most ARNs DescribeLoadBalancers and DescribeTags take.
const elbBatch = 20

// List lists the region's balancers.
func (k *loadBalancers) List(ctx context.Context) ([]plan.Resource, error) {
	var lbs []elbtypes.LoadBalancer
	p := elbv2.NewDescribeLoadBalancersPaginator(k.api, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe load balancers: %w", err)
		}
		lbs = append(lbs, page.LoadBalancers...)
	}
	return k.resources(ctx, lbs)
}

// Get re-reads one balancer.
func (k *loadBalancers) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads balancers by ARN, 20 a call, with their deletion
// protection: moto deletes a protected balancer (SPEC §11), so the veto is
// broom's own and must be as fresh as the delete.
func (k *loadBalancers) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	var lbs []elbtypes.LoadBalancer
	for chunk := range slices.Chunk(ids, elbBatch) {
		got, err := k.describeArns(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", naming("load balancer", "load balancers", chunk), err)
		}
		lbs = append(lbs, got...)
	}
	// A re-read ignores the listing's narrowing: what it leaves out would
	// read as gone, and a delete of it as already done.
	whole := *k
	whole.narrow = Narrow{}
	rs, err := whole.resources(ctx, lbs)
	if err != nil {
		return nil, err
	}
	out := map[string]plan.Resource{}
	for _, r := range rs {
		if slices.Contains(ids, r.ID) {
			out[r.ID] = r
		}
	}
	return out, nil
}

// describeArns describes balancers by ARN. AWS fails the whole call for one
// missing ARN, so then each is asked alone and the missing left out.
func (k *loadBalancers) describeArns(ctx context.Context, arns []string) ([]elbtypes.LoadBalancer, error) {
	out, err := k.api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: arns})
	switch {
	case isCode(err, "LoadBalancerNotFound") && len(arns) > 1:
		var lbs []elbtypes.LoadBalancer
		for _, arn := range arns {
			got, err := k.describeArns(ctx, []string{arn})
			if err != nil {
				return nil, err
			}
			lbs = append(lbs, got...)
		}
		return lbs, nil
	case isCode(err, "LoadBalancerNotFound"):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return out.LoadBalancers, nil
}

// tags reads the balancers' tags, 20 a call; a balancer gone since it was
// listed is left out (an untagged one has an empty map).
func (k *loadBalancers) tags(ctx context.Context, arns []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for chunk := range slices.Chunk(arns, elbBatch) {
		got, err := k.api.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: chunk})
		if isCode(err, "LoadBalancerNotFound") && len(chunk) > 1 {
			for _, arn := range chunk {
				one, err := k.tags(ctx, []string{arn})
				if err != nil {
					return nil, err
				}
				maps.Copy(out, one)
			}
			continue
		}
		if isCode(err, "LoadBalancerNotFound") {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe tags of %s: %w", naming("load balancer", "load balancers", chunk), err)
		}
		for _, arn := range chunk {
			out[arn] = map[string]string{}
		}
		for _, d := range got.TagDescriptions {
			for _, t := range d.Tags {
				out[aws.ToString(d.ResourceArn)][aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
	}
	return out, nil
}

// resources turns described balancers into resources with their facts,
// leaving out gateways, those the listing's tags exclude, and those gone
// meanwhile.
func (k *loadBalancers) resources(ctx context.Context, lbs []elbtypes.LoadBalancer) ([]plan.Resource, error) {
	lbs = slices.DeleteFunc(lbs, func(lb elbtypes.LoadBalancer) bool {
		return lb.Type != elbtypes.LoadBalancerTypeEnumApplication && lb.Type != elbtypes.LoadBalancerTypeEnumNetwork
	})
	arns := make([]string, len(lbs))
	for i, lb := range lbs {
		arns[i] = aws.ToString(lb.LoadBalancerArn)
	}
	tags, err := k.tags(ctx, arns)
	if err != nil {
		return nil, err
	}
	groups := &targetGroups{api: k.api}
	var out []plan.Resource
	for _, lb := range lbs {
		t, ok := tags[aws.ToString(lb.LoadBalancerArn)]
		if !ok || !k.admits(t) {
			continue
		}
		r, found, err := k.resource(ctx, lb, t, groups)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, r)
		}
	}
	return out, nil
}

// admits says whether tags have every tag the narrowing requires: ELBv2
// cannot filter by tag, so this spares the per-balancer calls.
func (k *loadBalancers) admits(tags map[string]string) bool {
	for key, v := range k.narrow.Tags {
		if got, ok := tags[key]; !ok || (v != "*" && got != v) {
			return false
		}
	}
	return true
}

// resource reads one balancer's facts; found is false when it is gone.
func (k *loadBalancers) resource(ctx context.Context, lb elbtypes.LoadBalancer, tags map[string]string, groups *targetGroups) (plan.Resource, bool, error) {
	arn := aws.ToString(lb.LoadBalancerArn)
	var state elbtypes.LoadBalancerStateEnum
	if lb.State != nil {
		state = lb.State.Code
	}
	r := plan.Resource{
		ID:      arn,
		Name:    aws.ToString(lb.LoadBalancerName),
		Created: aws.ToTime(lb.CreatedTime),
		Tags:    tags,
		Flags:   map[string]bool{},
		Details: map[string]string{"type": string(lb.Type)},
	}
	if lb.Scheme != "" {
		r.Details["scheme"] = string(lb.Scheme)
	}
	if !r.Created.IsZero() {
		r.Details["created"] = r.Created.UTC().Format("2006-01-02")
	}
	// Base hours only: LCUs (ALB) and NLCUs (NLB) are billed on top.
	r.MonthlyCostUSD = monthly(r.Details, lbHourly[string(lb.Type)], k.region, 730)
	if state != elbtypes.LoadBalancerStateEnumActive {
		r.InUse, r.Details["state"] = "state "+string(state), string(state)
		return r, true, nil
	}
	unused, use, found, err := k.usage(ctx, arn, groups)
	if !found || err != nil {
		return r, found, err
	}
	r.Flags["unused"] = unused
	r.Details["use"] = use
	if want, ok := k.narrow.Flags["unused"]; ok && want != unused {
		return r, true, nil // no rule of this listing acts on it: no veto to read
	}
	protected, found, err := k.deletionProtection(ctx, arn)
	if protected {
		r.InUse = "deletion protection enabled"
	}
	return r, found, err
}

// usage says whether the balancer is unused (no listener, or no registered
// target in any target group of its listeners) and why. A listener that
// redirects or answers by itself serves traffic without targets: in use.
func (k *loadBalancers) usage(ctx context.Context, arn string, groups *targetGroups) (unused bool, why string, found bool, err error) {
	listeners := 0
	lp := elbv2.NewDescribeListenersPaginator(k.api, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(arn), PageSize: aws.Int32(400)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if isCode(err, "LoadBalancerNotFound") {
			return false, "", false, nil
		}
		if err != nil {
			return false, "", false, fmt.Errorf("describe listeners of %s: %w", arn, err)
		}
		for _, l := range page.Listeners {
			listeners++
			for _, a := range l.DefaultActions {
				if a.Type == elbtypes.ActionTypeEnumRedirect || a.Type == elbtypes.ActionTypeEnumFixedResponse {
					return false, fmt.Sprintf("listener on port %d answers with %s", aws.ToInt32(l.Port), a.Type), true, nil
				}
			}
		}
	}
	if listeners == 0 {
		return true, "no listener", true, nil
	}
	byBalancer, err := groups.byBalancer(ctx)
	if err != nil {
		return false, "", false, err
	}
	for _, tg := range byBalancer[arn] {
		n, err := groups.targets(ctx, tg)
		if err != nil {
			return false, "", false, err
		}
		if n > 0 {
			return false, fmt.Sprintf("registered targets in %s: %d", aws.ToString(tg.TargetGroupName), n), true, nil
		}
	}
	return true, "no registered target", true, nil
}

// targetGroups is the region's target groups by the balancers that use
// them, read on first need with one paged DescribeTargetGroups, and the
// targets counted in each so far: one listing for every balancer of a
// listing or re-read, not one call per balancer.
type targetGroups struct {
	api     elbv2API
	groups  map[string][]elbtypes.TargetGroup // by balancer ARN; nil until read
	counted map[string]int                    // registered targets, by group ARN
}

// byBalancer lists the region's target groups, once, by balancer ARN.
func (g *targetGroups) byBalancer(ctx context.Context) (map[string][]elbtypes.TargetGroup, error) {
	if g.groups != nil {
		return g.groups, nil
	}
	groups := map[string][]elbtypes.TargetGroup{}
	p := elbv2.NewDescribeTargetGroupsPaginator(g.api, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		// Unfiltered: asked by balancer, moto answers TargetGroupNotFound
		// for a balancer without groups where AWS answers an empty list.
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			for _, lb := range tg.LoadBalancerArns {
				groups[lb] = append(groups[lb], tg)
			}
		}
	}
	g.groups = groups
	return groups, nil
}

// targets counts the targets registered in tg; a group deleted meanwhile
// has none.
func (g *targetGroups) targets(ctx context.Context, tg elbtypes.TargetGroup) (int, error) {
	arn := aws.ToString(tg.TargetGroupArn)
	if n, ok := g.counted[arn]; ok {
		return n, nil
	}
	h, err := g.api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	n := 0
	switch {
	case isCode(err, "TargetGroupNotFound"):
	case err != nil:
		return 0, fmt.Errorf("describe target health of %s: %w", arn, err)
	default:
		n = len(h.TargetHealthDescriptions)
	}
	if g.counted == nil {
		g.counted = map[string]int{}
	}
	g.counted[arn] = n
	return n, nil
}

// deletionProtection reads the balancer's deletion_protection.enabled.
func (k *loadBalancers) deletionProtection(ctx context.Context, arn string) (on, found bool, err error) {
	out, err := k.api.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	if isCode(err, "LoadBalancerNotFound") {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("describe attributes of %s: %w", arn, err)
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == "deletion_protection.enabled" && aws.ToString(a.Value) == "true" {
			return true, true, nil
		}
	}
	return false, true, nil
}

// Do deletes the balancer. Its deletion protection was re-read just
// before (GetMany); AWS itself refuses if it was turned on since.
func (k *loadBalancers) Do(ctx context.Context, a plan.Action) error {
	if a.Op != plan.Delete {
		return fmt.Errorf("load-balancer cannot %s", a.Op)
	}
	_, err := k.api.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(a.ID)})
	if isCode(err, "LoadBalancerNotFound") {
		return fmt.Errorf("delete load balancer %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete load balancer %s: %w", a.ID, err)
	}
	return nil
}

// loadBalancerSpec is the kind's registry entry.
var loadBalancerSpec = Spec{
	Name:    "load-balancer",
	New:     newLoadBalancers,
	Actions: map[string][]string{"delete": {"unused", "older-than", "tags", "name"}},
	IAM: map[string]Access{"delete": {
		// ELBv2's Describe calls take no resource ARNs.
		Plan: []Grant{{Sid: "ReadLoadBalancers", Resources: []string{"*"}, Actions: []string{
			"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags",
			"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups",
			"elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeLoadBalancerAttributes",
		}}},
		// Only on balancers with the rule's where-tags (aws:ResourceTag).
		Apply: []Grant{{Sid: "DeleteLoadBalancers", Actions: []string{"elasticloadbalancing:DeleteLoadBalancer"},
			Resources:        []string{"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*"},
			RuleResourceTags: true}},
	}},
}

// lbHourly is the base price per hour of a balancer, by type (Elastic Load
// Balancing price list, aws.amazon.com/elasticloadbalancing/pricing,
// on-demand; written down 2026-12-04 without a live look, as no machine
// here reaches it); a month is 730 hours. LCU-hours (ALB) and NLCU-hours
// (NLB) come on top and are not counted.
var lbHourly = map[string]regionPrices{
	"application": {"us-east-1": 0.0225, "us-east-2": 0.0225, "us-west-2": 0.0225, "eu-west-1": 0.0252, "eu-central-1": 0.027},
	"network":     {"us-east-1": 0.0225, "us-east-2": 0.0225, "us-west-2": 0.0225, "eu-west-1": 0.0252, "eu-central-1": 0.027},
}
