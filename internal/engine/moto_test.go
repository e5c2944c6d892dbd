package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
)

// TestMotoPlanChangesNothingAndApplyIsIdempotent is the key safety check
// (SPEC §9) against a real moto_server with the real resource kinds: a plan
// makes no mutating call even when its rule matches protected and in-use
// snapshots; apply deletes exactly the plan; a second plan is empty; and
// applying the first plan again is all already-done without a delete.
func TestMotoPlanChangesNothingAndApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	const region = awstest.DefaultRegion
	m := awstest.StartMoto(t)
	direct := m.Config(t, region)

	m.SetClock("-400d")
	vol := awstest.CreateVolume(t, direct, 8, region+"a")
	ci := map[string]string{"Environment": "ci"}
	old1 := awstest.CreateSnapshot(t, direct, vol, ci)
	old2 := awstest.CreateSnapshot(t, direct, vol, map[string]string{"Environment": "ci", "Name": "nightly"})
	kept := awstest.CreateSnapshot(t, direct, vol, map[string]string{"Environment": "ci", "broom:keep": "true"})
	prod := awstest.CreateSnapshot(t, direct, vol, map[string]string{"Environment": "prod"})
	image, behindAMI := awstest.RegisterImage(t, direct, "ci-image", ci)
	m.SetClock("+0")
	young := awstest.CreateSnapshot(t, direct, vol, ci)

	// Built here, not in load: load runs on the engine's goroutines, where
	// m.Config's t.Fatalf would not stop the test.
	recorded, rec := m.Recorded(t, region)
	load := func(_ context.Context, _, r string) (aws.Config, error) {
		if r != region {
			return aws.Config{}, fmt.Errorf("load: unexpected region %q", r)
		}
		return recorded.Copy(), nil
	}
	e := New(slog.New(slog.DiscardHandler), load)
	cfg := config.Config{File: config.File{
		ID: "moto", Regions: []string{region}, MaxActions: 100,
		Protect: config.Protect{Tags: map[string]string{"broom:keep": "*"}},
		Rules: []config.Rule{{Name: "old-ci-snapshots", Resource: "ebs-snapshot", Action: "delete",
			Where: config.Where{OlderThan: 30 * day, Tags: map[string]string{"Environment": "ci"}}}},
	}}

	planIDs := func(as []plan.Action) []string {
		out := []string{}
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	// Plan: exactly the old, unprotected CI snapshots; no mutating call.
	first, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sorted(old1, old2), planIDs(first.Plan.Actions)); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
	for _, a := range first.Plan.Actions {
		if a.Op != plan.Delete || a.Kind != "ebs-snapshot" || a.Account != awstest.AccountID || a.Region != region ||
			a.Rule != "old-ci-snapshots" || !strings.HasSuffix(a.Reason, "days old > 30d; tags Environment=ci") {
			t.Errorf("action %+v: want delete ebs-snapshot in %s/%s by old-ci-snapshots with an age reason", a, awstest.AccountID, region)
		}
	}
	protected := map[string]string{}
	for _, a := range first.Protected {
		protected[a.ID] = a.Reason
	}
	wantProtected := map[string]string{kept: "protected: tag broom:keep=true", behindAMI: "in use: backs AMI " + image}
	if diff := cmp.Diff(wantProtected, protected); diff != "" {
		t.Errorf("protected (-want +got):\n%s", diff)
	}
	if got := rec.Mutating(); got != nil {
		t.Fatalf("plan made mutating calls: %v", got)
	}
	if got := rec.Count("DescribeSnapshots") + rec.Count("DescribeImages"); got != len(rec.Calls()) {
		t.Errorf("plan made calls other than DescribeSnapshots and DescribeImages: %v", rec.Calls())
	}

	// Apply: exactly the planned snapshots are deleted.
	rec.Reset()
	applied := e.Apply(t.Context(), cfg, first.Plan)
	for _, a := range applied.Actions {
		if a.Status != plan.Done {
			t.Errorf("apply %s: %s %q, want done", a.ID, a.Status, a.Error)
		}
	}
	want := []awstest.Call{{Service: "ec2", Region: region, Op: "DeleteSnapshot"}, {Service: "ec2", Region: region, Op: "DeleteSnapshot"}}
	if diff := cmp.Diff(want, rec.Mutating()); diff != "" {
		t.Errorf("apply's mutating calls (-want +got):\n%s", diff)
	}
	left := slices.Sorted(maps.Keys(awstest.Snapshots(t, direct)))
	if diff := cmp.Diff(sorted(kept, prod, behindAMI, young), left); diff != "" {
		t.Errorf("snapshots left after apply (-want +got):\n%s", diff)
	}

	// A second plan has nothing to do, and still reports what it protects.
	rec.Reset()
	second, err := e.Plan(t.Context(), cfg, awstest.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if got := planIDs(second.Plan.Actions); len(got) != 0 {
		t.Errorf("second plan = %v, want empty", got)
	}
	if second.Plan.Fingerprint != plan.Fingerprint(nil) {
		t.Errorf("second plan's fingerprint %s is not the empty plan's", second.Plan.Fingerprint)
	}
	if got := len(second.Protected); got != 2 {
		t.Errorf("second plan protects %d, want 2", got)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("second plan made mutating calls: %v", got)
	}

	// Applying the first plan again: all already done, no delete sent.
	rec.Reset()
	again := e.Apply(t.Context(), cfg, first.Plan)
	for _, a := range again.Actions {
		if a.Status != plan.AlreadyDone || a.Error != "" {
			t.Errorf("re-apply %s: %s %q, want already-done", a.ID, a.Status, a.Error)
		}
	}
	if got := rec.Count("DeleteSnapshot"); got != 0 {
		t.Errorf("re-apply sent %d DeleteSnapshot calls, want 0", got)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("re-apply made mutating calls: %v", got)
	}
	if left2 := slices.Sorted(maps.Keys(awstest.Snapshots(t, direct))); !slices.Equal(left, left2) {
		t.Errorf("re-apply changed the snapshots: %v, then %v", left, left2)
	}
}
