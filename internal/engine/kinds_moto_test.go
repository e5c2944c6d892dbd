package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// This file runs the engine with every resource kind against a real
// moto_server (SPEC §10): the SPEC §3 example config plans exactly what each
// rule should act on, changes nothing while planning, applies, and then has
// nothing to do; and a plan spans two accounts through an assumed role.

// kmChangeRef is the broom:change value of the runs under test.
const kmChangeRef = "https://github.com/acme/infra/pull/9"

// kmSpecConfig is SPEC §3's example config, verbatim: the tests' one copy.
// kmTestSpecExample seeds us-east-1 only (the bucket goes to eu-west-1, as
// the rule says), and nothing it seeds carries the DoNotDelete tag or the
// protected id; allowed-accounts is the driver's to check, not the engine's.
const kmSpecConfig = "../config/testdata/spec-example.yml"

func kmParse(t *testing.T, text string) config.Config {
	t.Helper()
	f, err := config.Parse("broom.yml", []byte(text), resource.Catalog())
	if err != nil {
		t.Fatalf("parse config:\n%v", err)
	}
	return config.Config{File: f}
}

// kmAction is the part of a planned action these tests compare.
type kmAction struct {
	Rule, Op, Kind, Account, Region, ID string
	Change                              map[string]string
}

func kmActions(as []plan.Action) []kmAction {
	out := []kmAction{}
	for _, a := range as {
		out = append(out, kmAction{a.Rule, a.Op.String(), a.Kind, a.Account, a.Region, a.ID, a.Change})
	}
	return kmSorted(out)
}

// kmSorted orders actions by kind, account, id, op and change, so that a plan and an
// expectation compare whatever order either lists them in.
func kmSorted(as []kmAction) []kmAction {
	key := func(a kmAction) string { return fmt.Sprint(a.Kind, a.Account, a.ID, a.Op, a.Change) }
	slices.SortFunc(as, func(a, b kmAction) int { return strings.Compare(key(a), key(b)) })
	return as
}

func kmProtected(as []plan.Action) map[string]string {
	out := map[string]string{}
	for _, a := range as {
		out[a.ID] = a.Rule + ": " + a.Reason
	}
	return out
}

// kmResult is an AWS call's result: kmTry(c.Call(...)).must(t, "what")
// seeds or inspects moto and fails the test on an error.
type kmResult[T any] struct {
	out T
	err error
}

func kmTry[T any](out T, err error) kmResult[T] { return kmResult[T]{out, err} }

func (r kmResult[T]) must(t *testing.T, what string) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	return r.out
}

// kmLoader answers the configurations built for each account and region
// (on the test goroutine, before the engine runs) and fails on any other.
func kmLoader(cfgs map[string]aws.Config) Loader {
	return func(_ context.Context, account, region string) (aws.Config, error) {
		c, ok := cfgs[account+"/"+region]
		if !ok {
			return aws.Config{}, fmt.Errorf("load: unexpected account %q, region %q", account, region)
		}
		return c.Copy(), nil
	}
}

// TestMotoKinds starts one moto and runs every check on it, resetting it
// between subtests, which therefore run one after the other (they share
// moto's clock). One server rather than one per check: moto is CPU-heavy,
// and several at once on a small CI machine make calls time out.
//
// moto lets any account read and write any account's buckets unless
// MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false, which it reads from its own
// environment, inherited at start. Real S3 refuses another account's
// bucket, so the server runs with it false; t.Setenv rules out t.Parallel,
// and the package's parallel tests wait until this one is done.
func TestMotoKinds(t *testing.T) {
	t.Setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
	m := awstest.StartMoto(t)
	t.Run("SPEC example config", func(t *testing.T) { kmTestSpecExample(t, m) })
	t.Run("snapshot-first through the engine", func(t *testing.T) { kmTestSnapshotFirst(t, m) })
	t.Run("two accounts", func(t *testing.T) { kmTestMultiAccount(t, m) })
	t.Run("ensure in two accounts, one owning the bucket", func(t *testing.T) { kmTestEnsureForeignBucket(t, m) })
	t.Run("ensure in two accounts, the bucket missing", func(t *testing.T) { kmTestEnsureMissingBucket(t, m) })
	t.Run("protect: an AMI's snapshots", func(t *testing.T) { kmTestAMIProtect(t, m) })
	t.Run("protect: ensure on a protected bucket", func(t *testing.T) { kmTestEnsureProtected(t, m) })
	t.Run("ecr-image deletes in batches", func(t *testing.T) { kmTestECRBatches(t, m) })
}

