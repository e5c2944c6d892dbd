package resource

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2SnapshotAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2SnapshotAPI interface {
	ec2.DescribeSnapshotsAPIClient
	ec2.DescribeImagesAPIClient
	ec2TagAPI
	DeleteSnapshot(context.Context, *ec2.DeleteSnapshotInput, ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

type ebsSnapshots struct {
	api    ec2SnapshotAPI
	region string
	ref    string // broom:change
	narrow Narrow
}

var (
	_ Kind     = (*ebsSnapshots)(nil)
	_ Rereader = (*ebsSnapshots)(nil)
	_ Pager    = (*ebsSnapshots)(nil)
)

func newEBSSnapshots(env Env) Kind {
	return &ebsSnapshots{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow}
}

var self = []string{"self"}

// List lists the account's own snapshots and marks those that back one of
// its AMIs as in use.
func (k *ebsSnapshots) List(ctx context.Context) ([]plan.Resource, error) {
	var out []plan.Resource
	if err := k.ListPages(ctx, func(page []plan.Resource) error {
		out = append(out, page...)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPages is List a page of DescribeSnapshots at a time (1,000
// snapshots): an account of backups may hold tens of thousands.
func (k *ebsSnapshots) ListPages(ctx context.Context, each func([]plan.Resource) error) error {
	backing, err := k.amiSnapshots(ctx)
	if err != nil {
		return err
	}
	p := ec2.NewDescribeSnapshotsPaginator(k.api, &ec2.DescribeSnapshotsInput{OwnerIds: self, MaxResults: aws.Int32(1000), Filters: k.narrow.ec2Filters()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe snapshots: %w", err)
		}
		out := make([]plan.Resource, 0, len(page.Snapshots))
		for _, s := range page.Snapshots {
			out = append(out, snapshotResource(s, backing, k.region))
		}
		if err := each(out); err != nil {
			return err
		}
	}
	return nil
}

// amiSnapshots maps snapshot ids to the AMI each backs, for the account's
// own images. (The block-device-mapping.snapshot-id filter would narrow this
// for one snapshot, but moto does not implement it; accounts own few AMIs.)
func (k *ebsSnapshots) amiSnapshots(ctx context.Context) (map[string]string, error) {
	in := &ec2.DescribeImagesInput{Owners: self, MaxResults: aws.Int32(1000)}
	backing := map[string]string{}
	p := ec2.NewDescribeImagesPaginator(k.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe images: %w", err)
		}
		for _, img := range page.Images {
			for _, m := range img.BlockDeviceMappings {
				if m.Ebs != nil && m.Ebs.SnapshotId != nil {
					backing[*m.Ebs.SnapshotId] = aws.ToString(img.ImageId)
				}
			}
		}
	}
	return backing, nil
}

// Get re-reads one snapshot and whether an AMI uses it now.
func (k *ebsSnapshots) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads snapshots and whether an AMI uses each now: one
// filtered DescribeSnapshots and one DescribeImages for the whole batch.
func (k *ebsSnapshots) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	out := map[string]plan.Resource{}
	var found []types.Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(k.api, &ec2.DescribeSnapshotsInput{OwnerIds: self, MaxResults: aws.Int32(1000), Filters: byFilter("snapshot-id", ids...)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", naming("snapshot", "snapshots", ids), err)
		}
		found = append(found, page.Snapshots...)
	}
	if len(found) == 0 {
		return out, nil
	}
	backing, err := k.amiSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range found {
		out[aws.ToString(s.SnapshotId)] = snapshotResource(s, backing, k.region)
	}
	return out, nil
}

// Do deletes or tags the snapshot.
func (k *ebsSnapshots) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case plan.Delete:
	default:
		return fmt.Errorf("ebs-snapshot cannot %s", a.Op)
	}
	_, err := k.api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(a.ID)})
	if isCode(err, "InvalidSnapshot.NotFound") {
		return fmt.Errorf("delete snapshot %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete snapshot %s: %w", a.ID, err)
	}
	return nil
}

func snapshotResource(s types.Snapshot, backing map[string]string, region string) plan.Resource {
	id := aws.ToString(s.SnapshotId)
	r := plan.Resource{
		ID:      id,
		Created: aws.ToTime(s.StartTime),
		Tags:    tagMap(s.Tags),
		Details: map[string]string{"size": fmt.Sprintf("%d GiB", aws.ToInt32(s.VolumeSize))},
	}
	r.Name = r.Tags["Name"]
	if !r.Created.IsZero() {
		r.Details["created"] = r.Created.UTC().Format("2006-01-02")
	}
	r.MonthlyCostUSD = monthly(r.Details, snapshotPrices, region, float64(aws.ToInt32(s.VolumeSize)))
	switch {
	case backing[id] != "":
		r.InUse = "backs AMI " + backing[id]
	case hasTagPrefix(r.Tags, "aws:backup:"):
		r.InUse = "managed by AWS Backup"
	}
	return r
}

func tagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func hasTagPrefix(tags map[string]string, prefix string) bool {
	for k := range tags {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// ebsSnapshotSpec is the kind's registry entry.
var ebsSnapshotSpec = Spec{
	Name:    "ebs-snapshot",
	New:     newEBSSnapshots,
	Actions: map[string][]string{"delete": {"older-than", "tags", "name"}, "tag": tagDated},
	IAM: func() map[string]Access {
		list := readEC2("ec2:DescribeSnapshots", "ec2:DescribeImages") // snapshots, and the AMIs they back
		return map[string]Access{
			"delete": {Plan: []Grant{list}, Apply: []Grant{deleteSnapshots}},
			"tag":    {Plan: []Grant{list}, Apply: []Grant{tagEC2Grant("TagSnapshots", arnSnapshot)}},
		}
	}(),
}

// arnSnapshot is every snapshot (their ARNs have no account).
const arnSnapshot = "arn:aws:ec2:*::snapshot/*"

// deleteSnapshots is DeleteSnapshot for an ebs-snapshot rule, narrowed to
// its where-tags. An AMI's snapshots have their own grant (ami.go).
var deleteSnapshots = Grant{Sid: "DeleteSnapshots", Actions: []string{"ec2:DeleteSnapshot"}, Resources: []string{arnSnapshot}, RuleResourceTags: true}

// snapshotPrices is per GiB-month of standard-tier snapshot storage (Amazon
// EBS price list, 2026-11-25). A snapshot is billed for its changed blocks
// only, so full size × price is an upper bound.
var snapshotPrices = regionPrices{"us-east-1": 0.05, "us-east-2": 0.05, "us-west-2": 0.05, "eu-west-1": 0.05, "eu-central-1": 0.054}
