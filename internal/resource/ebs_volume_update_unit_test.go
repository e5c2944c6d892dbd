package resource

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
)

// TestVolumeConverge: a gp2 volume becomes gp3 with at least the IOPS
// and throughput gp2 gave it, and at least what the rule sets; a gp3
// volume is already as set; another type, or a change gp3 cannot take,
// is left alone with the reason. The saving is the price per GiB saved
// less what gp3 charges above its baseline (us-east-1: gp2 0.10, gp3
// 0.08 per GiB; 0.005 per IOPS above 3000, 0.04 per MiB/s above 125).
func TestVolumeConverge(t *testing.T) {
	t.Parallel()
	k := &ebsVolumes{region: "us-east-1"}
	vol := func(typ string, size string, iops string) plan.Resource {
		s := map[string]string{"type": typ, "size": size}
		if iops != "" {
			s["iops"] = iops
		}
		return plan.Resource{ID: "vol-1", Settings: s}
	}
	gp3 := map[string]string{"type": "gp3"}
	tests := map[string]struct {
		r    plan.Resource
		set  map[string]string
		want Converged
	}{
		"small gp2: gp3's baseline IOPS, gp2's 128 MiB/s": {r: vol("gp2", "100", "300"), set: gp3,
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "3000", "throughput": "128"}, MonthlyCostUSD: 0.02*100 - 0.04*3}},
		"gp2 over 170 GiB keeps 250 MiB/s": {r: vol("gp2", "500", "1500"), set: gp3,
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "3000", "throughput": "250"}, MonthlyCostUSD: 0.02*500 - 0.04*125}},
		"gp2 IOPS above gp3's baseline are kept": {r: vol("gp2", "2000", "6000"), set: gp3,
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "6000", "throughput": "250"}, MonthlyCostUSD: 0.02*2000 - 0.005*3000 - 0.04*125}},
		"gp2 IOPS worked out when not reported": {r: vol("gp2", "2000", ""), set: gp3,
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "6000", "throughput": "250"}, MonthlyCostUSD: 0.02*2000 - 0.005*3000 - 0.04*125}},
		"the rule's throughput and IOPS when higher": {r: vol("gp2", "100", "300"), set: map[string]string{"type": "gp3", "iops": "4000", "throughput": "300"},
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "4000", "throughput": "300"}, MonthlyCostUSD: 0.02*100 - 0.005*1000 - 0.04*175}},
		"never below what gp2 gave": {r: vol("gp2", "2000", "6000"), set: map[string]string{"type": "gp3", "iops": "3000", "throughput": "125"},
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "6000", "throughput": "250"}, MonthlyCostUSD: 0.02*2000 - 0.005*3000 - 0.04*125}},
		"gp3 already": {r: vol("gp3", "100", "3000"), set: map[string]string{"type": "gp3", "throughput": "500"}},
		"io1 left alone": {r: vol("io1", "100", "5000"), set: gp3,
			want: Converged{Change: map[string]string{"type": "gp3"}, Why: "type io1: only gp2 volumes are made gp3"}},
		"more IOPS than the size allows": {r: vol("gp2", "8", "100"), set: map[string]string{"type": "gp3", "iops": "5000"},
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "5000", "throughput": "128"}, Why: "5000 IOPS is more than gp3 allows a 8 GiB volume (500 per GiB)"}},
		"more throughput than the IOPS allow": {r: vol("gp2", "100", "300"), set: map[string]string{"type": "gp3", "throughput": "751"},
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "3000", "throughput": "751"}, Why: "751 MiB/s is more than gp3 allows with 3000 IOPS (0.25 MiB/s per IOPS)"}},
		"throughput at the IOPS' limit": {r: vol("gp2", "100", "300"), set: map[string]string{"type": "gp3", "throughput": "750"},
			want: Converged{Change: map[string]string{"type": "gp3", "iops": "3000", "throughput": "750"}, MonthlyCostUSD: 0.02*100 - 0.04*625}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := k.Converge(tc.r, tc.set)
			near := cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })
			if diff := cmp.Diff(tc.want, got, near); diff != "" {
				t.Errorf("Converge (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVolumeModificationVeto is AWS's rule from the facts
// DescribeVolumesModifications gives (moto's modifications are always
// completed, so the states in progress are tested here): no modification
// while one is in progress, nor within 6 hours of the last one's start.
func TestVolumeModificationVeto(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	mod := func(state types.VolumeModificationState, ago time.Duration) types.VolumeModification {
		return types.VolumeModification{ModificationState: state, StartTime: aws.Time(now.Add(-ago))}
	}
	tests := map[string]struct {
		m    types.VolumeModification
		want string
	}{
		"modifying":                 {mod(types.VolumeModificationStateModifying, 8*time.Hour), "a modification is in progress (modifying)"},
		"optimizing":                {mod(types.VolumeModificationStateOptimizing, 8*time.Hour), "a modification is in progress (optimizing)"},
		"completed under 6 h ago":   {mod(types.VolumeModificationStateCompleted, 6*time.Hour-time.Minute), "modified less than 6 hours ago (2026-12-04T06:01:00Z): AWS refuses another modification until then"},
		"completed 6 h ago":         {mod(types.VolumeModificationStateCompleted, 6*time.Hour), ""},
		"failed long ago":           {mod(types.VolumeModificationStateFailed, 30*24*time.Hour), ""},
		"completed a day ago":       {mod(types.VolumeModificationStateCompleted, 24*time.Hour), ""},
		"failed under 6 h ago, too": {mod(types.VolumeModificationStateFailed, time.Hour), "modified less than 6 hours ago (2026-12-04T11:00:00Z): AWS refuses another modification until then"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := modificationVeto(tc.m, now); got != tc.want {
				t.Errorf("modificationVeto = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVolumeUpdatePolicy: an update may modify volumes and tag them with
// broom:change alone, whatever the rule's set names (its keys are
// settings, not tags); planning it reads the modifications.
func TestVolumeUpdatePolicy(t *testing.T) {
	t.Parallel()
	use := Use{Kind: "ebs-volume", Action: "update", TagKeys: []string{"type"}}
	doc, err := Policy([]Use{use}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Statement{}
	for _, s := range doc.Statement {
		got[s.Sid] = s
	}
	want := map[string]Statement{
		"ModifyVolumes": {Sid: "ModifyVolumes", Effect: "Allow", Action: Values{"ec2:ModifyVolume"}, Resource: Values{arnVolume}},
		"StampModifiedVolumes": {Sid: "StampModifiedVolumes", Effect: "Allow", Action: Values{"ec2:CreateTags"}, Resource: Values{arnVolume},
			Condition: Condition{"Null": {"aws:RequestTag/broom:change": {"false"}}, "ForAllValues:StringEquals": {"aws:TagKeys": {"broom:change"}}}},
	}
	for sid, w := range want {
		if diff := cmp.Diff(w, got[sid]); diff != "" {
			t.Errorf("statement %s (-want +got):\n%s", sid, diff)
		}
	}
	if read := got["ReadEC2"]; !slices.Contains(read.Action, "ec2:DescribeVolumesModifications") || !slices.Contains(read.Action, "ec2:DescribeVolumes") {
		t.Errorf("ReadEC2 allows %v, want the volumes and their modifications", read.Action)
	}
}
