package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
	"github.com/broom-dev/broom/internal/shard"
)

// shardAccounts are the accounts of the sharded run, in run order: the
// credentials' own is not among them (accounts: names them).
var shardAccounts = []string{"333333333333", "111111111111", "222222222222"}

var shardRegions = []string{"eu-west-1", "us-east-1"}

func shardConfig(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nid: org\nregions: [eu-west-1, us-east-1]\nprotect: {tags: {\"broom:keep\": \"*\"}}\naccounts:\n")
	for _, a := range shardAccounts {
		fmt.Fprintf(&b, "  - {id: \"%s\", role: \"arn:aws:iam::%[1]s:role/broom\"}\n", a)
	}
	b.WriteString(`rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d, tags: {Environment: ci}}
  - name: artifacts
    resource: s3-bucket
    action: ensure
    bucket: acme-cli-shards
    region: eu-west-1
`)
	return writeFile(t, "broom.yml", b.String())
}

// motoCloud connects to moto in each account of shardAccounts through its
// role (moto lands an assumed role in the account its ARN names), with the
// real resource kinds; broken, when set, is an error connecting returns.
type motoCloud struct {
	m       *awstest.Moto
	cfgs    map[string]aws.Config // account/region → in that account
	aliases map[string]string
	broken  error
}

func newMotoCloud(t *testing.T, m *awstest.Moto) *motoCloud {
	c := &motoCloud{m: m, cfgs: map[string]aws.Config{}, aliases: map[string]string{"111111111111": "prod"}}
	for _, a := range shardAccounts {
		for _, r := range shardRegions {
			c.cfgs[a+"/"+r] = cloud.AssumeRole(m.Config(t, r), "arn:aws:iam::"+a+":role/broom", "broom")
		}
	}
	return c
}

func (c *motoCloud) connect(_ context.Context, logger *slog.Logger, _ config.Config, _ action.Access, opts ...engine.Option) (action.Cloud, error) {
	if c.broken != nil {
		return action.Cloud{}, c.broken
	}
	load := func(_ context.Context, account, region string) (aws.Config, error) {
		cfg, ok := c.cfgs[account+"/"+region]
		if !ok {
			return aws.Config{}, fmt.Errorf("load: unexpected account %q, region %q", account, region)
		}
		return cfg.Copy(), nil
	}
	return action.Cloud{Engine: engine.New(logger, load, opts...), Accounts: slices.Clone(shardAccounts), Aliases: c.aliases}, nil
}

func (c *motoCloud) run(t *testing.T, args ...string) run {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, IO{
		Getenv:  func(string) string { return "" },
		Stdout:  &stdout,
		Stderr:  &stderr,
		Connect: c.connect,
	})
	return run{code, stdout.String(), stderr.String()}
}

