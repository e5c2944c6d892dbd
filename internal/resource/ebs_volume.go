package resource

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
	ec2.DescribeVolumesModificationsAPIClient
	ModifyVolume(context.Context, *ec2.ModifyVolumeInput, ...func(*ec2.Options)) (*ec2.ModifyVolumeOutput, error)
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
	// modifications: an update rule is among the kind's, which needs the
	// volumes' modifications for its vetoes.
	modifications bool
	now           func() time.Time
}

var (
	_ Kind      = (*ebsVolumes)(nil)
	_ Rereader  = (*ebsVolumes)(nil)
	_ Converger = (*ebsVolumes)(nil)
)

func newEBSVolumes(env Env) Kind {
	return &ebsVolumes{api: ec2.NewFromConfig(env.AWS), region: env.AWS.Region, tags: env.Tags, ref: env.Change, narrow: env.Narrow,
		waitMax: 4 * time.Minute, modifications: slices.Contains(env.Actions, "update"), now: time.Now}
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
	return out, k.modified(ctx, out, nil)
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
	rs := slices.Collect(maps.Values(out))
	if err := k.modified(ctx, rs, ids); err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out, nil
}

// modifyWait is how long AWS makes a volume wait between two
// modifications: ModifyVolume refuses a volume modified less recently.
const modifyWait = 6 * time.Hour

// modified vetoes the update of each of rs that a modification keeps
// from being modified again: one still in progress, or one started less
// than modifyWait ago. It reads the modifications of ids, or of every
// volume when ids is nil, and only for a kind with an update rule.
func (k *ebsVolumes) modified(ctx context.Context, rs []plan.Resource, ids []string) error {
	if !k.modifications {
		return nil
	}
	in := &ec2.DescribeVolumesModificationsInput{MaxResults: aws.Int32(500)}
	if ids != nil {
		in = &ec2.DescribeVolumesModificationsInput{Filters: byFilter("volume-id", ids...)}
	}
	latest := map[string]types.VolumeModification{}
	p := ec2.NewDescribeVolumesModificationsPaginator(k.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe volume modifications: %w", err)
		}
		for _, m := range page.VolumesModifications {
			id := aws.ToString(m.VolumeId)
			if prev, ok := latest[id]; !ok || aws.ToTime(m.StartTime).After(aws.ToTime(prev.StartTime)) {
				latest[id] = m
			}
		}
	}
	for i, r := range rs {
		m, ok := latest[r.ID]
		if why := modificationVeto(m, k.now()); ok && why != "" {
			if r.Vetoes == nil {
				rs[i].Vetoes = map[string]string{}
			}
			rs[i].Vetoes["update"] = why
		}
	}
	return nil
}

// modificationVeto says why modification m keeps its volume from being
// modified again at now, or "".
func modificationVeto(m types.VolumeModification, now time.Time) string {
	switch m.ModificationState {
	case types.VolumeModificationStateModifying, types.VolumeModificationStateOptimizing:
		return "a modification is in progress (" + string(m.ModificationState) + ")"
	}
	if start := aws.ToTime(m.StartTime); now.Sub(start) < modifyWait {
		return fmt.Sprintf("modified less than 6 hours ago (%s): AWS refuses another modification until then", start.UTC().Format(time.RFC3339))
	}
	return ""
}

