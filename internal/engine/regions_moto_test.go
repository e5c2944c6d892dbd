package engine

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// This file runs regions: all (SPEC §3) against moto: the engine asks EC2
// for the enabled regions once per account, in the account's first
// region, and lists every one of them like a named region, a bounded
// number at a time.

const rgOther = "111111111111"

const rgRole = "arn:aws:iam::" + rgOther + ":role/broom"

// rgConfig is a config with one snapshot rule over regions (a YAML value).
// The region it connects in is us-east-1, as action.ResolveRegions makes it.
func rgConfig(t *testing.T, regions string) config.Config {
	t.Helper()
	cfg := kmParse(t, `version: 1
regions: `+regions+`
accounts:
  - {id: "`+rgOther+`", role: "`+rgRole+`"}
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d, tags: {Environment: ci}}
  - name: logs-bucket
    resource: s3-bucket
    action: ensure
    bucket: acme-rg-logs
    region: eu-west-1
  - name: home-bucket
    resource: s3-bucket
    action: ensure
    bucket: acme-rg-home
`)
	if len(cfg.Regions) == 0 {
		cfg.Regions = []string{awstest.DefaultRegion}
	}
	return cfg
}

// rgLoader builds, on the test goroutine, a configuration per region of
// names for the credentials' account and for rgOther (through rgRole),
// each account's calls through its own recorder.
func rgLoader(t *testing.T, m *awstest.Moto, names []string) (Loader, *awstest.Recorder, *awstest.Recorder) {
	t.Helper()
	homeRec, otherRec := awstest.NewRecorder(t, m.URL()), awstest.NewRecorder(t, m.URL())
	cfgs := map[string]aws.Config{}
	for _, r := range names {
		c := m.Config(t, r)
		c.BaseEndpoint = aws.String(homeRec.URL())
		cfgs[awstest.AccountID+"/"+r] = c
		o := m.Config(t, r)
		o.BaseEndpoint = aws.String(otherRec.URL())
		cfgs[rgOther+"/"+r] = cloud.AssumeRole(o, rgRole, "broom")
	}
	return kmLoader(cfgs), homeRec, otherRec
}

func TestMotoRegionsAll(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, awstest.DefaultRegion)
	out, err := ec2.NewFromConfig(direct).DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	// moto answers every region it knows, whatever AllRegions says; those
	// that need an opt-in say not-opted-in, and are not enabled.
	var names, optIn []string
	for _, r := range out.Regions {
		if aws.ToString(r.OptInStatus) == "not-opted-in" {
			optIn = append(optIn, aws.ToString(r.RegionName))
			continue
		}
		names = append(names, aws.ToString(r.RegionName))
	}
	slices.Sort(names)
	t.Logf("moto names %d regions, %d of them enabled", len(out.Regions), len(names))
	if len(names) < 17 || !slices.Contains(names, "ap-southeast-2") || len(optIn) == 0 {
		t.Fatalf("moto names enabled regions %q and not enabled %q: want at least the 17 every account has, ap-southeast-2 among them, and some not enabled",
			names, optIn)
	}

	t.Run("plans every enabled region of each account", func(t *testing.T) { rgTestPlans(t, m, names) })
	t.Run("a failed DescribeRegions names the account and lists nothing", func(t *testing.T) { rgTestFails(t, m, names) })
	t.Run("listings stay bounded", func(t *testing.T) { rgTestBounded(t, m, names) })
}

