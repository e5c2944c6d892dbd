package cli

import (
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/resource"
)

var update = flag.Bool("update", false, "rewrite golden files")

// specExample is SPEC §3's example config, verbatim: the tests' one copy,
// which internal/config keeps in step with the README's.
const specExample = "../config/testdata/spec-example.yml"

// specPolicy is what broom iam-policy prints for it; the README shows it.
const specPolicy = "testdata/iam-policy-spec.json"

func TestIAMPolicySpecExample(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "iam-policy", "--config", specExample)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if *update {
		if err := os.WriteFile(specPolicy, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(specPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), r.stdout); diff != "" {
		t.Errorf("policy for the SPEC example (-%s +got; go test -update rewrites it):\n%s", specPolicy, diff)
	}
	if again := runCLI(t, nil, "iam-policy", "--config", specExample); again.stdout != r.stdout {
		t.Error("a second run printed a different policy")
	}
}

// The README's IAM section shows the policy for the SPEC example as broom
// prints it.
func TestREADMEShowsTheSpecPolicy(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(specPolicy)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```json\n"+string(want)+"```\n") {
		t.Errorf("README.md does not show %s in a json block: update its IAM section", specPolicy)
	}
}

// policyOf parses an iam-policy run's output into Sid → statement.
func policyOf(t *testing.T, r run) map[string]resource.Statement {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    json.RawMessage
			Resource  json.RawMessage
			Condition map[string]map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version %q", doc.Version)
	}
	strs := func(raw json.RawMessage) resource.Values {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return resource.Values{one}
		}
		var many []string
		if err := json.Unmarshal(raw, &many); err != nil {
			t.Fatalf("%s is neither a string nor a list of them", raw)
		}
		return many
	}
	out := map[string]resource.Statement{}
	for _, s := range doc.Statement {
		st := resource.Statement{Sid: s.Sid, Effect: s.Effect, Action: strs(s.Action), Resource: strs(s.Resource)}
		for op, keys := range s.Condition {
			if st.Condition == nil {
				st.Condition = resource.Condition{}
			}
			st.Condition[op] = map[string]resource.Values{}
			for k, v := range keys {
				st.Condition[op][k] = strs(v)
			}
		}
		out[s.Sid] = st
	}
	return out
}

const accountsConfig = `version: 1
regions: [us-east-1]
accounts:
  - {id: "222222222222", role: "arn:aws:iam::222222222222:role/broom"}
  - {id: "111111111111", role: "arn:aws:iam::111111111111:role/broom"}
tags: {Owner: platform-team}
rules:
  - name: orphan-volumes
    resource: ebs-volume
    action: delete
    snapshot-first: true
    where: {unattached: true}
  - name: ips-have-team
    resource: elastic-ip
    action: tag
    set: {Team: network, CostCenter: "42"}
  - name: logs
    resource: s3-bucket
    action: ensure
    bucket: acme-logs
    settings: {versioning: true}
`