// Do deletes the volume (after a snapshot when the rule asks), tags it, or
// modifies it (update).
func (k *ebsVolumes) Do(ctx context.Context, a plan.Action) error {
	switch a.Op {
	case plan.Tag:
		return tagEC2(ctx, k.api, a.ID, a.Change, k.ref)
	case plan.Update:
		return k.modify(ctx, a)
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

// modify makes the volume what the update's change says (type, IOPS,
// throughput), then stamps it with broom:change. The engine has re-read
// the volume and judged the change again just before.
func (k *ebsVolumes) modify(ctx context.Context, a plan.Action) error {
	in := &ec2.ModifyVolumeInput{VolumeId: aws.String(a.ID), VolumeType: types.VolumeType(a.Change["type"])}
	for key, to := range map[string]**int32{"iops": &in.Iops, "throughput": &in.Throughput} {
		if v, ok := a.Change[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("modify volume %s: %s %q: %w", a.ID, key, v, err)
			}
			*to = aws.Int32(int32(n))
		}
	}
	_, err := k.api.ModifyVolume(ctx, in)
	if isCode(err, "InvalidVolume.NotFound") {
		return fmt.Errorf("modify volume %s: %w", a.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("modify volume %s: %w", a.ID, err)
	}
	if _, err := k.api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{a.ID}, Tags: ec2Tags(map[string]string{changeTag: k.ref})}); err != nil {
		return fmt.Errorf("modified volume %s, but could not tag it %s: %w", a.ID, changeTag, err)
	}
	return nil
}

// gp3's limits and baseline (Amazon EBS volume types, 2026-12-04): IOPS
// and throughput up to these are included in the price per GiB.
const (
	gp3BaseIOPS, gp3MaxIOPS             = 3000, 16000
	gp3BaseThroughput, gp3MaxThroughput = 125, 1000
	gp3IOPSPerGiB                       = 500  // most IOPS per GiB of size
	gp3ThroughputPerIOPS                = 0.25 // most MiB/s per IOPS
)

// gp2Baseline is what a gp2 volume of size GiB delivers: IOPS (3 per GiB,
// 100 to 16,000) and its most throughput in MiB/s (128 up to 170 GiB,
// 250 above).
func gp2Baseline(size int) (iops, throughput int) {
	iops = min(max(3*size, 100), 16000)
	if size > 170 {
		return iops, 250
	}
	return iops, 128
}

// Converge works out the update to gp3 of a gp2 volume: IOPS and
// throughput at least what the gp2 volume gave, and at least what set asks
// (gp3's baseline when it asks none). A gp3 volume is left as it is (already
// as set); a volume of another type is left alone, saying why.
func (k *ebsVolumes) Converge(r plan.Resource, set map[string]string) Converged {
	have := r.Settings["type"]
	if have == set["type"] {
		return Converged{}
	}
	change := map[string]string{"type": set["type"]}
	if have != "gp2" {
		return Converged{Change: change, Why: fmt.Sprintf("type %s: only gp2 volumes are made %s", have, set["type"])}
	}
	size, _ := strconv.Atoi(r.Settings["size"])
	gp2IOPS, gp2Throughput := gp2Baseline(size)
	if n, err := strconv.Atoi(r.Settings["iops"]); err == nil { // as AWS reports it
		gp2IOPS = n
	}
	atLeast := func(key string, floor int) int {
		n, err := strconv.Atoi(set[key])
		if err != nil {
			return floor
		}
		return max(n, floor)
	}
	iops := atLeast("iops", max(gp3BaseIOPS, gp2IOPS))
	throughput := atLeast("throughput", max(gp3BaseThroughput, gp2Throughput))
	change["iops"], change["throughput"] = strconv.Itoa(iops), strconv.Itoa(throughput)
	switch {
	case iops > gp3BaseIOPS && iops > gp3IOPSPerGiB*size:
		return Converged{Change: change, Why: fmt.Sprintf("%d IOPS is more than gp3 allows a %d GiB volume (%d per GiB)", iops, size, gp3IOPSPerGiB)}
	case float64(throughput) > gp3ThroughputPerIOPS*float64(iops):
		return Converged{Change: change, Why: fmt.Sprintf("%d MiB/s is more than gp3 allows with %d IOPS (%.2f MiB/s per IOPS)", throughput, iops, gp3ThroughputPerIOPS)}
	}
	// The saving: gp2's price per GiB less gp3's, less what gp3 charges
	// for IOPS and throughput above its baseline.
	gp2, _ := price(volumePrices["gp2"], k.region)
	gp3, _ := price(volumePrices["gp3"], k.region)
	perIOPS, _ := price(gp3Performance["iops"], k.region)
	perMiBs, _ := price(gp3Performance["throughput"], k.region)
	saves := (gp2-gp3)*float64(size) - perIOPS*float64(iops-gp3BaseIOPS) - perMiBs*float64(throughput-gp3BaseThroughput)
	return Converged{Change: change, MonthlyCostUSD: saves}
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
		// What an update compares and works its change out from; AWS
		// reports no throughput for gp2.
		Settings: map[string]string{"type": string(v.VolumeType), "size": strconv.Itoa(int(size))},
	}
	if v.Iops != nil {
		r.Settings["iops"] = strconv.Itoa(int(*v.Iops))
	}
	if v.Throughput != nil {
		r.Settings["throughput"] = strconv.Itoa(int(*v.Throughput))
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
		// Attached keeps a volume from being deleted, not from being
		// modified: AWS modifies a volume in use.
		r.Vetoes = map[string]string{"delete": "in use: attached to " + strings.Join(attached, ", ")}
		r.Details["attached"] = strings.Join(attached, ", ")
	} else if v.State != types.VolumeStateAvailable {
		r.InUse = "state " + string(v.State)
	}
	r.MonthlyCostUSD = monthly(r.Details, volumePrices[string(v.VolumeType)], k.region, float64(size))
	return r
}

