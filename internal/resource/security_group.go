package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2SecurityGroupAPI is the part of EC2 this kind uses; *ec2.Client
// satisfies it.
type ec2SecurityGroupAPI interface {
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeNetworkInterfacesAPIClient
	DeleteSecurityGroup(context.Context, *ec2.DeleteSecurityGroupInput, ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
}

type securityGroups struct {
	api    ec2SecurityGroupAPI
	narrow Narrow
}

var (
	_ Kind     = (*securityGroups)(nil)
	_ Rereader = (*securityGroups)(nil)
)

func newSecurityGroups(env Env) Kind {
	return &securityGroups{api: ec2.NewFromConfig(env.AWS), narrow: env.Narrow}
}

// sgUsers is what uses each group, by group id: the network interfaces it
// is on, and the other groups whose rules reference it.
type sgUsers struct {
	interfaces, referrers map[string][]string
}

// List lists the region's groups and what uses each: one listing of every
// network interface, and the rules of every group.
func (k *securityGroups) List(ctx context.Context) ([]plan.Resource, error) {
	filters := k.narrow.ec2Filters()
	groups, err := k.groups(ctx, filters)
	if err != nil {
		return nil, err
	}
	u := sgUsers{referrers: map[string][]string{}}
	if u.interfaces, err = k.interfaceGroups(ctx, nil); err != nil {
		return nil, err
	}
	// A narrowed listing lacks the groups outside it, whose rules may
	// reference those in it: then EC2 is asked for them by reference.
	if len(filters) == 0 {
		addReferrers(u.referrers, groups, nil)
	} else if err := k.referrers(ctx, u.referrers, groupIDs(groups)); err != nil {
		return nil, err
	}
	out := make([]plan.Resource, 0, len(groups))
	for _, g := range groups {
		out = append(out, groupResource(g, u))
	}
	return out, nil
}

// Get re-reads one group and what uses it.
func (k *securityGroups) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads groups and, for them alone, what uses them: the
// interfaces with one of them, the groups whose rules reference one of them
// (ingress and egress are a call each: EC2 ANDs the filters of one call).
func (k *securityGroups) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	out := map[string]plan.Resource{}
	groups, err := k.groups(ctx, byFilter("group-id", ids...))
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return out, nil
	}
	found := groupIDs(groups)
	u := sgUsers{referrers: map[string][]string{}}
	if u.interfaces, err = k.interfaceGroups(ctx, byFilter("group-id", found...)); err != nil {
		return nil, err
	}
	if err := k.referrers(ctx, u.referrers, found); err != nil {
		return nil, err
	}
	for _, g := range groups {
		out[aws.ToString(g.GroupId)] = groupResource(g, u)
	}
	return out, nil
}

// Do deletes the group.
func (k *securityGroups) Do(ctx context.Context, a plan.Action) error {
	if a.Op != plan.Delete {
		return fmt.Errorf("security-group cannot %s", a.Op)
	}
	_, err := k.api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(a.ID)})
	switch {
	case isCode(err, "InvalidGroup.NotFound"):
		return fmt.Errorf("delete security group %s: %w", a.ID, ErrGone)
	case isCode(err, "DependencyViolation"):
		// Something depends on it that the re-read did not see: a rule in
		// a peered VPC or another account, or one made since. Not wrapped:
		// the report shows a wrapped AWS error as its code and message
		// alone, and AWS's says only "has a dependent object".
		var apiErr smithy.APIError
		errors.As(err, &apiErr)
		return fmt.Errorf("delete security group %s: still in use: a network interface uses it or a rule references it, maybe one broom cannot see (a peered VPC, another account) (%s: %s)",
			a.ID, apiErr.ErrorCode(), apiErr.ErrorMessage())
	case err != nil:
		return fmt.Errorf("delete security group %s: %w", a.ID, err)
	}
	return nil
}