// kmTestSpecExample plans the SPEC §3 example against a moto seeded with
// what each rule should act on and what it must not (protected by tag, in
// use, young, not matching), applies it, and plans again.
func kmTestSpecExample(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, bucketRegion, bucket = "us-east-1", "eu-west-1", "acme-ci-artifacts"
	const acct = awstest.AccountID
	direct := m.Config(t, region)
	c := ec2.NewFromConfig(direct)
	ctx := t.Context()
	keep := map[string]string{"broom:keep": "yes"}
	ci := map[string]string{"Environment": "ci"}

	// Old things.
	m.SetClock("-400d")
	staleAMI, staleAMISnap := awstest.RegisterImage(t, direct, "stale", ci) // its snapshot is CI's, but in use
	runAMI, _ := awstest.RegisterImage(t, direct, "running", nil)
	templateAMI, _ := awstest.RegisterImage(t, direct, "templated", nil)
	keptAMI, _ := awstest.RegisterImage(t, direct, "kept", nil)
	awstest.Tag(t, direct, keptAMI, keep)
	orphanVol := awstest.CreateVolume(t, direct, 8, region+"a")
	keptVol := awstest.CreateVolume(t, direct, 8, region+"a")
	awstest.Tag(t, direct, keptVol, keep)
	busyVol := awstest.CreateVolume(t, direct, 8, region+"a")
	busyOwnedVol := awstest.CreateVolume(t, direct, 8, region+"a")
	awstest.Tag(t, direct, busyOwnedVol, map[string]string{"Owner": "data-team"})
	ciSnap := awstest.CreateSnapshot(t, direct, orphanVol, ci)
	keptSnap := awstest.CreateSnapshot(t, direct, orphanVol, map[string]string{"Environment": "ci", "broom:keep": "true"})
	awstest.CreateSnapshot(t, direct, orphanVol, map[string]string{"Environment": "prod"})
	m.SetClock("+0")

	// Young things, and what uses the old ones.
	awstest.RegisterImage(t, direct, "young", nil)
	youngOwnedVol := awstest.CreateVolume(t, direct, 8, region+"a")
	awstest.Tag(t, direct, youngOwnedVol, map[string]string{"Owner": "data-team"})
	youngVol := awstest.CreateVolume(t, direct, 8, region+"a")
	awstest.CreateSnapshot(t, direct, youngVol, ci)
	inst := awstest.RunInstance(t, direct, runAMI)
	awstest.AttachVolume(t, direct, busyVol, inst, "/dev/sdf")
	awstest.AttachVolume(t, direct, busyOwnedVol, inst, "/dev/sdg")
	awstest.CreateLaunchTemplate(t, direct, "web", templateAMI)
	// moto gives the instance a root volume, attached and without Owner.
	rootVols := kmTry(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{inst}}}})).must(t, "describe root volume")
	var rootVol string
	for _, v := range rootVols.Volumes {
		if id := aws.ToString(v.VolumeId); id != busyVol && id != busyOwnedVol {
			rootVol = id
		}
	}
	if rootVol == "" {
		t.Fatalf("no root volume for %s among %+v", inst, rootVols.Volumes)
	}
	idleEIP, keptEIP, boundEIP := awstest.AllocateAddress(t, direct), awstest.AllocateAddress(t, direct), awstest.AllocateAddress(t, direct)
	awstest.Tag(t, direct, keptEIP, keep)
	awstest.AssociateAddress(t, direct, boundEIP, inst)

	rec := awstest.NewRecorder(t, m.URL())
	cfgs := map[string]aws.Config{}
	for _, r := range []string{region, bucketRegion} {
		rc := m.Config(t, r)
		rc.BaseEndpoint = aws.String(rec.URL())
		cfgs[acct+"/"+r] = rc
	}
	e := New(slog.New(slog.DiscardHandler), kmLoader(cfgs), WithChangeRef(kmChangeRef))
	spec, err := os.ReadFile(kmSpecConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := kmParse(t, string(spec))

	first, err := e.Plan(ctx, cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{"Owner": "platform-team"}
	want := kmSorted([]kmAction{
		{"old-ci-snapshots", "delete", "ebs-snapshot", acct, region, ciSnap, nil},
		{"orphan-volumes", "delete", "ebs-volume", acct, region, orphanVol, nil},
		{"stale-amis", "delete", "ami", acct, region, staleAMI, map[string]string{"delete-snapshots": staleAMISnap}},
		{"idle-eips", "delete", "elastic-ip", acct, region, idleEIP, nil},
		{"volumes-have-owner", "tag", "ebs-volume", acct, region, busyVol, owner},
		{"volumes-have-owner", "tag", "ebs-volume", acct, region, rootVol, owner},
		{"volumes-have-owner", "tag", "ebs-volume", acct, region, youngVol, owner},
		{"artifacts-bucket", "create", "s3-bucket", acct, bucketRegion, bucket, map[string]string{
			"versioning": "true", "block-public-access": "true", "encryption": "AES256",
			"tag:Owner": "platform-team", "tag:Environment": "production", "tag:Project": "billing-pipeline", "tag:ManagedBy": "broom"}},
	})
	if diff := cmp.Diff(want, kmActions(first.Plan.Actions)); diff != "" {
		t.Errorf("first plan (-want +got):\n%s", diff)
	}
	// The AMIs in use (runAMI, templateAMI), the attached volumes and the
	// associated address fail their rule's unused, unattached or
	// unassociated filter, so they are neither planned nor listed here.
	wantProtected := map[string]string{
		keptSnap:     "old-ci-snapshots: protected: tag broom:keep=true",
		staleAMISnap: "old-ci-snapshots: in use: backs AMI " + staleAMI,
		keptVol:      "orphan-volumes: protected: tag broom:keep=yes",
		keptAMI:      "stale-amis: protected: tag broom:keep=yes",
		keptEIP:      "idle-eips: protected: tag broom:keep=yes",
	}
	if diff := cmp.Diff(wantProtected, kmProtected(first.Protected)); diff != "" {
		t.Errorf("first plan's protected (-want +got):\n%s", diff)
	}
	if got := rec.Mutating(); got != nil {
		t.Fatalf("plan made mutating calls: %v", got)
	}
	for _, a := range first.Plan.Actions {
		if a.Op == plan.Delete && a.Kind != "ami" && a.MonthlyCostUSD <= 0 {
			t.Errorf("delete of %s %s has no monthly cost", a.Kind, a.ID)
		}
	}

	// Apply: every action done.
	rec.Reset()
	applied := e.Apply(ctx, cfg, first.Plan)
	for _, a := range applied.Actions {
		if a.Status != plan.Done {
			t.Errorf("apply %s %s %s: %s %q, want done", a.Op, a.Kind, a.ID, a.Status, a.Error)
		}
	}
	writes := map[string]int{}
	for _, call := range rec.Mutating() {
		writes[call.Service+" "+call.Op]++
	}
	wantWrites := map[string]int{
		"ec2 DeleteSnapshot": 2, // the CI snapshot, and the stale AMI's
		"ec2 DeleteVolume":   1, "ec2 DeregisterImage": 1, "ec2 ReleaseAddress": 1, "ec2 CreateTags": 3,
		"s3 CreateBucket": 1, "s3 PutBucketVersioning": 1, "s3 PutPublicAccessBlock": 1, "s3 PutBucketEncryption": 1, "s3 PutBucketTagging": 1,
	}
	if diff := cmp.Diff(wantWrites, writes); diff != "" {
		t.Errorf("apply's mutating calls (-want +got):\n%s", diff)
	}
	snaps := awstest.Snapshots(t, direct)
	for _, gone := range []string{ciSnap, staleAMISnap} {
		if _, ok := snaps[gone]; ok {
			t.Errorf("snapshot %s still exists after apply", gone)
		}
	}
	if _, ok := snaps[keptSnap]; !ok {
		t.Errorf("protected snapshot %s was deleted", keptSnap)
	}
	vols := map[string]bool{}
	for _, v := range kmTry(c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})).must(t, "describe volumes").Volumes {
		vols[aws.ToString(v.VolumeId)] = true
	}
	if diff := cmp.Diff(map[string]bool{keptVol: true, busyVol: true, busyOwnedVol: true, youngOwnedVol: true, youngVol: true, rootVol: true}, vols); diff != "" {
		t.Errorf("volumes after apply (-want +got):\n%s", diff)
	}
	images := map[string]bool{}
	for _, img := range kmTry(c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})).must(t, "describe images").Images {
		images[aws.ToString(img.ImageId)] = true
	}
	if images[staleAMI] || !images[runAMI] || !images[templateAMI] || !images[keptAMI] || len(images) != 4 {
		t.Errorf("images after apply = %v; want all but %s", slices.Sorted(maps.Keys(images)), staleAMI)
	}
	eips := map[string]bool{}
	for _, a := range kmTry(c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})).must(t, "describe addresses").Addresses {
		eips[aws.ToString(a.AllocationId)] = true
	}
	if diff := cmp.Diff(map[string]bool{keptEIP: true, boundEIP: true}, eips); diff != "" {
		t.Errorf("addresses after apply (-want +got):\n%s", diff)
	}
	// Tagged: the rule's tag and broom:change, not the config's tags.
	for _, v := range []string{busyVol, rootVol, youngVol} {
		if diff := cmp.Diff(map[string]string{"Owner": "platform-team", "broom:change": kmChangeRef}, awstest.TagsOf(t, direct, v)); diff != "" {
			t.Errorf("tags of %s after apply (-want +got):\n%s", v, diff)
		}
	}
	for v, want := range map[string]map[string]string{keptVol: keep, busyOwnedVol: {"Owner": "data-team"}, youngOwnedVol: {"Owner": "data-team"}} {
		if diff := cmp.Diff(want, awstest.TagsOf(t, direct, v)); diff != "" {
			t.Errorf("tags of %s, which no rule may tag (-want +got):\n%s", v, diff)
		}
	}
	bc := s3.NewFromConfig(m.Config(t, bucketRegion))
	loc := kmTry(bc.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})).must(t, "bucket location")
	ver := kmTry(bc.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})).must(t, "bucket versioning")
	tags := map[string]string{}
	for _, tag := range kmTry(bc.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})).must(t, "bucket tags").TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if string(loc.LocationConstraint) != bucketRegion || ver.Status != "Enabled" {
		t.Errorf("bucket: location %q, versioning %q; want %s, Enabled", loc.LocationConstraint, ver.Status, bucketRegion)
	}
	wantTags := map[string]string{"Owner": "platform-team", "Environment": "production", "Project": "billing-pipeline", "ManagedBy": "broom", "broom:change": kmChangeRef}
	if diff := cmp.Diff(wantTags, tags); diff != "" {
		t.Errorf("bucket tags (-want +got):\n%s", diff)
	}

	// A second plan has nothing to do: the apply was complete and idempotent.
	rec.Reset()
	second, err := e.Plan(ctx, cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	if got := kmActions(second.Plan.Actions); len(got) != 0 {
		t.Errorf("second plan = %+v, want nothing to do", got)
	}
	if second.Plan.Fingerprint != plan.Fingerprint(nil) {
		t.Errorf("second plan's fingerprint %s is not the empty plan's", second.Plan.Fingerprint)
	}
	delete(wantProtected, staleAMISnap) // deleted with its AMI
	if diff := cmp.Diff(wantProtected, kmProtected(second.Protected)); diff != "" {
		t.Errorf("second plan's protected (-want +got):\n%s", diff)
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("second plan made mutating calls: %v", got)
	}

	// Applying the first plan again changes nothing and fails nothing.
	rec.Reset()
	again := e.Apply(ctx, cfg, first.Plan)
	for _, a := range again.Actions {
		if a.Status != plan.AlreadyDone {
			t.Errorf("re-apply %s %s %s: %s %q, want already-done", a.Op, a.Kind, a.ID, a.Status, a.Error)
		}
	}
	if got := rec.Mutating(); got != nil {
		t.Errorf("re-apply made mutating calls: %v", got)
	}
}

