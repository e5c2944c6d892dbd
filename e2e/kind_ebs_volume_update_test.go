package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/broom-dev/broom/internal/awstest"
)

// An old gp2 volume becomes gp3, keeping its IOPS and throughput, and is
// stamped with the pull request; a gp3 volume has nothing to do; an io1
// volume, a protected gp2 one and a young one (the world's) stay as they
// are.
func TestKindLifecycleEBSVolumeUpdate(t *testing.T) {
	w := newWorld(t)
	create := func(typ types.VolumeType, iops int32, tags map[string]string) string {
		in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(100), VolumeType: typ}
		if iops > 0 {
			in.Iops = aws.Int32(iops)
		}
		out, err := ec2.NewFromConfig(w.aws).CreateVolume(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.VolumeId)
		if tags != nil {
			awstest.Tag(t, w.aws, id, tags)
		}
		return id
	}
	w.moto.SetClock("-400d")
	gp2 := create(types.VolumeTypeGp2, 0, nil)
	gp3 := create(types.VolumeTypeGp3, 0, nil)
	io1 := create(types.VolumeTypeIo1, 5000, nil)
	kept := create(types.VolumeTypeGp2, 0, map[string]string{"broom:keep": "yes"})
	w.moto.SetClock("+0")

	plan, _ := w.lifecycle(t, `version: 1
id: nightly
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: volumes-to-gp3
    resource: ebs-volume
    action: update
    where: {older-than: 30d}
    set: {type: gp3}
`, 1)

	// 100 GiB at $0.02 less, less 3 MiB/s above gp3's 125 at $0.04.
	for _, want := range []string{"saves ≈ $1.88/month", "type io1: only gp2 volumes are made gp3"} {
		if !strings.Contains(plan.summary, want) {
			t.Errorf("the plan does not show %q:\n%s", want, plan.summary)
		}
	}
	out, err := ec2.NewFromConfig(w.aws).DescribeVolumes(t.Context(), &ec2.DescribeVolumesInput{VolumeIds: []string{gp2, gp3, io1, kept, w.volume}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Volumes {
		id := aws.ToString(v.VolumeId)
		change := ""
		for _, tg := range v.Tags {
			if aws.ToString(tg.Key) == "broom:change" {
				change = aws.ToString(tg.Value)
			}
		}
		switch want := map[string]types.VolumeType{gp2: "gp3", gp3: "gp3", io1: "io1", kept: "gp2", w.volume: "gp2"}[id]; {
		case v.VolumeType != want:
			t.Errorf("volume %s is %s, want %s", id, v.VolumeType, want)
		case id == gp2 && (aws.ToInt32(v.Iops) != 3000 || aws.ToInt32(v.Throughput) != 128 || !strings.HasSuffix(change, "/acme/infra/pull/7")):
			t.Errorf("updated volume %s: %d IOPS, %d MiB/s, broom:change %q; want 3000, 128 (gp2's), the pull request",
				id, aws.ToInt32(v.Iops), aws.ToInt32(v.Throughput), change)
		case id != gp2 && change != "":
			t.Errorf("volume %s left alone has broom:change %q", id, change)
		}
	}
}
