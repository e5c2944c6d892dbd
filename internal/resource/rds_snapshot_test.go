package resource

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/policy"
)

// TestRDSSnapshotMoto checks rds-snapshot against moto (SPEC §10): its
// facts, each veto, each filter as policy reads those facts, and its
// actions. Subtests share one moto and its clock, so they run in turn.
func TestRDSSnapshotMoto(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const region = "us-east-1"

	// seed makes a 20 GiB instance (and so moto's automated snapshot of
	// it) and, 400 days ago, the manual snapshot "old" tagged Team=data;
	// then, now, "young", untagged. It returns the automated one's id.
	seed := func(t *testing.T) (direct aws.Config, automated string) {
		m.Reset()
		direct = m.Config(t, region)
		m.SetClock("-400d")
		awstest.CreateDBInstance(t, direct, "orders", 20)
		awstest.CreateDBSnapshot(t, direct, "orders", "old", map[string]string{"Name": "before-upgrade", "Team": "data"})
		m.SetClock("+0")
		awstest.CreateDBSnapshot(t, direct, "orders", "young", nil)
		for id, s := range awstest.DBSnapshots(t, direct) {
			if aws.ToString(s.SnapshotType) == "automated" {
				automated = id
			}
		}
		if automated == "" {
			t.Fatal("moto made no automated snapshot of the instance: the test cannot show it is left out")
		}
		return direct, automated
	}

	t.Run("list reports manual snapshots with size, age and cost, never automated ones, and only reads", func(t *testing.T) {
		direct, automated := seed(t)
		cfg, rec := m.Recorded(t, region)
		k := kmKind(t, "rds-snapshot", cfg)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byID := kmByID(got)
		if diff := cmp.Diff([]string{"old", "young"}, slices.Sorted(maps.Keys(byID))); diff != "" {
			t.Errorf("listed (-want +got), automated %s must not be:\n%s", automated, diff)
		}
		old := byID["old"]
		awstest.TimeNear(t, "old snapshot's Created", old.Created, time.Now().Add(-400*24*time.Hour), 10*time.Minute)
		awstest.TimeNear(t, "young snapshot's Created", byID["young"].Created, time.Now(), 10*time.Minute)
		want := plan.Resource{
			ID: "old", Name: "old", Created: old.Created,
			Tags: map[string]string{"Name": "before-upgrade", "Team": "data"},
			Details: map[string]string{"size": "20 GiB", "instance": "orders", "engine": "postgres",
				"created": old.Created.UTC().Format("2006-01-02")},
			MonthlyCostUSD: 20 * 0.095,
		}
		if diff := cmp.Diff(want, old); diff != "" {
			t.Errorf("old snapshot (-want +got):\n%s", diff)
		}
		kmNoMutation(t, rec, "List")
		if got := rec.Count("DescribeDBSnapshotAttributes"); got != 2 {
			t.Errorf("DescribeDBSnapshotAttributes calls = %d, want 2 (one per manual snapshot)", got)
		}

		rec.Reset()
		kmGetMatchesList(t, k, got, "no-such-snapshot")
		kmGetMissing(t, k, "no-such-snapshot")
		kmNoMutation(t, rec, "Get")
		if _, ok := awstest.DBSnapshots(t, direct)[automated]; !ok {
			t.Errorf("automated snapshot %s is gone", automated)
		}
	})

	t.Run("vetoes: shared with an account or all, AWS Backup's tags, automated when re-read", func(t *testing.T) {
		direct, automated := seed(t)
		awstest.CreateDBSnapshot(t, direct, "orders", "shared", nil)
		awstest.ShareDBSnapshot(t, direct, "shared", "210987654321")
		awstest.CreateDBSnapshot(t, direct, "orders", "public", nil)
		awstest.ShareDBSnapshot(t, direct, "public", "all")
		// AWS reserves the aws: prefix for its own tags; moto lets anyone
		// write them, which stands in for AWS Backup here.
		awstest.CreateDBSnapshot(t, direct, "orders", "backup", map[string]string{"aws:backup:source-resource": "arn:aws:rds:us-east-1:" + awstest.AccountID + ":db:orders"})
		k := kmKind(t, "rds-snapshot", direct)
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		inUse := map[string]string{}
		for _, r := range got {
			inUse[r.ID] = r.InUse
		}
		want := map[string]string{"old": "", "young": "", "shared": "shared with 210987654321", "public": "shared with all", "backup": "managed by AWS Backup"}
		if diff := cmp.Diff(want, inUse); diff != "" {
			t.Errorf("InUse (-want +got):\n%s", diff)
		}
		if r := kmByID(got)["shared"]; r.Details["shared with"] != "210987654321" {
			t.Errorf("shared snapshot's details %v, want shared with 210987654321", r.Details)
		}
		// An id that names an automated snapshot reads as one, vetoed.
		r, found, err := k.Get(t.Context(), automated)
		if err != nil || !found || r.InUse != "automated snapshot, kept by RDS for its instance" {
			t.Errorf("Get(%s) = InUse %q, found %v, err %v; want the automated veto", automated, r.InUse, found, err)
		}
		// A delete rule leaves each vetoed one alone, saying why.
		rule := rdsRule(t, "action: delete\n    where: {older-than: 1h}")
		for id, why := range want {
			if why == "" {
				continue
			}
			v := policy.Evaluate(rule, config.Protect{}, time.Now().Add(2*time.Hour), kmByID(got)[id])
			if v.Outcome != policy.Protect || v.Reason != "in use: "+why {
				t.Errorf("delete %s: %v %q, want protected: in use: %s", id, v.Outcome, v.Reason, why)
			}
		}
	})

	t.Run("a snapshot deleted while the list is read is left out, not an error", func(t *testing.T) {
		direct, _ := seed(t)
		k := kmKind(t, "rds-snapshot", direct).(*rdsSnapshots)
		k.api = &rdsDeleteFirst{rdsSnapshotAPI: k.api, real: rds.NewFromConfig(direct), id: "young"}
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if diff := cmp.Diff([]string{"old"}, slices.Sorted(maps.Keys(kmByID(got)))); diff != "" {
			t.Errorf("listed (-want +got):\n%s", diff)
		}
	})

	t.Run("list reads every page", func(t *testing.T) {
		direct, _ := seed(t)
		awstest.CreateDBSnapshot(t, direct, "orders", "third", nil)
		k := kmKind(t, "rds-snapshot", direct).(*rdsSnapshots)
		pager := &rdsOnePerPage{rdsSnapshotAPI: k.api}
		k.api = pager
		got, err := k.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"old", "third", "young"}, slices.Sorted(maps.Keys(kmByID(got)))); diff != "" {
			t.Errorf("listed (-want +got):\n%s", diff)
		}
		if pager.calls != 3 {
			t.Errorf("%d DescribeDBSnapshots calls, want 3 (one a page)", pager.calls)
		}
	})

	t.Run("filters: older-than reads the creation time, tags and missing-tags the tags, name the identifier or Name tag", func(t *testing.T) {
		direct, _ := seed(t)
		awstest.CreateDBSnapshot(t, direct, "orders", "owned", map[string]string{"Owner": "data-team"})
		got, err := kmKind(t, "rds-snapshot", direct).List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tests := map[string]struct {
			rule string
			want []string // what the rule acts on
		}{
			"older-than":   {"action: delete\n    where: {older-than: 30d}", []string{"old"}},
			"tags":         {"action: delete\n    where: {tags: {Team: data}}", []string{"old"}},
			"missing-tags": {"action: tag\n    where: {missing-tags: [Owner]}\n    set: {Owner: platform-team}", []string{"old", "young"}},
			// young has no Name tag: only its identifier can match.
			"name on the identifier": {"action: delete\n    where: {name: \"you*\"}", []string{"young"}},
			"name on the Name tag":   {"action: delete\n    where: {name: \"before-*\"}", []string{"old"}},
			"name on either":         {"action: delete\n    where: {name: \"o*\"}", []string{"old", "owned"}},
		}
		for name, tc := range tests {
			rule := rdsRule(t, tc.rule)
			var acts []string
			for _, r := range got {
				if policy.Evaluate(rule, config.Protect{}, time.Now(), r).Outcome == policy.Act {
					acts = append(acts, r.ID)
				}
			}
			slices.Sort(acts)
			if diff := cmp.Diff(tc.want, acts); diff != "" {
				t.Errorf("%s acts on (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("delete removes the snapshot, then reports gone", func(t *testing.T) {
		direct, automated := seed(t)
		k := kmKind(t, "rds-snapshot", direct)
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "rds-snapshot", ID: "old"}); err != nil {
			t.Fatalf("Do delete: %v", err)
		}
		kmGetMissing(t, k, "old")
		if err := k.Do(t.Context(), plan.Action{Op: plan.Delete, Kind: "rds-snapshot", ID: "old"}); !errors.Is(err, ErrGone) {
			t.Errorf("second Do = %v, want ErrGone", err)
		}
		left := awstest.DBSnapshots(t, direct)
		if _, ok := left["young"]; !ok {
			t.Error("untouched snapshot young is gone")
		}
		if _, ok := left[automated]; !ok {
			t.Errorf("automated snapshot %s is gone", automated)
		}
	})

	t.Run("tag adds the change and broom:change, and nothing else", func(t *testing.T) {
		direct, _ := seed(t)
		k := kmKind(t, "rds-snapshot", direct)
		a := plan.Action{Op: plan.Tag, Kind: "rds-snapshot", ID: "old", Change: map[string]string{"Owner": "platform-team"}}
		if err := k.Do(t.Context(), a); err != nil {
			t.Fatalf("Do tag: %v", err)
		}
		want := map[string]string{"Name": "before-upgrade", "Team": "data", "Owner": "platform-team", "broom:change": kmChange}
		if diff := cmp.Diff(want, rdsTagsOf(awstest.DBSnapshots(t, direct)["old"])); diff != "" {
			t.Errorf("tags after Do (-want +got):\n%s", diff)
		}
		if got := rdsTagsOf(awstest.DBSnapshots(t, direct)["young"]); len(got) != 0 {
			t.Errorf("young snapshot got tags %v", got)
		}
		if err := k.Do(t.Context(), plan.Action{Op: plan.Tag, Kind: "rds-snapshot", ID: "old"}); !errors.Is(err, ErrConverged) {
			t.Errorf("Do with no change = %v, want ErrConverged", err)
		}
		a.ID = "no-such-snapshot"
		if err := k.Do(t.Context(), a); !errors.Is(err, ErrGone) {
			t.Errorf("Do tag on a missing snapshot = %v, want ErrGone", err)
		}
	})
}