// kmTestSnapshotFirst checks that a rule's snapshot-first reaches the volume
// kind: apply leaves a tagged snapshot of the volume, and the next plan,
// which still runs the snapshot rule, has nothing to do.
func kmTestSnapshotFirst(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, acct = "us-east-1", awstest.AccountID
	direct := m.Config(t, region)
	m.SetClock("-30d")
	vol := awstest.CreateVolume(t, direct, 4, region+"a")
	m.SetClock("+0")

	rc, rec := m.Recorded(t, region)
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{acct + "/" + region: rc}), WithChangeRef(kmChangeRef))
	cfg := kmParse(t, `version: 1
regions: [us-east-1]
tags: {Owner: platform-team}
rules:
  - name: orphan-volumes
    resource: ebs-volume
    action: delete
    snapshot-first: true
    where: {unattached: true, older-than: 14d}
  - name: any-old-snapshot
    resource: ebs-snapshot
    action: delete
    where: {older-than: 1d}
`)
	first, err := e.Plan(t.Context(), cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	want := []kmAction{{Rule: "orphan-volumes", Op: "delete", Kind: "ebs-volume", Account: acct, Region: region, ID: vol,
		Change: map[string]string{"snapshot-first": "true"}}}
	if diff := cmp.Diff(want, kmActions(first.Plan.Actions)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if got := rec.Mutating(); got != nil {
		t.Fatalf("plan made mutating calls: %v", got)
	}
	applied := e.Apply(t.Context(), cfg, first.Plan)
	if a := applied.Actions[0]; a.Status != plan.Done {
		t.Fatalf("apply: %s %q, want done", a.Status, a.Error)
	}
	snaps := awstest.Snapshots(t, direct)
	if len(snaps) != 1 {
		t.Fatalf("snapshots after apply: %d, want 1", len(snaps))
	}
	for _, s := range snaps {
		wantTags := map[string]string{"Owner": "platform-team", "broom:change": kmChangeRef, "broom:source-volume": vol}
		if diff := cmp.Diff(wantTags, awstest.Tags(s.Tags)); diff != "" {
			t.Errorf("snapshot-first snapshot's tags (-want +got):\n%s", diff)
		}
	}
	second, err := e.Plan(t.Context(), cfg, acct)
	if err != nil {
		t.Fatal(err)
	}
	if got := kmActions(second.Plan.Actions); len(got) != 0 {
		t.Errorf("second plan = %+v, want nothing to do", got)
	}
}

// kmTestMultiAccount plans across two accounts: the credentials' own and
// 111111111111 through an assumed role, which moto honours (calls signed with
// the role's credentials act in the role's account).
func kmTestMultiAccount(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, home, other = "us-east-1", awstest.AccountID, "111111111111"
	const role = "arn:aws:iam::" + other + ":role/broom"
	homeDirect := m.Config(t, region)
	otherDirect := cloud.AssumeRole(homeDirect, role, "broom")

	for cfgAcct, c := range map[string]aws.Config{home: homeDirect, other: otherDirect} {
		id, err := sts.NewFromConfig(c).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Account) != cfgAcct {
			t.Fatalf("GetCallerIdentity = %v, %v; want account %s", id, err, cfgAcct)
		}
	}

	ci := map[string]string{"Environment": "ci"}
	m.SetClock("-400d")
	homeSnap := awstest.CreateSnapshot(t, homeDirect, awstest.CreateVolume(t, homeDirect, 8, region+"a"), ci)
	otherSnap := awstest.CreateSnapshot(t, otherDirect, awstest.CreateVolume(t, otherDirect, 8, region+"a"), ci)
	m.SetClock("+0")
	if _, ok := awstest.Snapshots(t, homeDirect)[otherSnap]; ok {
		t.Fatalf("the other account's snapshot %s is visible in %s", otherSnap, home)
	}

	// Both accounts through the recorder, the role assumed through it too.
	homeRec, rec := m.Recorded(t, region)
	otherRec := cloud.AssumeRole(homeRec, role, "broom")
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{home + "/" + region: homeRec, other + "/" + region: otherRec}))
	cfg := kmParse(t, `version: 1
regions: [us-east-1]
accounts:
  - {id: "`+other+`", role: "`+role+`"}
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d, tags: {Environment: ci}}
`)
	if diff := cmp.Diff([]config.Account{{ID: other, Role: role}}, cfg.Accounts); diff != "" {
		t.Fatalf("parsed accounts (-want +got):\n%s", diff)
	}
	onlyAssumeRole := func(t *testing.T, what string) {
		t.Helper()
		for _, c := range rec.Mutating() {
			if c != (awstest.Call{Service: "sts", Region: region, Op: "AssumeRole"}) {
				t.Errorf("%s made a mutating call: %v", what, c)
			}
		}
	}

	first, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	homeAction := kmAction{Rule: "old-ci-snapshots", Op: "delete", Kind: "ebs-snapshot", Account: home, Region: region, ID: homeSnap}
	otherAction := kmAction{Rule: "old-ci-snapshots", Op: "delete", Kind: "ebs-snapshot", Account: other, Region: region, ID: otherSnap}
	want := kmSorted([]kmAction{homeAction, otherAction})
	if diff := cmp.Diff(want, kmActions(first.Plan.Actions)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	onlyAssumeRole(t, "plan")

	// The fingerprint covers the account: the same plan attributed to the
	// other way round is another plan.
	swapped := append([]plan.Action(nil), first.Plan.Actions...)
	for i := range swapped {
		swapped[i].Account = map[string]string{home: other, other: home}[swapped[i].Account]
	}
	if plan.Fingerprint(swapped) == first.Plan.Fingerprint {
		t.Errorf("fingerprint does not depend on the accounts")
	}

	// One account's snapshot goes: the plan and its fingerprint change.
	if _, err := ec2.NewFromConfig(otherDirect).DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(otherSnap)}); err != nil {
		t.Fatal(err)
	}
	rec.Reset()
	second, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]kmAction{homeAction}, kmActions(second.Plan.Actions)); diff != "" {
		t.Errorf("plan after the other account's snapshot went (-want +got):\n%s", diff)
	}
	if second.Plan.Fingerprint == first.Plan.Fingerprint {
		t.Errorf("fingerprint did not change when a snapshot went: %s", first.Plan.Fingerprint)
	}
	onlyAssumeRole(t, "second plan")

	// Applying the first plan: done in the home account, already done in
	// the other; then nothing is left in either.
	applied := e.Apply(t.Context(), cfg, first.Plan)
	got := map[string]plan.Status{}
	for _, a := range applied.Actions {
		got[a.Account] = a.Status
		if a.Error != "" {
			t.Errorf("apply %s in %s: %s", a.ID, a.Account, a.Error)
		}
	}
	if diff := cmp.Diff(map[string]plan.Status{home: plan.Done, other: plan.AlreadyDone}, got); diff != "" {
		t.Errorf("apply statuses by account (-want +got):\n%s", diff)
	}
	third, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Plan.Actions) != 0 {
		t.Errorf("third plan = %+v, want nothing to do", kmActions(third.Plan.Actions))
	}
}