func rgTestPlans(t *testing.T, m *awstest.Moto, names []string) {
	ci := map[string]string{"Environment": "ci"}
	far := m.Config(t, "ap-southeast-2")
	farOther := cloud.AssumeRole(m.Config(t, "ap-southeast-2"), rgRole, "broom")
	near := m.Config(t, awstest.DefaultRegion)
	m.SetClock("-400d")
	farSnap := awstest.CreateSnapshot(t, far, awstest.CreateVolume(t, far, 8, "ap-southeast-2a"), ci)
	farOtherSnap := awstest.CreateSnapshot(t, farOther, awstest.CreateVolume(t, farOther, 8, "ap-southeast-2a"), ci)
	nearSnap := awstest.CreateSnapshot(t, near, awstest.CreateVolume(t, near, 8, "us-east-1a"), ci)
	m.SetClock("+0")

	load, homeRec, otherRec := rgLoader(t, m, names)
	e := New(slog.New(slog.DiscardHandler), load)
	accounts := []string{awstest.AccountID, rgOther}

	all, err := e.Plan(t.Context(), rgConfig(t, "all"), accounts...)
	if err != nil {
		t.Fatal(err)
	}
	want := kmSorted([]kmAction{
		{"old-ci-snapshots", "delete", "ebs-snapshot", awstest.AccountID, "ap-southeast-2", farSnap, nil},
		{"old-ci-snapshots", "delete", "ebs-snapshot", awstest.AccountID, "us-east-1", nearSnap, nil},
		{"old-ci-snapshots", "delete", "ebs-snapshot", rgOther, "ap-southeast-2", farOtherSnap, nil},
	})
	if diff := cmp.Diff(want, rgSnapshots(t, all.Plan.Actions)); diff != "" {
		t.Errorf("regions: all planned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(names, all.Regions); diff != "" {
		t.Errorf("regions looked in (-moto's +got):\n%s", diff)
	}
	for who, rec := range map[string]*awstest.Recorder{"credentials' account": homeRec, "other account": otherRec} {
		// Once per account, in the region broom connects in; then one
		// listing in each region, and nothing changed.
		var asked []awstest.Call
		listed := map[string]int{}
		for _, c := range rec.Calls() {
			switch {
			case c.Op == "DescribeRegions":
				asked = append(asked, c)
			case c.Op == "DescribeSnapshots":
				listed[c.Region]++
			case c.Mutating() && c.Op != "AssumeRole":
				t.Errorf("%s: planning made a mutating call %v", who, c)
			}
		}
		if diff := cmp.Diff([]awstest.Call{{Service: "ec2", Region: awstest.DefaultRegion, Op: "DescribeRegions"}}, asked); diff != "" {
			t.Errorf("%s: DescribeRegions calls (-want +got):\n%s", who, diff)
		}
		if len(listed) != len(names) {
			t.Errorf("%s: listed snapshots in %d regions, want all %d: %v", who, len(listed), len(names), listed)
		}
		for r, n := range listed {
			if n != 1 {
				t.Errorf("%s: listed %s %d times, want once", who, r, n)
			}
		}
		rec.Reset()
	}

	named, err := e.Plan(t.Context(), rgConfig(t, "[us-east-1, eu-west-1]"), accounts...)
	if err != nil {
		t.Fatal(err)
	}
	want = []kmAction{{"old-ci-snapshots", "delete", "ebs-snapshot", awstest.AccountID, "us-east-1", nearSnap, nil}}
	if diff := cmp.Diff(want, rgSnapshots(t, named.Plan.Actions)); diff != "" {
		t.Errorf("named regions planned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-east-1"}, named.Regions); diff != "" {
		t.Errorf("named regions looked in (-want +got):\n%s", diff)
	}
	if n := homeRec.Count("DescribeRegions") + otherRec.Count("DescribeRegions"); n != 0 {
		t.Errorf("named regions asked DescribeRegions %d times, want never", n)
	}
}

// rgSnapshots returns the snapshot actions of a plan, and checks that its
// ensure rules are planned once, in their region: the rule's own, or the
// one broom connects in, whatever regions says.
func rgSnapshots(t *testing.T, as []plan.Action) []kmAction {
	t.Helper()
	var snaps []plan.Action
	buckets := map[string]string{}
	for _, a := range as {
		if a.Kind == "s3-bucket" {
			buckets[a.ID] += a.Account + "/" + a.Region + " "
			continue
		}
		snaps = append(snaps, a)
	}
	want := map[string]string{
		"acme-rg-logs": awstest.AccountID + "/eu-west-1 ",
		"acme-rg-home": awstest.AccountID + "/" + awstest.DefaultRegion + " ",
	}
	if diff := cmp.Diff(want, buckets); diff != "" {
		t.Errorf("buckets to create, account/region (-want +got):\n%s", diff)
	}
	return kmActions(snaps)
}

// A DescribeRegions that fails (here: nothing listens where the other
// account's calls go) fails the plan before anything is listed, naming the
// account: no silent fall-back to fewer regions.
func rgTestFails(t *testing.T, m *awstest.Moto, names []string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	rec := awstest.NewRecorder(t, m.URL())
	home := m.Config(t, awstest.DefaultRegion)
	home.BaseEndpoint = aws.String(rec.URL())
	gone := m.Config(t, awstest.DefaultRegion)
	gone.BaseEndpoint = aws.String(closed)
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{
		awstest.AccountID + "/" + awstest.DefaultRegion: home, rgOther + "/" + awstest.DefaultRegion: gone}))

	_, err = e.Plan(t.Context(), rgConfig(t, "all"), awstest.AccountID, rgOther)
	if err == nil {
		t.Fatal("plan succeeded, want the other account's DescribeRegions error")
	}
	for _, s := range []string{"regions: all: list the regions enabled for account " + rgOther + ": ", "DescribeRegions"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if n := rec.Count("DescribeSnapshots"); n != 0 {
		t.Errorf("listed snapshots %d times before failing, want none", n)
	}
}

