package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2AddressAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2AddressAPI interface {
	DescribeAddresses(context.Context, *ec2.DescribeAddressesInput, ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error)
	ReleaseAddress(context.Context, *ec2.ReleaseAddressInput, ...func(*ec2.Options)) (*ec2.ReleaseAddressOutput, error)
	ec2TagAPI
}

type elasticIPs struct {
	api    ec2AddressAPI
	region string
	ref    string
	narrow Narrow
}

var (
	_ Kind     = (*elasticIPs)(nil)
	_ Rereader = (*elasticIPs)(nil)
)

func newElasticIPs(env Env) Kind {
	return &elasticIPs{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow}
}

// List lists the region's VPC addresses (DescribeAddresses is not paged).
func (k *elasticIPs) List(ctx context.Context) ([]plan.Resource, error) {
	out, err := k.api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: k.narrow.ec2Filters()})
	if err != nil {
		return nil, fmt.Errorf("describe addresses: %w", err)
	}
	var res []plan.Resource
	for _, a := range out.Addresses {
		if a.AllocationId != nil { // EC2-Classic addresses are gone from AWS
			res = append(res, k.addressResource(a))
		}
	}
	return res, nil
}

// Get re-reads one address by allocation id.
func (k *elasticIPs) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads addresses with one filtered DescribeAddresses.
func (k *elasticIPs) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	got, err := k.api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: byFilter("allocation-id", ids...)})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", naming("address", "addresses", ids), err)
	}
	out := map[string]plan.Resource{}
	for _, a := range got.Addresses {
		out[aws.ToString(a.AllocationId)] = k.addressResource(a)
	}
	return out, nil
}

// Do releases or tags the address.
func (k *elasticIPs) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case plan.Delete:
	default:
		return fmt.Errorf("elastic-ip cannot %s", a.Op)
	}
	_, err := k.api.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(a.ID)})
	if isCode(err, "InvalidAllocationID.NotFound") {
		return fmt.Errorf("release address %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("release address %s: %w", a.ID, err)
	}
	return nil
}

func (k *elasticIPs) addressResource(a types.Address) plan.Resource {
	r := plan.Resource{
		ID:      aws.ToString(a.AllocationId),
		Tags:    tagMap(a.Tags),
		Flags:   map[string]bool{"unassociated": a.AssociationId == nil},
		Details: map[string]string{"ip": aws.ToString(a.PublicIp)},
	}
	r.Name = r.Tags["Name"]
	if a.AssociationId != nil {
		with := aws.ToString(a.InstanceId)
		if with == "" {
			with = aws.ToString(a.NetworkInterfaceId)
		}
		r.InUse = "associated with " + with
		r.Details["associated"] = with
	}
	r.MonthlyCostUSD = monthly(r.Details, addressPrices, k.region, 1)
	return r
}

// elasticIPSpec is the kind's registry entry.
var elasticIPSpec = Spec{
	Name:    "elastic-ip",
	New:     newElasticIPs,
	Actions: map[string][]string{"delete": {"unassociated", "tags", "name"}, "tag": append([]string{"unassociated"}, tagUndated...)},
	IAM: map[string]Access{
		"delete": {Plan: []Grant{readEC2("ec2:DescribeAddresses")}, Apply: []Grant{{Sid: "ReleaseAddresses", Actions: []string{"ec2:ReleaseAddress"}, Resources: []string{arnAddress}, RuleResourceTags: true}}},
		"tag":    {Plan: []Grant{readEC2("ec2:DescribeAddresses")}, Apply: []Grant{tagEC2Grant("TagAddresses", arnAddress)}},
	},
}

const arnAddress = "arn:aws:ec2:*:*:elastic-ip/*"

// addressPrices is per month (730 hours) of a public IPv4 address at
// $0.005 an hour, the same in every region (Amazon VPC price list,
// 2026-11-25).
var addressPrices = regionPrices{"us-east-1": 3.65}