// TestRDSSnapshotFacts covers what moto cannot make: AWS Backup's own
// snapshot type, a snapshot not yet available, and prices by region.
func TestRDSSnapshotFacts(t *testing.T) {
	t.Parallel()
	snap := func(typ, status string, tags ...rdstypes.Tag) rdstypes.DBSnapshot {
		return rdstypes.DBSnapshot{DBSnapshotIdentifier: aws.String("s"), SnapshotType: aws.String(typ), Status: aws.String(status),
			AllocatedStorage: aws.Int32(100), TagList: tags}
	}
	backupTag := rdstypes.Tag{Key: aws.String("aws:backup:source-resource"), Value: aws.String("arn:aws:rds:us-east-1:1:db:orders")}
	tests := map[string]struct {
		snap        rdstypes.DBSnapshot
		shared      []string
		region      string
		inUse, note string
	}{
		"manual and available: no veto":   {snap: snap("manual", "available"), region: "us-east-1"},
		"AWS Backup's type":               {snap: snap("awsbackup", "available"), region: "us-east-1", inUse: "managed by AWS Backup"},
		"automated":                       {snap: snap("automated", "available"), region: "us-east-1", inUse: "automated snapshot, kept by RDS for its instance"},
		"still being made":                {snap: snap("manual", "creating"), region: "us-east-1", inUse: "status creating, not available"},
		"shared, and still being made":    {snap: snap("manual", "creating"), shared: []string{"1", "2"}, region: "us-east-1", inUse: "shared with 1, 2"},
		"AWS Backup's tag, and shared":    {snap: snap("manual", "available", backupTag), shared: []string{"1"}, region: "us-east-1", inUse: "managed by AWS Backup"},
		"a listed region: its own price":  {snap: snap("manual", "available"), region: "us-west-2"},
		"an unlisted region: us-east-1's": {snap: snap("manual", "available"), region: "eu-west-1", note: "us-east-1 price (none listed for eu-west-1)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rdsSnapshotResource(tc.snap, tc.shared, tc.region)
			// 100 GiB allocated at $0.095 per GiB-month, whatever the veto.
			if r.InUse != tc.inUse || r.Details["price"] != tc.note || r.MonthlyCostUSD != 9.5 {
				t.Errorf("InUse %q, price note %q, cost %v; want %q, %q, 9.5", r.InUse, r.Details["price"], r.MonthlyCostUSD, tc.inUse, tc.note)
			}
		})
	}
}

