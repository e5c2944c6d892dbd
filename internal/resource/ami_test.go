package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// fakeImages implements ec2ImageAPI over fakeEC2's snapshots: its images
// are used by nothing, DescribeImages honours an image-id filter, and it
// records what was deregistered and each DescribeSnapshots' ids.
type fakeImages struct {
	fakeEC2
	deregistered []string
	snapshotIDs  [][]string // the snapshot-id filter of each DescribeSnapshots
}

var _ ec2ImageAPI = (*fakeImages)(nil)

func (f *fakeImages) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ec2.DescribeImagesOutput{}
	for _, img := range f.Images {
		if len(in.Filters) == 0 || slices.Contains(in.Filters[0].Values, aws.ToString(img.ImageId)) {
			out.Images = append(out.Images, img)
		}
	}
	return out, nil
}

func (f *fakeImages) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.mu.Lock()
	if len(in.Filters) > 0 {
		f.snapshotIDs = append(f.snapshotIDs, in.Filters[0].Values)
	}
	f.mu.Unlock()
	return f.fakeEC2.DescribeSnapshots(ctx, in, opts...)
}

func (f *fakeImages) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{}, nil
}

func (f *fakeImages) DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return &ec2.DescribeLaunchTemplatesOutput{}, nil
}

func (f *fakeImages) DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return &ec2.DescribeLaunchTemplateVersionsOutput{}, nil
}

func (f *fakeImages) DeregisterImage(_ context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deregistered = append(f.deregistered, aws.ToString(in.ImageId))
	f.Images = slices.DeleteFunc(f.Images, func(img types.Image) bool { return aws.ToString(img.ImageId) == aws.ToString(in.ImageId) })
	return &ec2.DeregisterImageOutput{}, nil
}

// amiProtect is the protect block of these tests, as the engine passes it.
var amiProtect = config.Protect{Tags: map[string]string{"broom:keep": "*"}, IDs: []string{"snap-listed"}}

func amiKind(f *fakeImages) *amis {
	return &amis{api: f, region: "us-east-1", protected: func(r plan.Resource) string { return policy.Protected(amiProtect, r) }}
}

// fourSnapshots is an image whose snapshots are one plain, one tagged
// broom:keep, one listed in protect.ids and one AWS Backup's.
func fourSnapshots() *fakeImages {
	return &fakeImages{fakeEC2: fakeEC2{
		Pages: [][]types.Snapshot{{
			snap("snap-plain", 8), snap("snap-keep", 8, "broom:keep", "true"), snap("snap-listed", 8),
			snap("snap-backup", 8, "aws:backup:source-resource", "arn:aws:ec2:us-east-1::volume/vol-1"),
		}},
		Images: []types.Image{image("ami-1", "snap-plain", "snap-keep", "snap-listed", "snap-backup")},
	}}
}

func TestAMIKeepsProtectedSnapshots(t *testing.T) {
	t.Parallel()
	wantDetails := map[string]string{
		"deletes snapshots": "snap-plain",
		"keeps snapshots":   "snap-backup (managed by AWS Backup), snap-keep (protected: tag broom:keep=true), snap-listed (protected: id listed in protect.ids)",
		"size":              "0 GiB",
	}
	wantChange := map[string]string{"delete-snapshots": "snap-plain"}

	f := fourSnapshots()
	listed, err := amiKind(f).List(t.Context())
	if err != nil || len(listed) != 1 {
		t.Fatalf("List = %+v, %v; want one image", listed, err)
	}
	got, err := amiKind(f).GetMany(t.Context(), []string{"ami-1"})
	if err != nil {
		t.Fatal(err)
	}
	for what, r := range map[string]plan.Resource{"List": listed[0], "GetMany": got["ami-1"]} {
		if diff := cmp.Diff(wantDetails, r.Details); diff != "" {
			t.Errorf("%s: details (-want +got):\n%s", what, diff)
		}
		if diff := cmp.Diff(wantChange, r.DeleteChange); diff != "" {
			t.Errorf("%s: delete change (-want +got):\n%s", what, diff)
		}
		if r.InUse != "" {
			t.Errorf("%s: InUse = %q, want none", what, r.InUse)
		}
	}
}

