package resource

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/plan"
)

// ListPages hands over each page of DescribeSnapshots as it comes, with
// the facts List gives (an AMI's snapshot is in use on whichever page), and
// stops at the first error its caller returns, asking for no more pages.
func TestListPagesHandsOverEachPage(t *testing.T) {
	t.Parallel()
	pages := func() [][]types.Snapshot {
		return [][]types.Snapshot{{snap("snap-1", 1), snap("snap-2", 1)}, {snap("snap-ami", 1)}, {snap("snap-4", 1)}}
	}
	images := []types.Image{{ImageId: aws.String("ami-1"), BlockDeviceMappings: []types.BlockDeviceMapping{
		{Ebs: &types.EbsBlockDevice{SnapshotId: aws.String("snap-ami")}}}}}
	t.Run("every page, in order", func(t *testing.T) {
		t.Parallel()
		f := &fakeEC2{Pages: pages(), Images: images}
		var got [][]string
		inUse := map[string]string{}
		err := (&ebsSnapshots{api: f}).ListPages(t.Context(), func(page []plan.Resource) error {
			got = append(got, ids(page))
			for _, r := range page {
				if r.InUse != "" {
					inUse[r.ID] = r.InUse
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([][]string{{"snap-1", "snap-2"}, {"snap-ami"}, {"snap-4"}}, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"snap-ami": "backs AMI ami-1"}, inUse); diff != "" {
			t.Errorf("in use (-want +got):\n%s", diff)
		}
	})
	t.Run("the caller's error ends the listing", func(t *testing.T) {
		t.Parallel()
		f := &fakeEC2{Pages: pages(), Images: images}
		stop := errors.New("enough")
		calls := 0
		err := (&ebsSnapshots{api: f}).ListPages(t.Context(), func([]plan.Resource) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("ListPages = %v after %d pages, want the caller's error after the first", err, calls)
		}
		if diff := cmp.Diff([]string{""}, f.tokens); diff != "" {
			t.Errorf("NextTokens sent (-want +got):\n%s", diff)
		}
	})
}
