package resource

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2VolumeAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2VolumeAPI interface {
	ec2.DescribeVolumesAPIClient
	ec2.DescribeSnapshotsAPIClient
	ec2TagAPI
	DeleteVolume(context.Context, *ec2.DeleteVolumeInput, ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
	CreateSnapshot(context.Context, *ec2.CreateSnapshotInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
}

type ebsVolumes struct {
	api    ec2VolumeAPI
	region string
	tags   map[string]string // config tags, for the snapshot broom creates
	ref    string
	narrow Narrow
	// waitMax bounds the wait for a snapshot-first snapshot to complete,
	// inside the engine's 5-minute limit per action; a snapshot still
	// pending fails the action, and a re-run reuses it.
	waitMax time.Duration
}

var (
	_ Kind     = (*ebsVolumes)(nil)
	_ Rereader = (*ebsVolumes)(nil)
)

func newEBSVolumes(env Env) Kind {
	return &ebsVolumes{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, tags: env.Tags, ref: env.Change, narrow: env.Narrow, waitMax: 4 * time.Minute}
}

// sourceVolumeTag names the volume a snapshot-first snapshot was taken of.
const sourceVolumeTag = "broom:source-volume"

// List lists the region's volumes.
func (k *ebsVolumes) List(ctx context.Context) ([]plan.Resource, error) {
	var out []plan.Resource
	filters := k.narrow.ec2Filters()
	if unattached, ok := k.narrow.Flags["unattached"]; ok && unattached {
		filters = append(filters, types.Filter{Name: aws.String("status"), Values: []string{string(types.VolumeStateAvailable)}})
	}
	p := ec2.NewDescribeVolumesPaginator(k.api, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(500), Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe volumes: %w", err)
		}
		for _, v := range page.Volumes {
			out = append(out, k.volumeResource(v))
		}
	}
	return out, nil
}

// Get re-reads one volume.
func (k *ebsVolumes) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads volumes with one filtered DescribeVolumes.
func (k *ebsVolumes) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	out := map[string]plan.Resource{}
	p := ec2.NewDescribeVolumesPaginator(k.api, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(500), Filters: byFilter("volume-id", ids...)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", naming("volume", "volumes", ids), err)
		}
		for _, v := range page.Volumes {
			out[aws.ToString(v.VolumeId)] = k.volumeResource(v)
		}
	}
	return out, nil
}

// Do deletes the volume (after a snapshot when the rule asks) or tags it.
func (k *ebsVolumes) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case plan.Delete:
	default:
		return fmt.Errorf("ebs-volume cannot %s", a.Op)
	}
	if a.Change["snapshot-first"] == "true" {
		if err := k.snapshotFirst(ctx, a.ID); err != nil {
			return err
		}
	}
	_, err := k.api.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(a.ID)})
	if isCode(err, "InvalidVolume.NotFound") {
		return fmt.Errorf("delete volume %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("delete volume %s: %w", a.ID, err)
	}
	return nil
}

// snapshotFirst snapshots the volume, tagged so the delete can be undone,
// and waits until the snapshot is complete. A snapshot left by an earlier,
// interrupted run is reused rather than taken twice.
func (k *ebsVolumes) snapshotFirst(ctx context.Context, volume string) error {
	prior, err := k.api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: self, Filters: byFilter("tag:"+sourceVolumeTag, volume)})
	if err != nil {
		return fmt.Errorf("look for an earlier snapshot of %s: %w", volume, err)
	}
	var id string
	if len(prior.Snapshots) > 0 {
		id = aws.ToString(prior.Snapshots[0].SnapshotId)
	} else {
		tags := stamped(k.tags, k.ref)
		tags[sourceVolumeTag] = volume
		out, err := k.api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
			VolumeId:          aws.String(volume),
			Description:       aws.String("broom: snapshot of " + volume + " before deleting it"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: ec2Tags(tags)}},
		})
		if isCode(err, "InvalidVolume.NotFound") {
			return fmt.Errorf("snapshot volume %s: %w", volume, ErrGone)
		}
		if err != nil {
			return fmt.Errorf("snapshot volume %s: %w", volume, err)
		}
		id = aws.ToString(out.SnapshotId)
	}
	w := ec2.NewSnapshotCompletedWaiter(k.api, func(o *ec2.SnapshotCompletedWaiterOptions) { o.MinDelay = time.Second })
	if err := w.Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}}, k.waitMax); err != nil {
		return fmt.Errorf("wait for snapshot %s of %s: %w", id, volume, err)
	}
	return nil
}