// oldSnapshot seeds an old CI snapshot in account's region.
func (c *motoCloud) oldSnapshot(t *testing.T, account, region string, tags map[string]string) string {
	t.Helper()
	c.m.SetClock("-400d")
	defer c.m.SetClock("+0")
	in := c.cfgs[account+"/"+region]
	return awstest.CreateSnapshot(t, in, awstest.CreateVolume(t, in, 8, region+"a"), tags)
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// TestShardedPlanMergeApply runs issue 16's command-line flow against
// moto: four plan shards, merged into the plan one process makes; the
// merge's refusals; and each shard applying its slice of the merged plan,
// one of them refusing the slice that drifted.
func TestShardedPlanMergeApply(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	c := newMotoCloud(t, m)
	snaps := map[string]string{} // snapshot → account/region
	for _, a := range shardAccounts {
		for _, r := range shardRegions {
			snaps[c.oldSnapshot(t, a, r, map[string]string{"Environment": "ci"})] = a + "/" + r
			c.oldSnapshot(t, a, r, map[string]string{"Environment": "ci", "broom:keep": "yes"})
		}
	}
	cfg, dir := shardConfig(t), t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }

	single := c.run(t, "plan", "--config", cfg, "--out", in("single.json"))
	if single.code != 0 {
		t.Fatalf("plan: exit %d\n%s", single.code, single.stderr)
	}
	want := readJSON[plan.Plan](t, in("single.json"))
	if len(want.Actions) != len(snaps)+1 {
		t.Fatalf("the single plan has %d actions, want the %d snapshots and the bucket: %+v", len(want.Actions), len(snaps), want.Actions)
	}

	var shardFiles []string
	for k := 1; k <= 4; k++ {
		name := in(fmt.Sprintf("shard-%d.json", k))
		r := c.run(t, "plan", "--config", cfg, "--shard", fmt.Sprintf("%d/4", k), "--out", name)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Shard %d/4: ", k)) {
			t.Fatalf("plan --shard %d/4: exit %d, stdout %q, stderr %q", k, r.code, r.stdout, r.stderr)
		}
		f := readJSON[shard.File](t, name)
		wantAccounts := []shard.Account{{ID: "333333333333"}, {ID: "111111111111", Alias: "prod"}, {ID: "222222222222"}}
		if f.Phase != shard.PhasePlan || f.Shard.Index != k || f.Shard.Count != 4 || f.Shard.Total != len(snaps)+len(shardAccounts) || f.Error != "" ||
			!cmp.Equal(wantAccounts, f.Accounts) || f.ID != "org" {
			t.Errorf("shard file %d: phase %q, shard %+v, accounts %+v, id %q, error %q", k, f.Phase, f.Shard, f.Accounts, f.ID, f.Error)
		}
		shardFiles = append(shardFiles, name)
	}

	// The merge is the single plan, printed as broom plan prints it.
	text := c.run(t, append([]string{"merge"}, shardFiles...)...)
	heading, _, _ := strings.Cut(text.stdout, "\n")
	if wantHeading := "broom plan · org · 3 accounts: 333333333333, 111111111111 (prod), 222222222222 · 2 regions"; text.code != 0 || heading != wantHeading {
		t.Errorf("merge: exit %d, heading %q; want 0 and %q\n%s", text.code, heading, wantHeading, text.stderr)
	}
	for id := range snaps {
		if !strings.Contains(text.stdout, id) {
			t.Errorf("merge does not show %s", id)
		}
	}
	// Flags after the files, as a shell glob puts them.
	merged := c.run(t, append(append([]string{"merge"}, shardFiles...), "--format", "json", "--out", in("merged.json"))...)
	if merged.code != 0 {
		t.Fatalf("merge --out: exit %d\n%s", merged.code, merged.stderr)
	}
	var printed plan.Plan
	if err := json.Unmarshal([]byte(merged.stdout), &printed); err != nil {
		t.Fatalf("merge --format json: %v\n%s", err, merged.stdout)
	}
	file := readJSON[shard.PlanFile](t, in("merged.json"))
	if printed.Fingerprint != want.Fingerprint || file.Fingerprint != want.Fingerprint || len(file.Actions) != len(want.Actions) {
		t.Fatalf("merged fingerprint printed %s, written %s; want the single plan's %s", printed.Fingerprint, file.Fingerprint, want.Fingerprint)
	}
	if file.Shards.Count != 4 || len(file.Shards.Slices) != 4 || len(file.LeftAlone) != len(snaps)+len(shardAccounts)-1 {
		t.Errorf("merged file: shards %+v, %d left alone; want 4 slices and the kept snapshots and the other accounts' creates", file.Shards, len(file.LeftAlone))
	}

	t.Run("merge refuses", func(t *testing.T) {
		failed := in("failed-3.json")
		broken := &motoCloud{m: m, cfgs: c.cfgs, aliases: c.aliases, broken: fmt.Errorf("assume arn:aws:iam::222222222222:role/broom: ExpiredToken")}
		r := broken.run(t, "plan", "--config", cfg, "--shard", "3/4", "--out", failed)
		if r.code != 1 || !strings.Contains(r.stderr, "ExpiredToken") {
			t.Errorf("a shard that cannot connect: exit %d, stderr %q; want 1", r.code, r.stderr)
		}
		if f := readJSON[shard.File](t, failed); f.Error == "" || f.Shard.Index != 3 || f.Shard.Config == "" {
			t.Errorf("the failed shard's file: error %q, shard %+v; want its error and coverage", f.Error, f.Shard)
		}
		for _, tc := range []struct {
			name  string
			files []string
			code  int
			want  string
		}{
			{"missing", []string{shardFiles[0], shardFiles[1], shardFiles[3]}, 2, "broom: shard 3/4 is missing"},
			{"duplicate", append(slices.Clone(shardFiles), shardFiles[1]), 2, "broom: shard 2/4 is given twice: " + shardFiles[1] + ", " + shardFiles[1]},
			{"a plain plan file", append(slices.Clone(shardFiles), in("single.json")), 2, "broom: " + in("single.json") + " is not a broom shard file"},
			{"not JSON", append(slices.Clone(shardFiles), cfg), 2, "broom: " + cfg + " is not a broom shard file: "},
			{"no such file", []string{in("nope.json")}, 2, "broom: read shard file: open " + in("nope.json")},
			{"no files", nil, 2, "broom: merge needs the shard files"},
			{"a shard failed", []string{shardFiles[0], shardFiles[1], failed, shardFiles[3]}, 1, "broom: shard 3/4 (" + failed + ") failed: assume arn:aws:iam::222222222222:role/broom: ExpiredToken"},
		} {
			r := c.run(t, append([]string{"merge"}, tc.files...)...)
			if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%s: exit %d, stderr %q; want %d and one line %q", tc.name, r.code, r.stderr, tc.code, tc.want)
			}
		}
	})

	t.Run("apply refuses a bad approval", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"another count", []string{"--shard", "1/2", "--approved", in("merged.json")}, in("merged.json") + " was approved in 4 shards, not 2 (shard 1/2)"},
			{"another config", []string{"--shard", "1/4", "--approved", in("merged.json"), "--max-actions", "9"}, "config changed since the plan was approved: digest "},
			{"no shards", []string{"--shard", "1/4", "--approved", in("single.json")}, in("single.json") + " has no shards"},
			{"no approval", []string{"--shard", "1/4"}, "apply --shard 1/4 needs --approved FILE"},
			{"approved without shard", []string{"--approved", in("merged.json")}, "flag --approved is only for a shard's apply"},
		} {
			r := c.run(t, append([]string{"apply", "--config", cfg, "--yes"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%s: exit %d, stderr %q; want 2 and one line saying %q", tc.name, r.code, r.stderr, tc.want)
			}
		}
		// A plan over max-actions (planning does not refuse one) is refused
		// by every shard, whatever its own slice holds.
		low, err := config.Load(config.Layer{Name: "flag --", Values: map[string]string{"config": cfg, "max-actions": "6"}}, func(string) string { return "" }, resource.Catalog())
		if err != nil {
			t.Fatal(err)
		}
		overFile := file
		overFile.Shards.Config = config.Digest(low)
		if err := writeJSON(in("over-approved.json"), overFile); err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 4; k++ {
			r := c.run(t, "apply", "--config", cfg, "--max-actions", "6", "--shard", fmt.Sprintf("%d/4", k), "--approved", in("over-approved.json"), "--out", in("over.json"))
			line := fmt.Sprintf("broom: the approved plan has %d actions, more than max-actions (6): nothing was applied\n", len(want.Actions))
			if r.code != 6 || r.stderr != line {
				t.Errorf("shard %d/4 of a plan over max-actions: exit %d, stderr %q; want 6 and %q", k, r.code, r.stderr, line)
			}
			if f := readJSON[shard.File](t, in("over.json")); f.Error == "" || f.Phase != shard.PhaseApply {
				t.Errorf("shard %d/4 of a plan over max-actions wrote error %q, phase %q", k, f.Error, f.Phase)
			}
		}
		if left := len(awstest.Snapshots(t, c.cfgs["111111111111/eu-west-1"])); left != 2 {
			t.Errorf("a refused apply changed something: %d snapshots left in 111111111111/eu-west-1, want 2", left)
		}
	})

	// A snapshot that ages into the rule after the approval drifts its
	// shard: that shard applies nothing (exit 4); the others apply theirs.
	late := c.oldSnapshot(t, "222222222222", "us-east-1", map[string]string{"Environment": "ci"})
	drifted := shard.Of("222222222222/us-east-1", 4)
	var applied []string
	for k := 1; k <= 4; k++ {
		name := in(fmt.Sprintf("applied-%d.json", k))
		r := c.run(t, "apply", "--config", cfg, "--shard", fmt.Sprintf("%d/4", k), "--approved", in("merged.json"), "--out", name)
		f := readJSON[shard.File](t, name)
		slice, _ := file.Shards.Slice(k)
		if f.Phase != shard.PhaseApply || f.Approved != slice.Fingerprint {
			t.Errorf("apply shard %d: phase %q, approved %q; want apply and %q", k, f.Phase, f.Approved, slice.Fingerprint)
		}
		wantCode := 0
		if k == drifted {
			wantCode = 4
		}
		if r.code != wantCode || f.Drift != (k == drifted) {
			t.Errorf("apply shard %d: exit %d, drift %v; want %d\n%s\n%s", k, r.code, f.Drift, wantCode, r.stdout, r.stderr)
		}
		for _, a := range f.Actions {
			if k == drifted && a.Status != plan.Pending || k != drifted && a.Status != plan.Done {
				t.Errorf("apply shard %d: %s %s is %q", k, a.Op, a.ID, a.Status)
			}
		}
		applied = append(applied, name)
	}
	left := map[string]bool{}
	for _, a := range shardAccounts {
		for _, r := range shardRegions {
			for id, s := range awstest.Snapshots(t, c.cfgs[a+"/"+r]) {
				if !slices.ContainsFunc(s.Tags, func(tag ec2types.Tag) bool { return aws.ToString(tag.Key) == "broom:keep" }) {
					left[id] = true
				}
			}
		}
	}
	var wantLeft []string
	for id, where := range snaps {
		if shard.Of(where, 4) == drifted {
			wantLeft = append(wantLeft, id)
		}
	}
	wantLeft = append(wantLeft, late)
	slices.Sort(wantLeft)
	if diff := cmp.Diff(wantLeft, slices.Sorted(maps.Keys(left))); diff != "" {
		t.Errorf("CI snapshots left (-want +got): the drifted shard's, and only those\n%s", diff)
	}

	res := c.run(t, append([]string{"merge", "--out", in("results.json")}, applied...)...)
	if res.code != 4 || !strings.Contains(res.stdout, fmt.Sprintf("Shard %d/4 drifted", drifted)) || !strings.Contains(res.stdout, late) {
		t.Errorf("merge of the results: exit %d; want 4, a note on shard %d/4 and its fresh %s\n%s", res.code, drifted, late, res.stdout)
	}
	results := readJSON[shard.PlanFile](t, in("results.json"))
	if s, _ := results.Shards.Slice(drifted); s.Actions != len(wantLeft) {
		t.Errorf("the drifted slice holds %d actions, want its %d fresh ones", s.Actions, len(wantLeft))
	}
}

