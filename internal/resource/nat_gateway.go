package resource

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2NATAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2NATAPI interface {
	ec2.DescribeNatGatewaysAPIClient
	ec2.DescribeRouteTablesAPIClient
	DeleteNatGateway(context.Context, *ec2.DeleteNatGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteNatGatewayOutput, error)
}

type natGateways struct {
	api    ec2NATAPI
	region string
	narrow Narrow
}

var (
	_ Kind     = (*natGateways)(nil)
	_ Rereader = (*natGateways)(nil)
)

func newNATGateways(env Env) Kind {
	return &natGateways{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, narrow: env.Narrow}
}

// List lists the region's available gateways; pending, failed, deleting
// and deleted ones are never acted on, so they are not asked for. (moto
// ignores tag filters on DescribeNatGateways; AWS applies them. Either way
// policy matches the tags.)
func (k *natGateways) List(ctx context.Context) ([]plan.Resource, error) {
	filters := append(byFilter("state", string(types.NatGatewayStateAvailable)), k.narrow.ec2Filters()...)
	found, err := k.describe(ctx, filters, "describe NAT gateways")
	if err != nil || len(found) == 0 {
		return nil, err
	}
	routes, err := k.routes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Resource, 0, len(found))
	for _, g := range found {
		out = append(out, k.gatewayResource(g, routes))
	}
	return out, nil
}

// Get re-reads one gateway and the routes that target it.
func (k *natGateways) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads gateways with one filtered DescribeNatGateways and, once
// for the batch, the route tables. A gateway deleting or deleted is gone.
func (k *natGateways) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	found, err := k.describe(ctx, byFilter("nat-gateway-id", ids...), "describe "+naming("NAT gateway", "NAT gateways", ids))
	if err != nil {
		return nil, err
	}
	found = slices.DeleteFunc(found, natGone)
	out := map[string]plan.Resource{}
	if len(found) == 0 {
		return out, nil
	}
	routes, err := k.routes(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range found {
		out[aws.ToString(g.NatGatewayId)] = k.gatewayResource(g, routes)
	}
	return out, nil
}

func (k *natGateways) describe(ctx context.Context, filters []types.Filter, what string) ([]types.NatGateway, error) {
	var out []types.NatGateway
	p := ec2.NewDescribeNatGatewaysPaginator(k.api, &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(1000), Filter: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, page.NatGateways...)
	}
	return out, nil
}

// natGone reports whether a gateway is, or is about to be, gone.
func natGone(g types.NatGateway) bool {
	return g.State == types.NatGatewayStateDeleting || g.State == types.NatGatewayStateDeleted
}

// routes maps each NAT gateway that a route targets to the route tables
// holding such routes: one paged listing for the region, not one per
// gateway.
func (k *natGateways) routes(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	p := ec2.NewDescribeRouteTablesPaginator(k.api, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe route tables: %w", err)
		}
		for _, rt := range page.RouteTables {
			for _, r := range rt.Routes {
				if nat, table := aws.ToString(r.NatGatewayId), aws.ToString(rt.RouteTableId); nat != "" && !slices.Contains(out[nat], table) {
					out[nat] = append(out[nat], table)
				}
			}
		}
	}
	return out, nil
}

// Do deletes the gateway. Its Elastic IP stays allocated: only an
// elastic-ip rule releases it. A gateway already deleting or deleted is
// gone (AWS lists it for about an hour after the delete): Do reads it
// first rather than rely on DeleteNatGateway's answer for one, which moto
// accepts again and fails with an internal error for an unknown id, where
// AWS answers NatGatewayNotFound.
func (k *natGateways) Do(ctx context.Context, a plan.Action) error {
	if a.Op != plan.Delete {
		return fmt.Errorf("nat-gateway cannot %s", a.Op)
	}
	found, err := k.describe(ctx, byFilter("nat-gateway-id", a.ID), "describe NAT gateway "+a.ID)
	if err != nil {
		return err
	}
	if len(slices.DeleteFunc(found, natGone)) == 0 {
		return fmt.Errorf("delete NAT gateway %s: %w", a.ID, ErrGone)
	}
	_, err = k.api.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: aws.String(a.ID)})
	if isCode(err, "NatGatewayNotFound") {
		return fmt.Errorf("delete NAT gateway %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete NAT gateway %s: %w", a.ID, err)
	}
	return nil
}

// gatewayResource is a gateway's facts; routes is what routes() read.
func (k *natGateways) gatewayResource(g types.NatGateway, routes map[string][]string) plan.Resource {
	id := aws.ToString(g.NatGatewayId)
	r := plan.Resource{
		ID:      id,
		Created: aws.ToTime(g.CreateTime),
		Tags:    tagMap(g.Tags),
		Flags:   map[string]bool{"unused": len(routes[id]) == 0},
		Details: map[string]string{"vpc": aws.ToString(g.VpcId)},
	}
	r.Name = r.Tags["Name"]
	if !r.Created.IsZero() {
		r.Details["created"] = r.Created.UTC().Format("2006-01-02")
	}
	if g.State != types.NatGatewayStateAvailable {
		r.InUse = "state " + string(g.State) + ", not available"
	}
	if len(routes[id]) > 0 {
		r.Details["routed by"] = strings.Join(routes[id], ", ")
	}
	// The row says which addresses stay allocated, and keep costing, after
	// the delete: an elastic-ip rule releases them, never this kind.
	var eips []string
	for _, a := range g.NatGatewayAddresses {
		if a.AllocationId != nil {
			eips = append(eips, fmt.Sprintf("%s (%s)", aws.ToString(a.AllocationId), aws.ToString(a.PublicIp)))
		}
	}
	if len(eips) > 0 {
		r.Details["leaves Elastic IP"] = strings.Join(eips, ", ")
	}
	r.MonthlyCostUSD = monthly(r.Details, natPrices, k.region, 1)
	return r
}

// natGatewaySpec is the kind's registry entry.
var natGatewaySpec = Spec{
	Name:    "nat-gateway",
	New:     newNATGateways,
	Actions: map[string][]string{"delete": {"unused", "older-than", "tags", "name"}},
	IAM: map[string]Access{
		"delete": {
			Plan:  []Grant{readEC2("ec2:DescribeNatGateways", "ec2:DescribeRouteTables")},
			Apply: []Grant{{Sid: "DeleteNatGateways", Actions: []string{"ec2:DeleteNatGateway"}, Resources: []string{arnNATGateway}, RuleResourceTags: true}},
		},
	},
}

const arnNATGateway = "arn:aws:ec2:*:*:natgateway/*"

// natPrices is per month (730 hours) of a NAT gateway's hourly charge
// (Amazon VPC price list, NAT gateway, 2026-11-25): us-east-1 $0.045 an
// hour. Data processed ($0.045 per GB in us-east-1) is charged on top and
// not counted here.
var natPrices = regionPrices{
	"us-east-1":    0.045 * 730,
	"us-east-2":    0.045 * 730,
	"us-west-2":    0.045 * 730,
	"eu-west-1":    0.048 * 730,
	"eu-central-1": 0.052 * 730,
}