// kmTwoAccountEnsure is an engine over the credentials' own account and
// 111111111111 (through a role), both behind a recorder, and a config whose
// one rule ensures bucket in region.
func kmTwoAccountEnsure(t *testing.T, m *awstest.Moto, region, bucket string) (*Engine, config.Config, *awstest.Recorder) {
	t.Helper()
	const home, other = awstest.AccountID, "111111111111"
	const role = "arn:aws:iam::" + other + ":role/broom"
	homeRec, rec := m.Recorded(t, region)
	otherRec := cloud.AssumeRole(homeRec, role, "broom")
	e := New(slog.New(slog.DiscardHandler), kmLoader(map[string]aws.Config{home + "/" + region: homeRec, other + "/" + region: otherRec}),
		WithChangeRef(kmChangeRef))
	cfg := kmParse(t, `version: 1
regions: [`+region+`]
accounts:
  - {id: "`+other+`", role: "`+role+`"}
tags: {Owner: platform-team}
rules:
  - name: artifacts-bucket
    resource: s3-bucket
    action: ensure
    bucket: `+bucket+`
    settings: {versioning: true}
`)
	return e, cfg, rec
}

// kmOnlyAssumeRole fails the test if anything but AssumeRole changed state.
func kmOnlyAssumeRole(t *testing.T, rec *awstest.Recorder, region, what string) {
	t.Helper()
	for _, c := range rec.Mutating() {
		if c != (awstest.Call{Service: "sts", Region: region, Op: "AssumeRole"}) {
			t.Errorf("%s made a mutating call: %v", what, c)
		}
	}
}

