package engine

import (
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/plan"
)

// kmTestEnsureProtected checks that an ensure never modifies a bucket
// protect covers (SPEC §9): by tag or by name, at plan and, for a bucket
// protected after the plan, at apply.
func kmTestEnsureProtected(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, acct, bucket = "eu-west-1", awstest.AccountID, "acme-ci-artifacts"
	seed := m.Config(t, region)
	direct := s3.NewFromConfig(seed)
	kmTry(direct.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: region}})).must(t, "create bucket")
	rc, rec := m.Recorded(t, region)
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{acct + "/" + region: rc}), WithChangeRef(kmChangeRef))
	config := func(protect string) string {
		return `version: 1
regions: [` + region + `]
protect: ` + protect + `
tags: {Owner: platform-team}
rules:
  - name: artifacts-bucket
    resource: s3-bucket
    action: ensure
    bucket: ` + bucket + `
    settings: {versioning: true}
`
	}
	byTag := kmParse(t, config(`{tags: {"broom:keep": "*"}}`))
	versioning := func() s3types.BucketVersioningStatus {
		return kmTry(direct.GetBucketVersioning(t.Context(), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})).must(t, "versioning").Status
	}

	// reads counts the plan's calls on the bucket: one HeadBucket, the
	// setting, and the tags protect judges, read once (not again after
	// comparing).
	reads := func(what string) {
		t.Helper()
		got := map[string]int{}
		for _, c := range rec.Calls() {
			got[c.Op]++
		}
		if diff := cmp.Diff(map[string]int{"HeadBucket": 1, "GetBucketVersioning": 1, "GetBucketTagging": 1}, got); diff != "" {
			t.Errorf("calls of the plan of %s (-want +got):\n%s", what, diff)
		}
	}

	// Made before the bucket was protected: one update.
	rec.Reset()
	before, err := e.Plan(t.Context(), byTag, acct)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Plan.Actions) != 1 || before.Plan.Actions[0].Op != plan.Update || len(before.Protected) != 0 {
		t.Fatalf("plan of an unprotected bucket = %+v, protected %+v; want one update", kmActions(before.Plan.Actions), before.Protected)
	}
	reads("an unprotected bucket")

	awstest.TagBucket(t, seed, bucket, map[string]string{"broom:keep": "yes"})
	rec.Reset()
	now, err := e.Plan(t.Context(), byTag, acct)
	if err != nil {
		t.Fatal(err)
	}
	if len(now.Plan.Actions) != 0 {
		t.Errorf("plan of a bucket protected by tag = %+v, want none", kmActions(now.Plan.Actions))
	}
	if diff := cmp.Diff(map[string]string{bucket: "artifacts-bucket: protected: tag broom:keep=yes"}, kmProtected(now.Protected)); diff != "" {
		t.Errorf("left alone (-want +got):\n%s", diff)
	}
	reads("a bucket protected by tag")

	// Applying the plan made before: skipped, the bucket untouched.
	applied := e.Apply(t.Context(), byTag, before.Plan)
	if a := applied.Actions[0]; a.Status != plan.Skipped || a.Error != "no longer planned: protected: tag broom:keep=yes" {
		t.Errorf("apply of the earlier plan: %s %q, want skipped as protected", a.Status, a.Error)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("plan and apply of a protected bucket made mutating calls: %v", got)
	}
	if v := versioning(); v == s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning of the protected bucket = %q: it was modified", v)
	}

	// By name, in protect.ids: neither converged nor created.
	awstest.TagBucket(t, seed, bucket, map[string]string{"Team": "data"})
	byID := kmParse(t, config(`{ids: [`+bucket+`]}`))
	for _, missing := range []bool{false, true} {
		if missing {
			kmTry(direct.DeleteBucket(t.Context(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})).must(t, "delete bucket")
		}
		got, err := e.Plan(t.Context(), byID, acct)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Plan.Actions) != 0 {
			t.Errorf("missing %v: plan of a bucket named in protect.ids = %+v, want none", missing, kmActions(got.Plan.Actions))
		}
		if diff := cmp.Diff(map[string]string{bucket: "artifacts-bucket: protected: id listed in protect.ids"}, kmProtected(got.Protected)); diff != "" {
			t.Errorf("missing %v: left alone (-want +got):\n%s", missing, diff)
		}
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("plans of a protected bucket made mutating calls: %v", got)
	}
}
