package resource_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

const volRegion = "us-east-1"

// createTypedVolume makes a volume of type typ (with iops for io1).
func createTypedVolume(t *testing.T, cfg aws.Config, size int32, typ types.VolumeType, iops int32) string {
	t.Helper()
	in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String(volRegion + "a"), Size: aws.Int32(size), VolumeType: typ}
	if iops > 0 {
		in.Iops = aws.Int32(iops)
	}
	out, err := ec2.NewFromConfig(cfg).CreateVolume(t.Context(), in)
	if err != nil {
		t.Fatalf("create %s volume: %v", typ, err)
	}
	return aws.ToString(out.VolumeId)
}

func describeVolume(t *testing.T, cfg aws.Config, id string) types.Volume {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(out.Volumes) != 1 {
		t.Fatalf("describe %s: %v", id, err)
	}
	return out.Volumes[0]
}

// TestVolumeUpdateMoto runs an ebs-volume update rule through the engine
// against moto: the gp2 volumes, attached or not, become gp3 keeping their
// IOPS and throughput and get broom:change; a gp3 volume makes no action;
// an io1 volume and a gp2 volume modified minutes ago are left alone with
// the reason, as is one modified between plan and apply, at apply; a
// second apply is already done, and a new plan has nothing to do.
// moto records a modification as completed at once (AWS: modifying, then
// optimizing, for minutes to hours), so the veto of one in progress is
// tested on AWS's facts in TestVolumeModificationVeto; the one of a recent
// modification is seen here.
func TestVolumeUpdateMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, volRegion)
	m.SetClock("-400d")
	small := createTypedVolume(t, direct, 100, types.VolumeTypeGp2, 0)
	old := createTypedVolume(t, direct, 8, types.VolumeTypeGp2, 0)
	// A modification 400 days ago does not keep old from another one.
	if _, err := ec2.NewFromConfig(direct).ModifyVolume(t.Context(), &ec2.ModifyVolumeInput{VolumeId: aws.String(old), Size: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	large := createTypedVolume(t, direct, 500, types.VolumeTypeGp2, 0)
	image, _ := awstest.RegisterImage(t, direct, "for-instance", nil)
	inst := awstest.RunInstance(t, direct, image)
	awstest.AttachVolume(t, direct, large, inst, "/dev/sdf")
	already := createTypedVolume(t, direct, 100, types.VolumeTypeGp3, 0)
	io1 := createTypedVolume(t, direct, 100, types.VolumeTypeIo1, 5000)
	recent := createTypedVolume(t, direct, 100, types.VolumeTypeGp2, 0)
	grow := func(id string, size int32) {
		t.Helper()
		if _, err := ec2.NewFromConfig(direct).ModifyVolume(t.Context(), &ec2.ModifyVolumeInput{VolumeId: aws.String(id), Size: aws.Int32(size)}); err != nil {
			t.Fatal(err)
		}
	}
	grow(recent, 110) // long ago: the latest modification counts
	m.SetClock("+0")
	grow(recent, 120)

	text := "version: 1\nregions: [" + volRegion + "]\nrules:\n  - name: to-gp3\n    resource: ebs-volume\n    action: update\n    where: {older-than: 30d}\n    set: {type: gp3}\n"
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{File: f}
	rc, rec := m.Recorded(t, volRegion)
	load := func(context.Context, string, string) (aws.Config, error) { return rc.Copy(), nil }
	const ref = "https://github.com/acme/infra/pull/15"
	e := engine.New(slog.New(slog.DiscardHandler), load, engine.WithChangeRef(ref))

	res, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("plan made mutating calls: %v", got)
	}
	changes := map[string]map[string]string{}
	for _, a := range res.Plan.Actions {
		if a.Op != plan.Update {
			t.Errorf("plan: %s %v, want update", a.ID, a.Op)
		}
		changes[a.ID] = a.Change
	}
	want := map[string]map[string]string{
		small: {"type": "gp3", "iops": "3000", "throughput": "128"},
		old:   {"type": "gp3", "iops": "3000", "throughput": "128"},
		large: {"type": "gp3", "iops": "3000", "throughput": "250"},
		// The instance's root volume: moto makes it gp2, 8 GiB.
		rootVolume(t, direct, inst, large): {"type": "gp3", "iops": "3000", "throughput": "128"},
	}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	left := map[string]string{}
	for _, a := range res.Protected {
		left[a.ID] = a.Reason
	}
	for id, why := range map[string]string{io1: "type io1: only gp2 volumes are made gp3", recent: "modified less than 6 hours ago"} {
		if !strings.Contains(left[id], why) {
			t.Errorf("left alone: %s %q, want %q", id, left[id], why)
		}
	}
	if r, ok := left[already]; ok {
		t.Errorf("the gp3 volume is left alone (%q): want no mention, nothing to do", r)
	}

	// Modified since the plan: the re-read at apply vetoes it.
	grow(small, 110)
	applied := e.Apply(t.Context(), cfg, res.Plan)
	for _, a := range applied.Actions {
		if a.ID == small {
			if a.Status != plan.Skipped || !strings.Contains(a.Error, "modified less than 6 hours ago") {
				t.Errorf("apply %s modified since the plan: %s %q, want skipped, modified less than 6 hours ago", a.ID, a.Status, a.Error)
			}
			continue
		}
		if a.Status != plan.Done {
			t.Errorf("apply %s: %s %s, want done", a.ID, a.Status, a.Error)
		}
	}
	delete(want, small)
	for id, c := range want {
		v := describeVolume(t, direct, id)
		got := map[string]string{"type": string(v.VolumeType), "iops": itoa(v.Iops), "throughput": itoa(v.Throughput)}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("volume %s after apply (-want +got):\n%s", id, diff)
		}
		tags := map[string]string{}
		for _, tg := range v.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if diff := cmp.Diff(map[string]string{"broom:change": ref}, tags); diff != "" {
			t.Errorf("volume %s tags after apply (-want +got): want broom:change alone\n%s", id, diff)
		}
	}
	for _, id := range []string{small, already, io1, recent} {
		if v := describeVolume(t, direct, id); len(v.Tags) != 0 {
			t.Errorf("volume %s left alone got tags %v", id, v.Tags)
		}
	}

	rec.Reset()
	again := e.Apply(t.Context(), cfg, res.Plan)
	for _, a := range again.Actions {
		if a.Status != plan.AlreadyDone && a.ID != small {
			t.Errorf("second apply %s: %s %s, want already-done", a.ID, a.Status, a.Error)
		}
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("second apply made mutating calls: %v", got)
	}
	next, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Plan.Actions) != 0 {
		t.Errorf("plan after apply: %v, want nothing to do", next.Plan.Actions)
	}
	if n := len(next.Protected); n != 3 {
		t.Errorf("left alone after apply: %v, want %s (modified since), %s and %s", next.Protected, small, io1, recent)
	}
}

// rootVolume is the volume attached to inst other than extra.
func rootVolume(t *testing.T, cfg aws.Config, inst, extra string) string {
	t.Helper()
	out, err := ec2.NewFromConfig(cfg).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{
		Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{inst}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Volumes {
		if id := aws.ToString(v.VolumeId); id != extra {
			return id
		}
	}
	t.Fatalf("no root volume attached to %s", inst)
	return ""
}

func itoa(n *int32) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(int(*n))
}
