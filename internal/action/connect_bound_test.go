package action

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
)

// crowdTransport counts the calls in flight made with assumed roles'
// credentials (not moto's default key): each waits until want are in
// flight (or a while), so that calls made one after another show as 1 and
// a missing bound as more than want.
type crowdTransport struct {
	next http.RoundTripper
	want int

	mu        sync.Mutex
	in        int
	most      map[string]int // by service
	full      map[string]chan struct{}
	fullSince map[string]bool
}

func (c *crowdTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.Header.Get("Authorization"), "Credential="+awstest.AccessKeyID+"/") {
		return c.next.RoundTrip(req) // moto's default credentials: AssumeRole, the run's own identity
	}
	// The service, from the signature's scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request.
	_, scope, _ := strings.Cut(req.Header.Get("Authorization"), "Credential=")
	op := strings.Split(scope, "/")[3]
	c.mu.Lock()
	c.in++
	c.most[op] = max(c.most[op], c.in)
	if c.full[op] == nil {
		c.full[op] = make(chan struct{})
	}
	full := c.full[op]
	if c.in >= c.want && !c.fullSince[op] {
		c.fullSince[op] = true
		close(full)
	}
	c.mu.Unlock()
	select {
	case <-full:
	case <-time.After(time.Second):
	}
	time.Sleep(10 * time.Millisecond) // let more try to start
	defer func() {
		c.mu.Lock()
		c.in--
		c.mu.Unlock()
	}()
	return c.next.RoundTrip(req)
}

// The accounts are checked (role assumed, STS asked) and their aliases
// read at once, up to aws.max-listings, not one after another; the
// accounts keep the config's order.
func TestConnectChecksAccountsAtOnce(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	var listed []config.Account
	for i := range 6 {
		id := fmt.Sprintf("4444000000%02d", i+1)
		listed = append(listed, config.Account{ID: id, Role: roleIn(id)})
	}
	for _, tc := range []struct {
		name        string
		maxListings int
		want        int
	}{
		{"every account at once", 0, 6}, // the default bound, 8, is above the 6 accounts
		{"two at a time", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			crowd := &crowdTransport{next: http.DefaultTransport, want: tc.want, most: map[string]int{},
				full: map[string]chan struct{}{}, fullSince: map[string]bool{}}
			base := func(_ context.Context, region string) (aws.Config, error) {
				c := m.Config(t, region)
				c.HTTPClient = &http.Client{Transport: crowd}
				return c, nil
			}
			cfg := config.Config{File: config.File{Regions: []string{"us-east-1"}, Accounts: listed,
				AWS: config.AWS{MaxListings: tc.maxListings}}}
			c, err := connect(t.Context(), slog.New(slog.DiscardHandler), cfg, PlanOnly, base)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range listed {
				ids = append(ids, a.ID)
			}
			if diff := cmp.Diff(ids, c.Accounts); diff != "" {
				t.Errorf("accounts (-config +connected):\n%s", diff)
			}
			// sts: GetCallerIdentity, the check; iam: ListAccountAliases.
			want := map[string]int{"sts": tc.want, "iam": tc.want}
			if diff := cmp.Diff(want, crowd.most); diff != "" {
				t.Errorf("most calls in flight with the roles' credentials, by service (-want +got):\n%s", diff)
			}
		})
	}
}