// groups lists the groups that filters select, every page.
func (k *securityGroups) groups(ctx context.Context, filters []types.Filter) ([]types.SecurityGroup, error) {
	var out []types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(k.api, &ec2.DescribeSecurityGroupsInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

// interfaceGroups maps group ids to the interfaces (of those filters
// select) that have the group.
func (k *securityGroups) interfaceGroups(ctx context.Context, filters []types.Filter) (map[string][]string, error) {
	out := map[string][]string{}
	p := ec2.NewDescribeNetworkInterfacesPaginator(k.api, &ec2.DescribeNetworkInterfacesInput{Filters: filters, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe network interfaces: %w", err)
		}
		for _, ni := range page.NetworkInterfaces {
			for _, g := range ni.Groups {
				id := aws.ToString(g.GroupId)
				out[id] = append(out[id], aws.ToString(ni.NetworkInterfaceId))
			}
		}
	}
	return out, nil
}

// referrers adds to refs the groups whose ingress or egress rules
// reference one of ids, asking EC2 for them, sgFilterBatch ids a call.
func (k *securityGroups) referrers(ctx context.Context, refs map[string][]string, ids []string) error {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for batch := range slices.Chunk(ids, sgFilterBatch) {
		for _, f := range []string{"ip-permission.group-id", "egress.ip-permission.group-id"} {
			groups, err := k.groups(ctx, byFilter(f, batch...))
			if err != nil {
				return err
			}
			addReferrers(refs, groups, want)
		}
	}
	return nil
}

// sgFilterBatch is how many values one EC2 filter takes at most.
const sgFilterBatch = 200

// addReferrers adds to refs, for each group a rule of groups references
// (of want only, unless it is nil), the group whose rule it is. A group's
// reference to itself does not count: it keeps nothing else in use.
func addReferrers(refs map[string][]string, groups []types.SecurityGroup, want map[string]bool) {
	for _, g := range groups {
		from := aws.ToString(g.GroupId)
		for _, perm := range slices.Concat(g.IpPermissions, g.IpPermissionsEgress) {
			for _, pair := range perm.UserIdGroupPairs {
				to := aws.ToString(pair.GroupId)
				if to != from && (want == nil || want[to]) && !slices.Contains(refs[to], from) {
					refs[to] = append(refs[to], from)
				}
			}
		}
	}
}

func groupIDs(groups []types.SecurityGroup) []string {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = aws.ToString(g.GroupId)
	}
	return ids
}

// groupResource is a group's facts. It saves nothing when deleted (no
// MonthlyCostUSD): hygiene, and fewer groups against the VPC's quota.
func groupResource(g types.SecurityGroup, u sgUsers) plan.Resource {
	id := aws.ToString(g.GroupId)
	ifaces, refs := u.interfaces[id], u.referrers[id]
	r := plan.Resource{
		ID:      id,
		Name:    aws.ToString(g.GroupName),
		Tags:    tagMap(g.Tags),
		Flags:   map[string]bool{"unused": len(ifaces) == 0 && len(refs) == 0},
		Details: map[string]string{"vpc": aws.ToString(g.VpcId)},
	}
	if len(ifaces) > 0 {
		r.Details["used by"] = someIDs(ifaces)
	}
	if len(refs) > 0 {
		r.Details["referenced by"] = someIDs(refs)
	}
	// Every VPC has one, which AWS refuses to delete; no other group may
	// be called "default". A group in use is left alone whatever the rule
	// says, as an attached volume is: AWS would refuse it (DependencyViolation)
	// and the apply would end partial.
	switch {
	case r.Name == "default":
		r.InUse = "the default group of " + aws.ToString(g.VpcId) + " (AWS refuses to delete it)"
	case len(ifaces) > 0:
		r.InUse = "used by " + r.Details["used by"]
	case len(refs) > 0:
		r.InUse = "referenced by the rules of " + r.Details["referenced by"]
	}
	return r
}

// someIDs names a few of ids, in order, and how many there are.
func someIDs(ids []string) string {
	ids = slices.Sorted(slices.Values(ids))
	if len(ids) <= 3 {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:3], ", "), len(ids)-3)
}

// securityGroupSpec is the kind's registry entry. Deleting a group saves
// nothing, so it has no price table.
var securityGroupSpec = Spec{
	Name:    "security-group",
	New:     newSecurityGroups,
	Actions: map[string][]string{"delete": {"unused", "tags", "name"}},
	IAM: map[string]Access{
		"delete": {
			Plan:  []Grant{readEC2("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces")},
			Apply: []Grant{{Sid: "DeleteSecurityGroups", Actions: []string{"ec2:DeleteSecurityGroup"}, Resources: []string{"arn:aws:ec2:*:*:security-group/*"}, RuleResourceTags: true}},
		},
	},
}
