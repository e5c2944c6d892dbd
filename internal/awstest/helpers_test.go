package awstest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
)

// errorsTB records Errorf.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Helper() {}
func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

func TestTimeNear(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := map[string]struct {
		got  time.Time
		fail bool
	}{
		"the same time passes":                    {got: want},
		"just inside the tolerance, early":        {got: want.Add(-5 * time.Minute)},
		"just inside the tolerance, late":         {got: want.Add(5 * time.Minute)},
		"a nanosecond past the tolerance fails":   {got: want.Add(5*time.Minute + 1), fail: true},
		"a nanosecond before the tolerance fails": {got: want.Add(-5*time.Minute - 1), fail: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := &errorsTB{TB: t}
			awstest.TimeNear(e, "old StartTime", tt.got, want, 5*time.Minute)
			if failed := len(e.errs) > 0; failed != tt.fail {
				t.Errorf("TimeNear(%v, %v, 5m) failed %v (%q), want %v", tt.got, want, failed, e.errs, tt.fail)
			}
		})
	}
}

func TestTagMapAndEC2Tags(t *testing.T) {
	t.Parallel()
	m := awstest.TagMap("Name", "nightly", "Environment", "ci")
	if diff := cmp.Diff(map[string]string{"Name": "nightly", "Environment": "ci"}, m); diff != "" {
		t.Errorf("TagMap (-want +got):\n%s", diff)
	}
	if got := awstest.TagMap(); got == nil || len(got) != 0 {
		t.Errorf("TagMap() = %#v, want an empty map", got)
	}
	want := []types.Tag{{Key: aws.String("Environment"), Value: aws.String("ci")}, {Key: aws.String("Name"), Value: aws.String("nightly")}}
	if diff := cmp.Diff(want, awstest.EC2Tags(m), cmp.AllowUnexported(types.Tag{})); diff != "" {
		t.Errorf("EC2Tags, sorted by key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(m, awstest.Tags(awstest.EC2Tags(m))); diff != "" {
		t.Errorf("Tags(EC2Tags(m)) (-want +got):\n%s", diff)
	}
}