// kmTestEnsureMissingBucket runs an ensure rule in two accounts for a
// bucket that exists nowhere: the first account of the run creates it, the
// other is told so and left alone; after apply, the other leaves it alone
// as another account's, and nothing is left to do.
func kmTestEnsureMissingBucket(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, home, other, bucket = "eu-west-1", awstest.AccountID, "111111111111", "acme-ci-artifacts"
	e, cfg, rec := kmTwoAccountEnsure(t, m, region, bucket)
	left := func(r Result) []string {
		var out []string
		for _, a := range r.Protected {
			out = append(out, a.Account+" "+a.Op.String()+" "+a.ID+": "+a.Reason)
		}
		return out
	}

	first, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	var creates []string
	for _, a := range first.Plan.Actions {
		creates = append(creates, a.Account+" "+a.Op.String()+" "+a.ID)
	}
	if diff := cmp.Diff([]string{home + " create " + bucket}, creates); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{other + " create " + bucket + ": names are global: account " + home + " creates it"}, left(first)); diff != "" {
		t.Errorf("left alone (-want +got):\n%s", diff)
	}
	kmOnlyAssumeRole(t, rec, region, "plan")

	for _, a := range e.Apply(t.Context(), cfg, first.Plan).Actions {
		if a.Status != plan.Done {
			t.Errorf("apply %s %s in %s: %s %q, want done", a.Op, a.ID, a.Account, a.Status, a.Error)
		}
	}
	rec.Reset()
	second, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Plan.Actions) != 0 {
		t.Errorf("second plan = %+v, want nothing to do", kmActions(second.Plan.Actions))
	}
	if got := left(second); len(got) != 1 || !strings.HasPrefix(got[0], other+" ") {
		t.Errorf("second plan leaves alone %q, want the bucket in %s only", got, other)
	}
	kmOnlyAssumeRole(t, rec, region, "second plan")
}