// rdsDeleteFirst deletes snapshot id in moto just before its attributes
// are read: a delete racing with the listing.
type rdsDeleteFirst struct {
	rdsSnapshotAPI
	real *rds.Client
	id   string
}

func (d *rdsDeleteFirst) DescribeDBSnapshotAttributes(ctx context.Context, in *rds.DescribeDBSnapshotAttributesInput, o ...func(*rds.Options)) (*rds.DescribeDBSnapshotAttributesOutput, error) {
	if aws.ToString(in.DBSnapshotIdentifier) == d.id {
		if _, err := d.real.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(d.id)}); err != nil {
			return nil, err
		}
	}
	return d.rdsSnapshotAPI.DescribeDBSnapshotAttributes(ctx, in, o...)
}

// rdsOnePerPage hands out moto's answer one snapshot a page, with a
// Marker: moto answers in one page whatever MaxRecords says.
type rdsOnePerPage struct {
	rdsSnapshotAPI
	calls int
}

func (p *rdsOnePerPage) DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput, o ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error) {
	p.calls++
	all := *in
	all.Marker = nil
	out, err := p.rdsSnapshotAPI.DescribeDBSnapshots(ctx, &all, o...)
	if err != nil {
		return nil, err
	}
	i := 0
	if in.Marker != nil {
		i, _ = strconv.Atoi(*in.Marker)
	}
	page := &rds.DescribeDBSnapshotsOutput{}
	if i < len(out.DBSnapshots) {
		page.DBSnapshots = out.DBSnapshots[i : i+1]
	}
	if i+1 < len(out.DBSnapshots) {
		page.Marker = aws.String(strconv.Itoa(i + 1))
	}
	return page, nil
}

