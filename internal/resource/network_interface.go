package resource

import (
	"cmp"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2InterfaceAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2InterfaceAPI interface {
	ec2.DescribeNetworkInterfacesAPIClient
	ec2.DescribeNatGatewaysAPIClient
	DeleteNetworkInterface(context.Context, *ec2.DeleteNetworkInterfaceInput, ...func(*ec2.Options)) (*ec2.DeleteNetworkInterfaceOutput, error)
}

type networkInterfaces struct {
	api    ec2InterfaceAPI
	region string
	narrow Narrow
}

var (
	_ Kind     = (*networkInterfaces)(nil)
	_ Rereader = (*networkInterfaces)(nil)
)

func newNetworkInterfaces(env Env) Kind {
	return &networkInterfaces{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, narrow: env.Narrow}
}

// List lists the region's network interfaces.
func (k *networkInterfaces) List(ctx context.Context) ([]plan.Resource, error) {
	filters := k.narrow.ec2Filters()
	if unattached, ok := k.narrow.Flags["unattached"]; ok && unattached {
		filters = append(filters, types.Filter{Name: aws.String("status"), Values: []string{string(types.NetworkInterfaceStatusAvailable)}})
	}
	return k.describe(ctx, "network interfaces", filters)
}

// Get re-reads one interface.
func (k *networkInterfaces) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads interfaces with one filtered DescribeNetworkInterfaces
// (and the NAT gateways, as List does).
func (k *networkInterfaces) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	got, err := k.describe(ctx, naming("network interface", "network interfaces", ids), byFilter("network-interface-id", ids...))
	if err != nil {
		return nil, err
	}
	out := map[string]plan.Resource{}
	for _, r := range got {
		out[r.ID] = r
	}
	return out, nil
}

// describe reads the interfaces that match filters (what names them in an
// error), with the NAT gateways that own any of them.
func (k *networkInterfaces) describe(ctx context.Context, what string, filters []types.Filter) ([]plan.Resource, error) {
	var found []types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(k.api, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(1000), Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", what, err)
		}
		found = append(found, page.NetworkInterfaces...)
	}
	if len(found) == 0 {
		return nil, nil
	}
	nats, err := k.natInterfaces(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Resource, 0, len(found))
	for _, n := range found {
		r := interfaceResource(n, k.region)
		if nat := nats[r.ID]; nat != "" && r.InUse == "" {
			r.InUse = "interface of NAT gateway " + nat
		}
		out = append(out, r)
	}
	return out, nil
}

// natInterfaces maps the interfaces of the region's NAT gateways to their
// gateway. AWS marks such an interface requester-managed and in-use, which
// already vetoes it; moto (5.2) shows it available, of type interface and
// not requester-managed, with no description, so only the gateway itself
// says whose it is. Asking costs one read and keeps a NAT gateway's
// interface safe wherever its own facts are wrong.
func (k *networkInterfaces) natInterfaces(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	p := ec2.NewDescribeNatGatewaysPaginator(k.api, &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe NAT gateways: %w", err)
		}
		for _, g := range page.NatGateways {
			for _, a := range g.NatGatewayAddresses {
				if id := aws.ToString(a.NetworkInterfaceId); id != "" {
					out[id] = aws.ToString(g.NatGatewayId)
				}
			}
		}
	}
	return out, nil
}

// Do deletes the interface.
func (k *networkInterfaces) Do(ctx context.Context, a plan.Action) error {
	if a.Op != plan.Delete {
		return fmt.Errorf("network-interface cannot %s", a.Op)
	}
	_, err := k.api.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(a.ID)})
	if isCode(err, "InvalidNetworkInterfaceID.NotFound") {
		return fmt.Errorf("delete network interface %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete network interface %s: %w", a.ID, err)
	}
	return nil
}

// interfaceResource states the facts of one interface. Load balancers, NAT
// gateways, Lambda, VPC endpoints and other services create interfaces
// for themselves: AWS marks them requester-managed or gives them a type
// other than "interface", and deleting one would break its service, so
// either vetoes the interface, as does an attachment.
func interfaceResource(n types.NetworkInterface, region string) plan.Resource {
	r := plan.Resource{
		ID:      aws.ToString(n.NetworkInterfaceId),
		Tags:    tagMap(n.TagSet),
		Flags:   map[string]bool{"unattached": n.Status == types.NetworkInterfaceStatusAvailable},
		Details: map[string]string{"subnet": aws.ToString(n.SubnetId)},
	}
	r.Name = r.Tags["Name"]
	// The usual status and type go without saying: the row stays narrow.
	if n.Status != types.NetworkInterfaceStatusAvailable {
		r.Details["status"] = string(n.Status)
	}
	if n.InterfaceType != types.NetworkInterfaceTypeInterface {
		r.Details["type"] = string(n.InterfaceType)
	}
	if d := aws.ToString(n.Description); d != "" {
		r.Details["description"] = d
	}
	switch {
	case aws.ToBool(n.RequesterManaged):
		r.InUse = "requester-managed by " + aws.ToString(n.RequesterId)
	case n.InterfaceType != types.NetworkInterfaceTypeInterface:
		r.InUse = "type " + cmp.Or(string(n.InterfaceType), "not stated") + ", not interface"
	case n.Attachment != nil:
		with := aws.ToString(n.Attachment.InstanceId)
		if with == "" {
			with = aws.ToString(n.Attachment.InstanceOwnerId)
		}
		r.InUse = "attached to " + with
		r.Details["attached"] = with
	case n.Status != types.NetworkInterfaceStatusAvailable:
		r.InUse = "status " + string(n.Status)
	}
	if as := n.Association; as != nil && aws.ToString(as.PublicIp) != "" {
		r.Details["public-ip"] = aws.ToString(as.PublicIp)
		// An Elastic IP outlives the interface (it is only disassociated,
		// and billed as before); any other public address goes with it.
		if eip := aws.ToString(as.AllocationId); eip != "" {
			r.Details["public-ip"] += " (Elastic IP " + eip + ", stays allocated)"
		} else {
			r.MonthlyCostUSD = monthly(r.Details, addressPrices, region, 1)
		}
	}
	return r
}

// networkInterfaceSpec is the kind's registry entry.
var networkInterfaceSpec = Spec{
	Name:    "network-interface",
	New:     newNetworkInterfaces,
	Actions: map[string][]string{"delete": {"unattached", "tags", "name"}},
	IAM: map[string]Access{
		"delete": {
			Plan:  []Grant{readEC2("ec2:DescribeNetworkInterfaces", "ec2:DescribeNatGateways")},
			Apply: []Grant{{Sid: "DeleteNetworkInterfaces", Actions: []string{"ec2:DeleteNetworkInterface"}, Resources: []string{arnNetworkInterface}, RuleResourceTags: true}},
		},
	},
}

const arnNetworkInterface = "arn:aws:ec2:*:*:network-interface/*"