// kmTestEnsureForeignBucket runs an ensure rule in two accounts, where the
// bucket's name is taken by the first: the owner converges it, the other
// account reports it left alone (SPEC: never a takeover), and nothing is
// left to do after apply. It needs moto started with
// MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false.
func kmTestEnsureForeignBucket(t *testing.T, m *awstest.Moto) {
	m.Reset()
	const region, home, other, bucket = "eu-west-1", awstest.AccountID, "111111111111", "acme-ci-artifacts"
	homeS3 := s3.NewFromConfig(m.Config(t, region))
	kmTry(homeS3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: region}})).must(t, "create bucket")

	e, cfg, rec := kmTwoAccountEnsure(t, m, region, bucket)
	onlyAssumeRole := func(t *testing.T, what string) { kmOnlyAssumeRole(t, rec, region, what) }

	first, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	want := kmSorted([]kmAction{
		// The config's tags are not written on a bucket broom did not make (SPEC §1).
		{"artifacts-bucket", "update", "s3-bucket", home, region, bucket, map[string]string{"versioning": "true"}},
	})
	if diff := cmp.Diff(want, kmActions(first.Plan.Actions)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	var left []string
	for _, a := range first.Protected {
		left = append(left, a.Account+" "+a.Kind+" "+a.ID+" "+a.Rule)
	}
	if diff := cmp.Diff([]string{other + " s3-bucket " + bucket + " artifacts-bucket"}, left); diff != "" {
		t.Errorf("left alone (-want +got):\n%s", diff)
	}
	onlyAssumeRole(t, "plan")

	applied := e.Apply(t.Context(), cfg, first.Plan)
	for _, a := range applied.Actions {
		if a.Status != plan.Done {
			t.Errorf("apply %s %s: %s %q, want done", a.Op, a.Name, a.Status, a.Error)
		}
	}
	rec.Reset()
	second, err := e.Plan(t.Context(), cfg, home, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Plan.Actions) != 0 || len(second.Protected) != 1 {
		t.Errorf("second plan = %+v, protected %+v; want nothing to do, the other account's bucket left alone", kmActions(second.Plan.Actions), second.Protected)
	}
	onlyAssumeRole(t, "second plan")
}