// rdsRule parses one rds-snapshot rule, given after its resource line.
func rdsRule(t *testing.T, rule string) config.Rule {
	t.Helper()
	f, err := config.Parse("broom.yml", []byte("version: 1\nrules:\n  - name: r\n    resource: rds-snapshot\n    "+rule+"\n"), Catalog())
	if err != nil {
		t.Fatalf("parse rule %q: %v", rule, err)
	}
	return f.Rules[0]
}

func rdsTagsOf(s rdstypes.DBSnapshot) map[string]string {
	m := map[string]string{}
	for _, t := range s.TagList {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestRDSSnapshotPolicy pins the conditions of the kind's write grants:
// a delete never of a snapshot AWS Backup tagged, a tag only stamped and
// only of the keys the rules set.
func TestRDSSnapshotPolicy(t *testing.T) {
	t.Parallel()
	doc, err := Policy([]Use{{Kind: "rds-snapshot", Action: "delete"}, {Kind: "rds-snapshot", Action: "tag", TagKeys: []string{"Owner"}}}, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Statement{}
	for _, s := range doc.Statement {
		got[s.Sid] = s
	}
	want := map[string]Statement{
		"Identity": got["Identity"],
		"ReadRDS":  {Sid: "ReadRDS", Effect: "Allow", Action: Values{"rds:DescribeDBSnapshotAttributes", "rds:DescribeDBSnapshots"}, Resource: Values{"*"}},
		"DeleteDBSnapshots": {Sid: "DeleteDBSnapshots", Effect: "Allow", Action: Values{"rds:DeleteDBSnapshot"}, Resource: Values{"arn:aws:rds:*:*:snapshot:*"},
			Condition: Condition{"Null": {"aws:ResourceTag/aws:backup:source-resource": {"true"}}}},
		"TagDBSnapshots": {Sid: "TagDBSnapshots", Effect: "Allow", Action: Values{"rds:AddTagsToResource"}, Resource: Values{"arn:aws:rds:*:*:snapshot:*"},
			Condition: Condition{
				"Null":                      {"aws:RequestTag/broom:change": {"false"}},
				"ForAllValues:StringEquals": {"aws:TagKeys": {"Owner", "broom:change"}},
			}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statements (-want +got):\n%s", diff)
	}
}
