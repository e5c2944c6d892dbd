package cloud_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
)

// EC2 counts request rates per account and region: the clients of two
// accounts of a run, in one region, each have their account's buckets;
// the clients of one account share them.
func TestEachAccountHasBucketsOfItsOwn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := fast
	a.RateLimits = map[string]config.RateLimit{"DeleteSnapshot": {Burst: 2, PerSecond: 20}}
	o := cloud.NewOptions(a)
	frozen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var s sleeps
	o.Limiter = cloud.NewLimiter(a.RateLimits, cloud.WithLimiterClock(func() time.Time { return frozen }), cloud.WithLimiterSleep(s.sleep))
	client := func(account string) *ec2.Client {
		cfg, err := cloud.Load(t.Context(), "us-east-1", o)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
		cfg = cloud.ForAccount(cfg, account)
		return ec2.NewFromConfig(cfg, func(eo *ec2.Options) { eo.BaseEndpoint = aws.String(w.proxy.URL()) })
	}
	one, alsoOne, two := client("111111111111"), client("111111111111"), client("222222222222")
	for i, c := range []*ec2.Client{one, alsoOne, two, two} {
		if err := deleteSnapshot(t.Context(), c, fmt.Sprintf("snap-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.sorted(); len(got) != 0 {
		t.Errorf("waited %v, want no wait: each account's burst is 2", got)
	}
	if err := deleteSnapshot(t.Context(), alsoOne, "snap-4"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{50 * time.Millisecond}, s.sorted()); diff != "" {
		t.Errorf("the first account's third call waited (-want +got):\n%s", diff)
	}
	var got []string
	for _, st := range o.Limiter.Stats() {
		got = append(got, fmt.Sprintf("%s %s %s %d", st.Account, st.Region, st.Op, st.Calls))
	}
	want := []string{"111111111111 us-east-1 DeleteSnapshot 3", "222222222222 us-east-1 DeleteSnapshot 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
}
