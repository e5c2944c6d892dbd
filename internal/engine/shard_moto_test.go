package engine

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/shard"
)

// TestMotoShardsMergeToThePlan is issue 16's promise against moto: the
// shards of a run of several accounts × 2 regions, each planned alone,
// written to and read from files and merged, are the single-process plan:
// the same fingerprint, actions and left-alone, the one create of a bucket
// every account ensures included.
func TestMotoShardsMergeToThePlan(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	regions := []string{"eu-west-1", "us-east-1"}
	accounts := []string{awstest.AccountID, "111111111111", "222222222222", "333333333333", "444444444444"}
	ci := map[string]string{"Environment": "ci"}
	cfgs := map[string]aws.Config{}
	m.SetClock("-400d")
	for _, acct := range accounts {
		for _, r := range regions {
			c := m.Config(t, r)
			if acct != awstest.AccountID { // moto lands an assumed role in the account its ARN names
				c = cloud.AssumeRole(c, "arn:aws:iam::"+acct+":role/broom", "broom")
			}
			cfgs[acct+"/"+r] = c
			vol := awstest.CreateVolume(t, c, 8, r+"a")
			awstest.CreateSnapshot(t, c, vol, ci)
			awstest.CreateSnapshot(t, c, vol, map[string]string{"Environment": "ci", "broom:keep": "yes"})
		}
	}
	m.SetClock("+0")
	var roles strings.Builder
	for _, acct := range accounts[1:] {
		fmt.Fprintf(&roles, "  - {id: \"%s\", role: \"arn:aws:iam::%[1]s:role/broom\"}\n", acct)
	}
	cfg := kmParse(t, `version: 1
id: org
regions: [eu-west-1, us-east-1]
protect: {tags: {"broom:keep": "*"}}
accounts:
`+roles.String()+`rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d, tags: {Environment: ci}}
  - name: artifacts
    resource: s3-bucket
    action: ensure
    bucket: acme-shard-artifacts
    region: eu-west-1
`)
	e := New(slog.New(slog.DiscardHandler), kmLoader(cfgs))
	single, err := e.Plan(t.Context(), cfg, accounts...)
	if err != nil {
		t.Fatal(err)
	}
	// 10 snapshots to delete and the bucket to create, by the first
	// account; its other 4 creates and the 10 kept snapshots left alone.
	if n := len(single.Plan.Actions); n != 11 {
		t.Fatalf("the single plan has %d actions, want 11: %v", n, kmActions(single.Plan.Actions))
	}
	if n := len(single.Protected); n != 14 {
		t.Fatalf("the single plan leaves %d alone, want 14: %v", n, kmProtected(single.Protected))
	}
	// 5 accounts × 2 regions of listings, and 5 ensures of the one bucket.
	wantKeys := 15

	for _, n := range []int{4, 1, 20} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			dir := t.TempDir()
			var files []shard.NamedFile
			covered := 0
			for k := 1; k <= n; k++ {
				res, cov, err := e.PlanShard(t.Context(), cfg, shard.Spec{Index: k, Count: n}, accounts...)
				if err != nil {
					t.Fatalf("shard %d/%d: %v", k, n, err)
				}
				if cov.Total != wantKeys || cov.Config != config.Digest(cfg) || cov.Index != k || cov.Count != n {
					t.Fatalf("shard %d/%d coverage %+v: want %d keys in all and the config's digest", k, n, cov, wantKeys)
				}
				covered += len(cov.Targets)
				ensures := 0
				for _, key := range cov.Targets {
					if strings.Contains(key, "/ensure:s3-bucket/acme-shard-artifacts") {
						ensures++
					}
				}
				if ensures != 0 && ensures != len(accounts) {
					t.Errorf("shard %d/%d covers %d of the bucket's %d ensures, want all or none: %v", k, n, ensures, len(accounts), cov.Targets)
				}
				f := shard.NewFile(res.Plan, res.Protected, cov, []shard.Account{{ID: accounts[0]}}, res.Regions)
				path := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
				b, err := json.Marshal(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if covered != wantKeys {
				t.Fatalf("the shards cover %d keys, want each of %d once", covered, wantKeys)
			}
			for k := n; k >= 1; k-- { // read back in another order
				path := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var f shard.File
				if err := json.Unmarshal(b, &f); err != nil {
					t.Fatal(err)
				}
				files = append(files, shard.NamedFile{Name: path, File: f})
			}
			merged, err := shard.Merge(files)
			if err != nil {
				t.Fatal(err)
			}
			if merged.Plan.Fingerprint != single.Plan.Fingerprint {
				t.Errorf("merged fingerprint %s, want the single plan's %s", merged.Plan.Fingerprint, single.Plan.Fingerprint)
			}
			// JSON drops an empty change: the fingerprint does not tell them apart.
			if diff := cmp.Diff(kmActions(single.Plan.Actions), kmActions(merged.Plan.Actions), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merged actions (-single +merged):\n%s", diff)
			}
			if diff := cmp.Diff(leftAlone(single.Protected), leftAlone(merged.LeftAlone)); diff != "" {
				t.Errorf("merged left alone (-single +merged):\n%s", diff)
			}
			if diff := cmp.Diff(single.Regions, merged.Regions); diff != "" {
				t.Errorf("merged regions (-single +merged):\n%s", diff)
			}
		})
	}
}

// leftAlone is what a left-alone list says of each resource, in order.
func leftAlone(as []plan.Action) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Key()+" "+a.Rule+": "+a.Reason)
	}
	slices.Sort(out)
	return out
}
