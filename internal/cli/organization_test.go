package cli

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/resource"
)

const organizationConfig = `version: 1
regions: [us-east-1]
accounts:
  organization:
    ous: [ou-ab12-abcdefgh]
    exclude: ["111122223333"]
  role: "arn:aws:iam::{account}:role/ops/broom"
rules:
  - name: orphan-volumes
    resource: ebs-volume
    action: delete
    where: {unattached: true}
`

// The identity that lists finds the accounts in Organizations and assumes
// the role in any of them: the role's {account} is *.
func TestIAMPolicyForAnOrganization(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", organizationConfig)
	for _, planOnly := range []bool{false, true} {
		args := []string{"iam-policy", "--config", cfg}
		if planOnly {
			args = append(args, "--plan-only")
		}
		got := policyOf(t, runCLI(t, nil, args...))
		want := resource.Values{"organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren"}
		if diff := cmp.Diff(want, got["DiscoverAccounts"].Action); diff != "" {
			t.Errorf("plan-only %v: DiscoverAccounts actions (-want +got):\n%s\nstatements: %v", planOnly, diff, slices.Sorted(maps.Keys(got)))
		}
		if diff := cmp.Diff(resource.Values{"*"}, got["DiscoverAccounts"].Resource); diff != "" {
			t.Errorf("plan-only %v: DiscoverAccounts resources (-want +got):\n%s", planOnly, diff)
		}
		if diff := cmp.Diff(resource.Values{"arn:aws:iam::*:role/ops/broom"}, got["AssumeAccountRoles"].Resource); diff != "" {
			t.Errorf("plan-only %v: AssumeAccountRoles resources (-want +got):\n%s", planOnly, diff)
		}
		if diff := cmp.Diff(resource.Values{"sts:AssumeRole"}, got["AssumeAccountRoles"].Action); diff != "" {
			t.Errorf("plan-only %v: AssumeAccountRoles actions (-want +got):\n%s", planOnly, diff)
		}
	}
	// With plan-role, a plan-only policy may assume only the plan-role
	// (the role that deletes stays out of a plan job's reach), and every
	// grant in it is a read; the apply policy assumes both (a refused
	// approval plans again, with plan-role).
	withPlanRole := writeFile(t, "broom.yml", strings.Replace(organizationConfig, "  role: \"arn:aws:iam::{account}:role/ops/broom\"\n",
		"  role: \"arn:aws:iam::{account}:role/ops/broom\"\n  plan-role: \"arn:aws:iam::{account}:role/ops/broom-plan\"\n", 1))
	for planOnly, want := range map[bool]resource.Values{
		true:  {"arn:aws:iam::*:role/ops/broom-plan"},
		false: {"arn:aws:iam::*:role/ops/broom", "arn:aws:iam::*:role/ops/broom-plan"},
	} {
		args := []string{"iam-policy", "--config", withPlanRole}
		if planOnly {
			args = append(args, "--plan-only")
		}
		got := policyOf(t, runCLI(t, nil, args...))
		if diff := cmp.Diff(want, got["AssumeAccountRoles"].Resource); diff != "" {
			t.Errorf("plan-role, plan-only %v: AssumeAccountRoles resources (-want +got):\n%s", planOnly, diff)
		}
		if !planOnly {
			continue
		}
		for sid, st := range got {
			for _, a := range st.Action {
				if _, op, _ := strings.Cut(a, ":"); a != "sts:AssumeRole" && !awstest.IsRead(op) {
					t.Errorf("plan-role, plan-only: statement %s grants %s, which is no read", sid, a)
				}
			}
		}
	}
	// A list of accounts needs no discovery.
	if got := policyOf(t, runCLI(t, nil, "iam-policy", "--config", writeFile(t, "broom.yml", accountsConfig))); got["DiscoverAccounts"].Sid != "" {
		t.Errorf("a list of accounts: DiscoverAccounts statement %+v, want none", got["DiscoverAccounts"])
	}
}

func TestValidateOrganization(t *testing.T) {
	t.Parallel()
	if r := runCLI(t, nil, "validate", "--config", writeFile(t, "broom.yml", organizationConfig)); r.code != 0 {
		t.Errorf("a good organization: exit %d, stderr %q", r.code, r.stderr)
	}
	bad := writeFile(t, "broom.yml", "version: 1\nregions: [us-east-1]\naccounts:\n  organization:\n    ous: [ou-ab12]\nrules: []\n")
	r := runCLI(t, nil, "validate", "--config", bad)
	want := []string{
		bad + `:4: accounts: organization needs role, the role to assume in each account, e.g. arn:aws:iam::{account}:role/broom`,
		bad + `:5: accounts: organization: ous: "ou-ab12" is not an OU id (ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more)`,
	}
	if r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}
	if diff := cmp.Diff(want, lines(r.stderr)); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

// In a list of accounts, the plan-only policy assumes each account's
// plan-role, or its role where it has none.
func TestIAMPolicyForListedPlanRoles(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", strings.Replace(accountsConfig, `role: "arn:aws:iam::222222222222:role/broom"}`,
		`role: "arn:aws:iam::222222222222:role/broom", plan-role: "arn:aws:iam::222222222222:role/broom-plan"}`, 1))
	for planOnly, want := range map[bool]resource.Values{
		true:  {"arn:aws:iam::111111111111:role/broom", "arn:aws:iam::222222222222:role/broom-plan"},
		false: {"arn:aws:iam::111111111111:role/broom", "arn:aws:iam::222222222222:role/broom", "arn:aws:iam::222222222222:role/broom-plan"},
	} {
		args := []string{"iam-policy", "--config", cfg}
		if planOnly {
			args = append(args, "--plan-only")
		}
		got := policyOf(t, runCLI(t, nil, args...))
		if diff := cmp.Diff(want, got["AssumeAccountRoles"].Resource); diff != "" {
			t.Errorf("plan-only %v: AssumeAccountRoles resources (-want +got):\n%s", planOnly, diff)
		}
	}
}