// Bad sharding flags are one line and exit 2, before any AWS call.
func TestShardMisuse(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"plan", "--config", cfg, "--shard", "5/4"}, nil, `flag --shard="5/4": want K/N with 1 ≤ K ≤ N, e.g. 2/4`},
		{[]string{"apply", "--config", cfg, "--shard", "two"}, nil, `flag --shard="two": want K/N with 1 ≤ K ≤ N, e.g. 2/4`},
		{[]string{"plan", "--config", cfg}, map[string]string{"BROOM_SHARD": "0/1"}, `BROOM_SHARD="0/1": want K/N with 1 ≤ K ≤ N, e.g. 2/4`},
		{[]string{"merge", "--format", "html", "a.json"}, nil, `broom: flag --format="html": want one of text, markdown, json`},
		{[]string{"merge", "a.json"}, map[string]string{"BROOM_FORMAT": "yaml"}, `broom: BROOM_FORMAT="yaml": want one of text, markdown, json`},
		{[]string{"merge", "--shard", "1/2", "a.json"}, nil, "broom: unknown flag --shard (see broom merge --help)"},
		{[]string{"validate", "--config", cfg, "extra"}, nil, `broom: unexpected argument "extra" (broom validate takes only flags; see broom validate --help)`},
	} {
		r := runCLI(t, tc.env, tc.args...)
		if r.code != 2 || r.stderr != tc.want+"\n" {
			t.Errorf("broom %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
	if r := runCLI(t, nil, "merge", "--help"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: broom merge [flags] FILE…\n") {
		t.Errorf("merge --help: exit %d, stdout %q", r.code, r.stdout)
	}
}