func TestIAMPolicy(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", accountsConfig)

	t.Run("accounts, options, settings and tag keys shape the policy", func(t *testing.T) {
		t.Parallel()
		got := policyOf(t, runCLI(t, nil, "iam-policy", "--config", cfg))
		if diff := cmp.Diff(resource.Values{"arn:aws:iam::111111111111:role/broom", "arn:aws:iam::222222222222:role/broom"}, got["AssumeAccountRoles"].Resource); diff != "" {
			t.Errorf("AssumeAccountRoles resources (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(resource.Values{"CostCenter", "Team", "broom:change"}, got["TagAddresses"].Condition["ForAllValues:StringEquals"]["aws:TagKeys"]); diff != "" {
			t.Errorf("tag keys the ips-have-team rule may write (-want +got):\n%s", diff)
		}
		for _, sid := range []string{"SnapshotFirstOfVolumes", "SnapshotFirstTagged", "SnapshotFirstTagOnCreate", "DeleteVolumes"} {
			if _, ok := got[sid]; !ok {
				t.Errorf("no %s statement: %v", sid, slices.Sorted(maps.Keys(got)))
			}
		}
		if diff := cmp.Diff(resource.Values{"s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:ListBucket"}, got["ReadBucketAcmeLogs"].Action); diff != "" {
			t.Errorf("bucket reads (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(resource.Values{"arn:aws:s3:::acme-logs"}, got["WriteBucketAcmeLogs"].Resource); diff != "" {
			t.Errorf("bucket writes' resources (-want +got):\n%s", diff)
		}
	})

	t.Run("--plan-only allows only reads", func(t *testing.T) {
		t.Parallel()
		got := policyOf(t, runCLI(t, nil, "iam-policy", "--config", cfg, "--plan-only"))
		want := []string{"AssumeAccountRoles", "Identity", "ReadBucketAcmeLogs", "ReadEC2"}
		if diff := cmp.Diff(want, slices.Sorted(maps.Keys(got))); diff != "" {
			t.Errorf("statements (-want +got):\n%s", diff)
		}
	})

	t.Run("--rules narrows the policy to those rules", func(t *testing.T) {
		t.Parallel()
		got := policyOf(t, runCLI(t, nil, "iam-policy", "--config", cfg, "--rules", "ips-have-team"))
		want := []string{"AssumeAccountRoles", "Identity", "ReadEC2", "TagAddresses"}
		if diff := cmp.Diff(want, slices.Sorted(maps.Keys(got))); diff != "" {
			t.Errorf("statements (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(resource.Values{"ec2:DescribeAddresses"}, got["ReadEC2"].Action); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})

	t.Run("BROOM_CONFIG names the file", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, map[string]string{"BROOM_CONFIG": cfg}, "iam-policy")
		if _, ok := policyOf(t, r)["TagAddresses"]; !ok {
			t.Errorf("policy without TagAddresses:\n%s", r.stdout)
		}
	})
}

func TestIAMPolicyMisuse(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yml", badConfig)
	tests := map[string]struct {
		args []string
		env  map[string]string
		code int
		want string // in stderr
	}{
		"a bad file is file:line: message": {args: []string{"iam-policy", "--config", bad}, code: 2, want: bad + ":5: "},
		"a missing file":                   {args: []string{"iam-policy", "--config", filepath.Join(t.TempDir(), "none.yml")}, code: 2, want: "cannot read config"},
		"an unknown flag":                  {args: []string{"iam-policy", "--format", "json"}, code: 2, want: "-format"},
		"a stray argument":                 {args: []string{"iam-policy", "extra"}, code: 2, want: `unexpected argument "extra"`},
		"an unknown rule":                  {args: []string{"iam-policy", "--config", specExample, "--rules", "nope"}, code: 2, want: `unknown rule "nope"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
			if tc.code != 0 && r.stdout != "" {
				t.Errorf("stdout %q, want no policy", r.stdout)
			}
		})
	}
	t.Run("in Actions a bad file is annotated at its line", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, map[string]string{"GITHUB_ACTIONS": "true"}, "iam-policy", "--config", bad)
		if r.code != 2 || !strings.HasPrefix(r.stdout, "::error file="+bad+",line=5::") {
			t.Errorf("exit %d, stdout %q; want 2 and an ::error annotation at line 5", r.code, r.stdout)
		}
	})
}

func TestUsageListsIAMPolicy(t *testing.T) {
	t.Parallel()
	if r := runCLI(t, nil, "help"); !strings.Contains(r.stdout, "iam-policy") {
		t.Errorf("usage does not name iam-policy:\n%s", r.stdout)
	}
}

// A rule's where-tags reach the policy: a load-balancer delete is allowed
// only on balancers that carry them.
func TestIAMPolicyPassesTheRulesTags(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "broom.yml")
	config := "version: 1\nregions: [us-east-1]\nrules:\n  - name: idle\n    resource: load-balancer\n    action: delete\n    where: {unused: true, tags: {Environment: ci}}\n"
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	got := policyOf(t, runCLI(t, nil, "iam-policy", "--config", path))["DeleteLoadBalancersTaggedEnvironmentCi"]
	want := resource.Condition{"StringEquals": {"aws:ResourceTag/Environment": {"ci"}}}
	if diff := cmp.Diff(want, got.Condition); diff != "" {
		t.Errorf("delete statement's condition (-want +got):\n%s", diff)
	}
}