// boundedKind counts the listings in flight; each waits until the bound is
// reached (or a while), so that a missing bound shows as more.
type boundedKind struct {
	mu             sync.Mutex
	in, max, calls int
	reached        bool
	full           chan struct{}
}

func (k *boundedKind) List(context.Context) ([]plan.Resource, error) {
	k.mu.Lock()
	k.in++
	k.calls++
	k.max = max(k.max, k.in)
	if k.in == 8 && k.max == 8 && !k.reached {
		k.reached = true
		close(k.full)
	}
	k.mu.Unlock()
	select {
	case <-k.full:
	case <-time.After(3 * time.Second):
	}
	time.Sleep(20 * time.Millisecond) // let more try to start
	k.mu.Lock()
	k.in--
	k.mu.Unlock()
	return nil, nil
}

func (k *boundedKind) Get(context.Context, string) (plan.Resource, bool, error) {
	return plan.Resource{}, false, nil
}

func (k *boundedKind) Do(context.Context, plan.Action) error { return nil }

// Every enabled region is listed, at most 8 at a time (the engine's
// listers): regions: all does not start one listing per region at once.
func rgTestBounded(t *testing.T, m *awstest.Moto, names []string) {
	k := &boundedKind{full: make(chan struct{})}
	home := m.Config(t, awstest.DefaultRegion)
	load := func(_ context.Context, _, region string) (aws.Config, error) {
		if region == awstest.DefaultRegion {
			return home.Copy(), nil // DescribeRegions goes to moto
		}
		return aws.Config{Region: region}, nil
	}
	spec := resource.Spec{Name: kind, Actions: map[string][]string{"delete": {"older-than"}}, New: func(resource.Env) resource.Kind { return k }}
	e := New(slog.New(slog.DiscardHandler), load, WithKinds(func(string) (resource.Spec, error) { return spec, nil }))
	cfg := cfgWith([]string{awstest.DefaultRegion}, config.Protect{}, rule("old", 30*day))
	cfg.AllRegions = true
	res, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if k.calls != len(names) || len(res.Regions) != len(names) {
		t.Errorf("listed %d times in %d regions, want once in each of %d", k.calls, len(res.Regions), len(names))
	}
	if k.max != 8 {
		t.Errorf("at most %d listings at once, want 8", k.max)
	}
}
