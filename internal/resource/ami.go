package resource

import (
	"context"
	"fmt"
	"slices"
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
	ec2.DescribeSnapshotsAPIClient
	ec2.DescribeInstancesAPIClient
	ec2.DescribeLaunchTemplatesAPIClient
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DeregisterImage(context.Context, *ec2.DeregisterImageInput, ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(context.Context, *ec2.DeleteSnapshotInput, ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	ec2TagAPI
}

type amis struct {
	api       ec2ImageAPI
	region    string
	ref       string
	narrow    Narrow
	protected func(plan.Resource) string // the config's protect (Env.Protected)
}

var (
	_ Kind     = (*amis)(nil)
	_ Rereader = (*amis)(nil)
)

func newAMIs(env Env) Kind {
	return &amis{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, ref: env.Change, narrow: env.Narrow, protected: env.protected()}
}

// List lists the account's own images and what uses each: instances in any
// state but terminated, and launch templates' default and latest versions.
func (k *amis) List(ctx context.Context) ([]plan.Resource, error) {
	users, err := k.imageUsers(ctx)
	if err != nil {
		return nil, err
	}
	var found []types.Image
	p := ec2.NewDescribeImagesPaginator(k.api, &ec2.DescribeImagesInput{Owners: self, MaxResults: aws.Int32(1000), Filters: k.narrow.ec2Filters()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe images: %w", err)
		}
		found = append(found, page.Images...)
	}
	keeps, err := k.snapshotKeeps(ctx, found...)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Resource, 0, len(found))
	for _, img := range found {
		out = append(out, k.imageResource(img, users, keeps))
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
	keeps, err := k.snapshotKeeps(ctx, found...)
	if err != nil {
		return nil, err
	}
	for _, img := range found {
		out[aws.ToString(img.ImageId)] = k.imageResource(img, users, keeps)
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

// Do deregisters the image, then deletes the snapshots the plan deletes
// with it; or tags it.
//
// The snapshots deleted are at most those of the action's Change
// (deleteSnapshotsKey), and only those that nothing keeps now: a snapshot is
// never deleted beyond the planned set, nor when it is protected or AWS
// Backup's. Do re-reads the image and its snapshots' tags first; if a
// planned snapshot is kept now (protected since the plan), it does
// nothing and returns ErrChanged, so that the action is skipped and the
// next plan, which keeps that snapshot, is approved anew. A snapshot that
// became deletable since the plan is kept: it was not approved.
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
	keeps, err := k.snapshotKeeps(ctx, img)
	if err != nil {
		return err
	}
	planned := splitIDs(a.Change[deleteSnapshotsKey])
	var doomed []string
	for _, snap := range imageSnapshots(img) {
		if !slices.Contains(planned, snap) {
			continue // not approved for deletion: kept
		}
		if why := keeps[snap]; why != "" {
			return fmt.Errorf("image %s: snapshot %s to be deleted with it is kept now (%s): %w", a.ID, snap, why, ErrChanged)
		}
		doomed = append(doomed, snap)
	}
	_, err = k.api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(a.ID)})
	if isCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
		return fmt.Errorf("deregister image %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("deregister image %s: %w", a.ID, err)
	}
	var failed []string
	for _, snap := range doomed {
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

// deleteSnapshotsKey is the key of an AMI delete's Change that lists the
// snapshots deleted with it, comma-separated in id order ("" for none).
const deleteSnapshotsKey = "delete-snapshots"

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// snapshotKeeps reads the tags of the snapshots behind imgs and says, of
// each that must outlive its image, why: protect (the config's tags or
// ids) or AWS Backup. A snapshot that is not among the account's own is
// kept too: broom deletes only what the account owns. Snapshots are read
// by id, snapshotBatch at a time.
func (k *amis) snapshotKeeps(ctx context.Context, imgs ...types.Image) (map[string]string, error) {
	var ids []string
	for _, img := range imgs {
		ids = append(ids, imageSnapshots(img)...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	keeps := make(map[string]string, len(ids))
	for _, id := range ids {
		keeps[id] = "not found among the account's snapshots"
	}
	for batch := range slices.Chunk(ids, snapshotBatch) {
		p := ec2.NewDescribeSnapshotsPaginator(k.api, &ec2.DescribeSnapshotsInput{OwnerIds: self, MaxResults: aws.Int32(1000), Filters: byFilter("snapshot-id", batch...)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe %s behind images: %w", naming("snapshot", "snapshots", batch), err)
			}
			for _, s := range page.Snapshots {
				r := plan.Resource{ID: aws.ToString(s.SnapshotId), Tags: tagMap(s.Tags)}
				r.Name = r.Tags["Name"]
				keeps[r.ID] = k.protected(r)
				if keeps[r.ID] == "" && hasTagPrefix(r.Tags, "aws:backup:") {
					keeps[r.ID] = "managed by AWS Backup"
				}
			}
		}
	}
	return keeps, nil
}

// snapshotBatch is how many snapshot ids one DescribeSnapshots names: EC2
// takes up to 200 values in a filter.
const snapshotBatch = 200

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

// imageResource is an image's facts. keeps says which of its snapshots
// stay when it is deleted, and why (snapshotKeeps): the others are listed
// in Details["deletes snapshots"] and in DeleteChange, those that stay in
// Details["keeps snapshots"] with the reason.
func (k *amis) imageResource(img types.Image, users, keeps map[string]string) plan.Resource {
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
	switch {
	case users[id] != "":
		r.InUse = "used by " + users[id]
	case hasTagPrefix(r.Tags, "aws:backup:"):
		r.InUse = "managed by AWS Backup"
	}
	var doomed, kept []string
	for _, snap := range imageSnapshots(img) {
		if why := keeps[snap]; why != "" {
			kept = append(kept, fmt.Sprintf("%s (%s)", snap, why))
		} else {
			doomed = append(doomed, snap)
		}
	}
	var size, saved int32 // saved: the size of the snapshots that go
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil {
			size += aws.ToInt32(m.Ebs.VolumeSize)
			if m.Ebs.SnapshotId != nil && slices.Contains(doomed, *m.Ebs.SnapshotId) {
				saved += aws.ToInt32(m.Ebs.VolumeSize)
			}
		}
	}
	r.Details["deletes snapshots"] = strings.Join(doomed, ", ")
	if len(doomed) == 0 {
		r.Details["deletes snapshots"] = "none"
	}
	if len(kept) > 0 {
		r.Details["keeps snapshots"] = strings.Join(kept, ", ")
	}
	r.DeleteChange = map[string]string{deleteSnapshotsKey: strings.Join(doomed, ",")}
	r.Details["size"] = fmt.Sprintf("%d GiB", size)
	r.MonthlyCostUSD = monthly(r.Details, snapshotPrices, k.region, float64(saved))
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

// amiSpec is the kind's registry entry. Its prices are its snapshots'
// (snapshotPrices, ebs_snapshot.go).
var amiSpec = Spec{
	Name:    "ami",
	New:     newAMIs,
	Actions: map[string][]string{"delete": {"unused", "older-than", "tags", "name"}, "tag": append([]string{"unused"}, tagDated...)},
	IAM: func() map[string]Access {
		// Images, and what uses them: instances and launch templates; the
		// tags of their snapshots, which protect or AWS Backup may keep.
		list := readEC2("ec2:DescribeImages", "ec2:DescribeSnapshots", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions")
		return map[string]Access{
			"delete": {Plan: []Grant{list}, Apply: []Grant{
				{Sid: "DeregisterImages", Actions: []string{"ec2:DeregisterImage"}, Resources: []string{arnImage}, RuleResourceTags: true},
				// Its snapshots: a rule's where-tags are the image's, not
				// theirs, so only protect's Deny narrows this.
				{Sid: "DeleteImageSnapshots", Actions: []string{"ec2:DeleteSnapshot"}, Resources: []string{arnSnapshot}},
			}},
			"tag": {Plan: []Grant{list}, Apply: []Grant{tagEC2Grant("TagImages", arnImage)}},
		}
	}(),
}

// arnImage is every image (their ARNs have no account).
const arnImage = "arn:aws:ec2:*::image/*"
