package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReadsPlanRoles(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml     string
		accounts []Account
		org      *Organization
	}{
		"a list: one account with a plan-role, one without": {
			yaml: "accounts:\n" +
				"  - {id: \"111111111111\", role: \"arn:aws:iam::111111111111:role/broom\", plan-role: \"arn:aws:iam::111111111111:role/broom-read\"}\n" +
				"  - {id: \"222222222222\", role: \"arn:aws:iam::222222222222:role/broom\"}\nrules: []\n",
			accounts: []Account{
				{ID: "111111111111", Role: "arn:aws:iam::111111111111:role/broom", PlanRole: "arn:aws:iam::111111111111:role/broom-read"},
				{ID: "222222222222", Role: "arn:aws:iam::222222222222:role/broom"},
			},
		},
		"an organization": {
			yaml: "accounts:\n  organization: {}\n  role: arn:aws:iam::{account}:role/broom\n" +
				"  plan-role: arn:aws:iam::{account}:role/ops/broom-plan-{account}\nrules: []\n",
			org: &Organization{Role: "arn:aws:iam::{account}:role/broom", PlanRole: "arn:aws:iam::{account}:role/ops/broom-plan-{account}"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.accounts, got.Accounts); diff != "" {
				t.Errorf("Accounts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.org, got.Organization); diff != "" {
				t.Errorf("Organization (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsBadPlanRoles(t *testing.T) {
	t.Parallel()
	const (
		org  = "accounts:\n  organization: {}\n  role: arn:aws:iam::{account}:role/broom\n"
		list = "accounts:\n  - id: \"111111111111\"\n    role: arn:aws:iam::111111111111:role/broom\n"
	)
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"list: a plan-role that is no ARN, at its line": {
			yaml: list + "    plan-role: broom-plan\n",
			want: []string{`broom.yml:4: accounts: plan-role "broom-plan" is not an IAM role ARN`},
		},
		"list: an empty plan-role": {
			yaml: list + "    plan-role: \"\"\n",
			want: []string{`broom.yml:4: accounts: plan-role "" is not an IAM role ARN`},
		},
		"list: a plan-role in another account": {
			yaml: list + "    plan-role: arn:aws:iam::222222222222:role/broom-plan\n",
			want: []string{`broom.yml:4: accounts: plan-role arn:aws:iam::222222222222:role/broom-plan is in account 222222222222, not 111111111111`},
		},
		"list: the plan-role is the role": {
			yaml: list + "    plan-role: arn:aws:iam::111111111111:role/broom\n",
			want: []string{`broom.yml:4: accounts: plan-role is role arn:aws:iam::111111111111:role/broom: give plans a read-only role of their own, or leave plan-role out`},
		},
		"list: plan-role with nothing after it, once": {
			yaml: list + "    plan-role:\n",
			want: []string{`broom.yml:4: accounts: plan-role: want a string, got nothing`},
		},
		"list: a misspelt plan-role": {
			yaml: list + "    plan_role: arn:aws:iam::111111111111:role/broom-plan\n",
			want: []string{`broom.yml:4: accounts: unknown key "plan_role" (valid: id, role, plan-role)`},
		},
		"organization: a plan-role without {account}": {
			yaml: org + "  plan-role: arn:aws:iam::111122223333:role/broom-plan\n",
			want: []string{`broom.yml:4: accounts: plan-role "arn:aws:iam::111122223333:role/broom-plan" does not name the account by {account}, e.g. arn:aws:iam::{account}:role/broom-plan`},
		},
		"organization: a plan-role that is no ARN": {
			yaml: org + "  plan-role: broom-plan-{account}\n",
			want: []string{`broom.yml:4: accounts: plan-role "broom-plan-{account}" is not an IAM role ARN in account {account}, e.g. arn:aws:iam::{account}:role/broom-plan`},
		},
		"organization: an empty plan-role": {
			yaml: org + "  plan-role: \"\"\n",
			want: []string{`broom.yml:4: accounts: plan-role is empty, want a role ARN such as arn:aws:iam::{account}:role/broom-plan`},
		},
		"organization: an empty role": {
			yaml: "accounts:\n  organization: {}\n  role: \"\"\n",
			want: []string{`broom.yml:3: accounts: role is empty, want a role ARN such as arn:aws:iam::{account}:role/broom`},
		},
		"organization: the plan-role is the role": {
			yaml: org + "  plan-role: arn:aws:iam::{account}:role/broom\n",
			want: []string{`broom.yml:4: accounts: plan-role is role arn:aws:iam::{account}:role/broom: give plans a read-only role of their own, or leave plan-role out`},
		},
		"organization: plan-role with nothing after it, once": {
			yaml: org + "  plan-role:\n",
			want: []string{`broom.yml:4: accounts: plan-role: want a string, got nothing`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			checkProblems(t, err, tt.want)
		})
	}
}

func TestRoleForChoosesByWhatTheRunMayDo(t *testing.T) {
	t.Parallel()
	const role, planRole = "arn:aws:iam::111111111111:role/broom", "arn:aws:iam::111111111111:role/broom-plan"
	with := Account{ID: "111111111111", Role: role, PlanRole: planRole}
	without := Account{ID: "111111111111", Role: role}
	for _, tt := range []struct {
		a         Account
		mayChange bool
		want      string
	}{
		{with, false, planRole},
		{with, true, role},
		{without, false, role},
		{without, true, role},
	} {
		if got := tt.a.RoleFor(tt.mayChange); got != tt.want {
			t.Errorf("%+v.RoleFor(mayChange %v) = %q, want %q", tt.a, tt.mayChange, got, tt.want)
		}
	}
	o := Organization{Role: "arn:aws:iam::{account}:role/broom", PlanRole: "arn:aws:iam::{account}:role/broom-plan-{account}"}
	want := Account{ID: "222222222222", Role: "arn:aws:iam::222222222222:role/broom",
		PlanRole: "arn:aws:iam::222222222222:role/broom-plan-222222222222"}
	if diff := cmp.Diff(want, o.Account("222222222222")); diff != "" {
		t.Errorf("Account (-want +got):\n%s", diff)
	}
	if got := (Organization{Role: o.Role}).Account("222222222222").PlanRole; got != "" {
		t.Errorf("an organization without plan-role: PlanRole = %q, want none", got)
	}
}

// The README's Organizations snippet, plan-role included, is a config the
// loader reads as the README says.
func TestREADMEOrganizationSnippetParses(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n### Organizations\n")
	if !ok {
		t.Fatal("README.md: no section \"### Organizations\"")
	}
	_, block, ok := strings.Cut(section, "\n```yaml\n")
	if !ok {
		t.Fatal("README.md, Organizations: no ```yaml block")
	}
	block, _, _ = strings.Cut(block, "\n```\n")
	got, err := Parse("README.md", []byte(block+"\nrules: []\n"), testCatalog)
	if err != nil {
		t.Fatalf("the README's Organizations snippet: %v", err)
	}
	want := &Organization{OUs: []string{"ou-ab12-34cd56ef"}, Exclude: []string{"111122223333"},
		Role: "arn:aws:iam::{account}:role/broom", PlanRole: "arn:aws:iam::{account}:role/broom-plan"}
	if diff := cmp.Diff(want, got.Organization); diff != "" {
		t.Errorf("Organization (-want +got):\n%s", diff)
	}
}
