package resource

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/plan"
)

// ec2ImageAPI is the part of EC2 this kind uses; *ec2.Client satisfies it.
type ec2ImageAPI interface {
	ec2.DescribeImagesAPIClient
	ec2.DescribeInstancesAPIClient
	ec2.DescribeLaunchTemplatesAPIClient
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DeregisterImage(context.Context, *ec2.DeregisterImageInput, ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(context.Context, *ec2.DeleteSnapshotInput, ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	ec2TagAPI
}

type amis struct {
	api    ec2ImageAPI
	region string
	ref    string
	narrow Narrow
}

var (
	_ Kind     = (*amis)(nil)
	_ Rereader = (*amis)(nil)
)

func newAMIs(env Env) Kind {
	return &amis{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow}
}

// List lists the account's own images and what uses each: instances in any
// state but terminated, and launch templates' default and latest versions.
func (k *amis) List(ctx context.Context) ([]plan.Resource, error) {
	users, err := k.imageUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []plan.Resource
	p := ec2.NewDescribeImagesPaginator(k.api, &ec2.DescribeImagesInput{Owners: self, MaxResults: aws.Int32(1000), Filters: k.narrow.ec2Filters()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe images: %w", err)
		}
		for _, img := range page.Images {
			out = append(out, k.imageResource(img, users))
		}
	}
	return out, nil
}

// Get re-reads one image and, again, what uses it.
func (k *amis) Get(ctx context.Context, id string) (plan.Resource, bool, error) {
	return getOne(ctx, k, id)
}

// GetMany re-reads images and, once for the batch, what uses them.
func (k *amis) GetMany(ctx context.Context, ids []string) (map[string]plan.Resource, error) {
	out := map[string]plan.Resource{}
	var found []types.Image
	p := ec2.NewDescribeImagesPaginator(k.api, &ec2.DescribeImagesInput{Owners: self, MaxResults: aws.Int32(1000), Filters: byFilter("image-id", ids...)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", naming("image", "images", ids), err)
		}
		found = append(found, page.Images...)
	}
	if len(found) == 0 {
		return out, nil
	}
	users, err := k.imageUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, img := range found {
		out[aws.ToString(img.ImageId)] = k.imageResource(img, users)
	}
	return out, nil
}

func (k *amis) image(ctx context.Context, id string) (types.Image, bool, error) {
	out, err := k.api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: self, Filters: byFilter("image-id", id)})
	if err != nil {
		return types.Image{}, false, fmt.Errorf("describe image %s: %w", id, err)
	}
	if len(out.Images) == 0 {
		return types.Image{}, false, nil
	}
	return out.Images[0], true, nil
}

// Do deregisters the image, then deletes the snapshots it owned; or tags it.
func (k *amis) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case plan.Delete:
	default:
		return fmt.Errorf("ami cannot %s", a.Op)
	}
	img, found, err := k.image(ctx, a.ID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("deregister image %s: %w", a.ID, ErrGone)
	}
	_, err = k.api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(a.ID)})
	if isCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
		return fmt.Errorf("deregister image %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("deregister image %s: %w", a.ID, err)
	}
	var failed []string
	for _, snap := range imageSnapshots(img) {
		_, err := k.api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
		if err != nil && !isCode(err, "InvalidSnapshot.NotFound") {
			failed = append(failed, fmt.Sprintf("%s: %v", snap, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("image %s deregistered, but its snapshots were not all deleted: %s", a.ID, strings.Join(failed, "; "))
	}
	return nil
}

// imageUsers maps image ids to what uses them.
func (k *amis) imageUsers(ctx context.Context) (map[string]string, error) {
	users := map[string]string{}
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{
		Name:   aws.String("instance-state-name"),
		Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"},
	}}}
	p := ec2.NewDescribeInstancesPaginator(k.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instances: %w", err)
		}
		for _, res := range page.Reservations {
			for _, inst := range res.Instances {
				users[aws.ToString(inst.ImageId)] = "instance " + aws.ToString(inst.InstanceId)
			}
		}
	}
	lt := ec2.NewDescribeLaunchTemplatesPaginator(k.api, &ec2.DescribeLaunchTemplatesInput{})
	for lt.HasMorePages() {
		page, err := lt.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe launch templates: %w", err)
		}
		for _, t := range page.LaunchTemplates {
			out, err := k.api.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
				LaunchTemplateId: t.LaunchTemplateId, Versions: []string{"$Default", "$Latest"},
			})
			if err != nil {
				return nil, fmt.Errorf("describe versions of launch template %s: %w", aws.ToString(t.LaunchTemplateId), err)
			}
			for _, v := range out.LaunchTemplateVersions {
				if v.LaunchTemplateData != nil && v.LaunchTemplateData.ImageId != nil {
					users[*v.LaunchTemplateData.ImageId] = "launch template " + aws.ToString(t.LaunchTemplateName)
				}
			}
		}
	}
	return users, nil
}

func (k *amis) imageResource(img types.Image, users map[string]string) plan.Resource {
	id := aws.ToString(img.ImageId)
	r := plan.Resource{
		ID:      id,
		Name:    aws.ToString(img.Name),
		Tags:    tagMap(img.Tags),
		Flags:   map[string]bool{"unused": users[id] == ""},
		Details: map[string]string{},
	}
	if t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate)); err == nil {
		r.Created = t
		r.Details["created"] = t.UTC().Format("2006-01-02")
	}
	if users[id] != "" {
		r.InUse = "used by " + users[id]
	}
	snaps := imageSnapshots(img)
	var size int32
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			size += aws.ToInt32(m.Ebs.VolumeSize)
		}
	}
	r.Details["snapshots"] = strings.Join(snaps, ", ")
	r.Details["size"] = fmt.Sprintf("%d GiB", size)
	usd, note := price(snapshotPrices, k.region)
	r.MonthlyCostUSD = float64(size) * usd
	if note != "" {
		r.Details["price"] = note
	}
	return r
}

// imageSnapshots lists the EBS snapshots behind an image's block devices.
func imageSnapshots(img types.Image) []string {
	var out []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			out = append(out, *m.Ebs.SnapshotId)
		}
	}
	sort.Strings(out)
	return out
}