func (k *ebsVolumes) volumeResource(v types.Volume) plan.Resource {
	size := aws.ToInt32(v.Size)
	r := plan.Resource{
		ID:      aws.ToString(v.VolumeId),
		Created: aws.ToTime(v.CreateTime),
		Tags:    tagMap(v.Tags),
		Flags:   map[string]bool{"unattached": v.State == types.VolumeStateAvailable},
		Details: map[string]string{
			"size":  fmt.Sprintf("%d GiB", size),
			"type":  string(v.VolumeType),
			"state": string(v.State),
		},
	}
	r.Name = r.Tags["Name"]
	if !r.Created.IsZero() {
		r.Details["created"] = r.Created.UTC().Format("2006-01-02")
	}
	var attached []string
	for _, at := range v.Attachments {
		attached = append(attached, aws.ToString(at.InstanceId))
	}
	if len(attached) > 0 {
		r.InUse = "attached to " + strings.Join(attached, ", ")
		r.Details["attached"] = strings.Join(attached, ", ")
	} else if v.State != types.VolumeStateAvailable {
		r.InUse = "state " + string(v.State)
	}
	usd, note := price(volumePrices[string(v.VolumeType)], k.region)
	r.MonthlyCostUSD = float64(size) * usd
	if note != "" {
		r.Details["price"] = note
	}
	return r
}

// ebsVolumeSpec is the kind's registry entry.
var ebsVolumeSpec = Spec{
	Name:    "ebs-volume",
	New:     newEBSVolumes,
	Actions: map[string][]string{"delete": {"unattached", "older-than", "tags", "name", "snapshot-first"}, "tag": append([]string{"unattached"}, tagDated...)},
	IAM: func() map[string]Access {
		list := readEC2("ec2:DescribeVolumes")
		// snapshot-first: CreateSnapshot authorizes the volume and the new
		// snapshot separately, so the condition on the request's tags goes
		// on the snapshot alone; tagging on create needs CreateTags, allowed
		// only as part of CreateSnapshot (ec2:CreateAction). DescribeSnapshots
		// finds an earlier run's snapshot and waits for completion.
		snapshotFirst := Access{Apply: []Grant{
			readEC2("ec2:DescribeSnapshots"),
			{Sid: "SnapshotFirstOfVolumes", Actions: []string{"ec2:CreateSnapshot"}, Resources: []string{arnVolume}},
			{Sid: "SnapshotFirstTagged", Actions: []string{"ec2:CreateSnapshot"}, Resources: []string{arnSnapshot},
				Condition: Condition{"Null": {"aws:RequestTag/" + changeTag: {"false"}, "aws:RequestTag/" + sourceVolumeTag: {"false"}}}},
			{Sid: "SnapshotFirstTagOnCreate", Actions: []string{"ec2:CreateTags"}, Resources: []string{arnSnapshot},
				Condition: Condition{"StringEquals": {"ec2:CreateAction": {"CreateSnapshot"}}}},
		}}
		return map[string]Access{
			"delete": {Plan: []Grant{list}, Apply: []Grant{{Sid: "DeleteVolumes", Actions: []string{"ec2:DeleteVolume"}, Resources: []string{arnVolume}}},
				With: map[string]Access{"snapshot-first": snapshotFirst}},
			"tag": {Plan: []Grant{list}, Apply: []Grant{tagEC2Grant("TagVolumes", arnVolume)}},
		}
	}(),
	// CreateSnapshot with TagSpecifications also needs ec2:CreateTags.
	IAMNames: map[string][]string{"ec2:CreateSnapshot": {"ec2:CreateSnapshot", "ec2:CreateTags"}},
}

const arnVolume = "arn:aws:ec2:*:*:volume/*"

// volumePrices is per GiB-month of provisioned volume, by volume type
// (Amazon EBS price list, 2026-11-25).
var volumePrices = map[string]regionPrices{
	"gp3":      {"us-east-1": 0.08, "us-east-2": 0.08, "us-west-2": 0.08, "eu-west-1": 0.088, "eu-central-1": 0.0952},
	"gp2":      {"us-east-1": 0.10, "us-east-2": 0.10, "us-west-2": 0.10, "eu-west-1": 0.11, "eu-central-1": 0.119},
	"io1":      {"us-east-1": 0.125, "us-east-2": 0.125, "us-west-2": 0.125, "eu-west-1": 0.138, "eu-central-1": 0.149},
	"io2":      {"us-east-1": 0.125, "us-east-2": 0.125, "us-west-2": 0.125, "eu-west-1": 0.138, "eu-central-1": 0.149},
	"st1":      {"us-east-1": 0.045, "us-east-2": 0.045, "us-west-2": 0.045, "eu-west-1": 0.05, "eu-central-1": 0.054},
	"sc1":      {"us-east-1": 0.015, "us-east-2": 0.015, "us-west-2": 0.015, "eu-west-1": 0.0168, "eu-central-1": 0.018},
	"standard": {"us-east-1": 0.05, "us-east-2": 0.05, "us-west-2": 0.05, "eu-west-1": 0.055, "eu-central-1": 0.059},
}
