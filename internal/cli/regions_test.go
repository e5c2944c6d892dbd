package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/resource"
)

// broom iam-policy grants ec2:DescribeRegions exactly when the run's
// regions are all (from the file or BROOM_REGIONS), plan-only included:
// broom asks it before listing anything.
func TestIAMPolicyGrantsDescribeRegionsForAll(t *testing.T) {
	t.Parallel()
	const rules = "rules:\n  - {name: old, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n"
	all := writeFile(t, "all.yml", "version: 1\nregions: all\n"+rules)
	named := writeFile(t, "named.yml", "version: 1\nregions: [us-east-1]\n"+rules)
	want := resource.Statement{Sid: "EnabledRegions", Effect: "Allow", Action: resource.Values{"ec2:DescribeRegions"}, Resource: resource.Values{"*"}}
	for name, tc := range map[string]struct {
		file  string
		env   map[string]string
		args  []string
		grant bool
	}{
		"all in the file":              {file: all, grant: true},
		"all in the file, plan only":   {file: all, args: []string{"--plan-only"}, grant: true},
		"named regions":                {file: named},
		"BROOM_REGIONS=all over names": {file: named, env: map[string]string{"BROOM_REGIONS": "all"}, grant: true},
		"BROOM_REGIONS names over all": {file: all, env: map[string]string{"BROOM_REGIONS": "eu-west-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := policyOf(t, runCLI(t, tc.env, append([]string{"iam-policy", "--config", tc.file}, tc.args...)...))["EnabledRegions"]
			if ok != tc.grant {
				t.Fatalf("EnabledRegions statement: %v, want %v", ok, tc.grant)
			}
			if ok {
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("EnabledRegions (-want +got):\n%s", diff)
				}
			}
		})
	}
}