// ebsVolumeSpec is the kind's registry entry.
var ebsVolumeSpec = Spec{
	Name: "ebs-volume",
	New:  newEBSVolumes,
	Actions: map[string][]string{
		"delete": {"unattached", "older-than", "tags", "name", "snapshot-first"},
		"tag":    append([]string{"unattached"}, tagDated...),
		"update": {"unattached", "older-than", "tags", "name", "set"},
	},
	// update: gp2 to gp3 (Converge), with IOPS and throughput at least these.
	Sets: map[string][]Setting{"update": {
		{Key: "type", Values: []string{"gp3"}, Required: true},
		{Key: "iops", Min: gp3BaseIOPS, Max: gp3MaxIOPS},
		{Key: "throughput", Min: gp3BaseThroughput, Max: gp3MaxThroughput},
	}},
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
			"delete": {Plan: []Grant{list}, Apply: []Grant{{Sid: "DeleteVolumes", Actions: []string{"ec2:DeleteVolume"}, Resources: []string{arnVolume}, RuleResourceTags: true}},
				With: map[string]Access{"snapshot-first": snapshotFirst}},
			"tag": {Plan: []Grant{list}, Apply: []Grant{tagEC2Grant("TagVolumes", arnVolume)}},
			// The modified volume gets broom:change alone.
			"update": {Plan: []Grant{readEC2("ec2:DescribeVolumes", "ec2:DescribeVolumesModifications")}, Apply: []Grant{
				{Sid: "ModifyVolumes", Actions: []string{"ec2:ModifyVolume"}, Resources: []string{arnVolume}, RuleResourceTags: true},
				{Sid: "StampModifiedVolumes", Actions: []string{"ec2:CreateTags"}, Resources: []string{arnVolume},
					Condition: Condition{"Null": stampedRequest["Null"], "ForAllValues:StringEquals": {"aws:TagKeys": {changeTag}}}},
			}},
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

// gp3Performance is what gp3 charges per month for each provisioned IOPS
// above 3,000 and each MiB/s above 125 (Amazon EBS price list,
// 2026-12-04; not checked live).
var gp3Performance = map[string]regionPrices{
	"iops":       {"us-east-1": 0.005, "us-east-2": 0.005, "us-west-2": 0.005, "eu-west-1": 0.0055},
	"throughput": {"us-east-1": 0.04, "us-east-2": 0.04, "us-west-2": 0.04, "eu-west-1": 0.044},
}