func TestAMIOfAWSBackupIsInUse(t *testing.T) {
	t.Parallel()
	img := image("ami-backup", "snap-1")
	img.Tags = []types.Tag{{Key: aws.String("aws:backup:source-resource"), Value: aws.String("arn:aws:ec2:us-east-1::image/ami-0")}}
	f := &fakeImages{fakeEC2: fakeEC2{Pages: [][]types.Snapshot{{snap("snap-1", 8)}}, Images: []types.Image{img}}}
	got, err := amiKind(f).List(t.Context())
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %+v, %v", got, err)
	}
	if got[0].InUse != "managed by AWS Backup" {
		t.Errorf("InUse = %q, want managed by AWS Backup", got[0].InUse)
	}
}

func TestAMIReadsSnapshotsInBatches(t *testing.T) {
	t.Parallel()
	f := &fakeImages{}
	var snaps []types.Snapshot
	for i := range 3 {
		var ids []string
		for j := range 100 {
			id := fmt.Sprintf("snap-%d-%03d", i, j)
			ids = append(ids, id)
			snaps = append(snaps, snap(id, 1))
		}
		f.Images = append(f.Images, image(fmt.Sprintf("ami-%d", i), ids...))
	}
	f.Pages = [][]types.Snapshot{snaps}
	got, err := amiKind(f).List(t.Context())
	if err != nil || len(got) != 3 {
		t.Fatalf("List = %d images, %v", len(got), err)
	}
	var sizes []int
	for _, ids := range f.snapshotIDs {
		sizes = append(sizes, len(ids))
	}
	if diff := cmp.Diff([]int{200, 100}, sizes); diff != "" {
		t.Errorf("ids per DescribeSnapshots (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if n := len(splitIDs(r.DeleteChange["delete-snapshots"])); n != 100 {
			t.Errorf("%s deletes %d snapshots, want 100", r.ID, n)
		}
	}
}

func TestAMIDeleteKeepsWhatThePlanKeeps(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change         map[string]string
		protectNow     string // a snapshot tagged broom:keep between plan and apply
		unprotectNow   string // a snapshot whose broom:keep was removed since the plan
		wantErr        error
		wantDeregister []string
		wantDeleted    []string
	}{
		"deletes the planned snapshots and no protected or Backup one": {
			change:         map[string]string{"delete-snapshots": "snap-plain"},
			wantDeregister: []string{"ami-1"},
			wantDeleted:    []string{"snap-plain"},
		},
		"a planned snapshot protected since the plan: nothing is done": {
			change:     map[string]string{"delete-snapshots": "snap-plain"},
			protectNow: "snap-plain",
			wantErr:    ErrChanged,
		},
		"never beyond the planned set, even a protected snapshot planned by mistake": {
			change:         map[string]string{"delete-snapshots": "snap-keep"},
			wantErr:        ErrChanged,
			wantDeregister: nil,
		},
		"a snapshot deletable since the plan is kept: it was not approved": {
			change:         map[string]string{"delete-snapshots": "snap-plain"},
			unprotectNow:   "snap-keep",
			wantDeregister: []string{"ami-1"},
			wantDeleted:    []string{"snap-plain"},
		},
		"a delete without a planned set deletes no snapshot": {
			wantDeregister: []string{"ami-1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := fourSnapshots()
			if tc.protectNow != "" {
				for i, s := range f.Pages[0] {
					if aws.ToString(s.SnapshotId) == tc.protectNow {
						f.Pages[0][i].Tags = append(f.Pages[0][i].Tags, types.Tag{Key: aws.String("broom:keep"), Value: aws.String("now")})
					}
				}
			}
			if tc.unprotectNow != "" {
				for i, s := range f.Pages[0] {
					if aws.ToString(s.SnapshotId) == tc.unprotectNow {
						f.Pages[0][i].Tags = nil
					}
				}
			}
			err := amiKind(f).Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "ami", ID: "ami-1", Change: tc.change})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("Do = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantDeregister, f.deregistered); diff != "" {
				t.Errorf("deregistered (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDeleted, f.deleted); diff != "" {
				t.Errorf("deleted snapshots (-want +got):\n%s", diff)
			}
		})
	}
}
