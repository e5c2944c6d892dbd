package resource

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
)

// filterSpy records the filters of the DescribeSnapshots calls it serves.
type filterSpy struct {
	*fakeEC2
	filters [][]types.Filter
}

func (s *filterSpy) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, o ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	s.filters = append(s.filters, in.Filters)
	return s.fakeEC2.DescribeSnapshots(ctx, in, o...)
}

func TestListAsksTheAPIToNarrow(t *testing.T) {
	t.Parallel()
	spy := &filterSpy{fakeEC2: &fakeEC2{Pages: [][]types.Snapshot{{}}}}
	k := &ebsSnapshots{api: spy, narrow: Narrow{Tags: map[string]string{"Environment": "ci", "Team": "*"}}}
	if _, err := k.List(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []types.Filter{
		{Name: aws.String("tag:Environment"), Values: []string{"ci"}},
		{Name: aws.String("tag-key"), Values: []string{"Team"}},
	}
	if len(spy.filters) != 1 {
		t.Fatalf("%d DescribeSnapshots calls, want 1", len(spy.filters))
	}
	if diff := cmp.Diff(want, spy.filters[0], cmp.Comparer(func(a, b types.Filter) bool {
		return aws.ToString(a.Name) == aws.ToString(b.Name) && cmp.Equal(a.Values, b.Values)
	})); diff != "" {
		t.Errorf("filters (-want +got):\n%s", diff)
	}
}
