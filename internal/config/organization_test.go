package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReadsAccountsOfAnOrganization(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want *Organization
	}{
		"OUs and exclusions": {
			yaml: "accounts:\n  organization:\n    ous: [ou-ab12-abcdefgh, ou-cd34-12345678]\n    exclude: [\"111122223333\"]\n" +
				"  role: \"arn:aws:iam::{account}:role/broom\"\nrules: []\n",
			want: &Organization{OUs: []string{"ou-ab12-abcdefgh", "ou-cd34-12345678"}, Exclude: []string{"111122223333"},
				Role: "arn:aws:iam::{account}:role/broom"},
		},
		"the whole organization, organization with nothing under it": {
			yaml: "accounts:\n  organization:\n  role: arn:aws:iam::{account}:role/broom\nrules: []\n",
			want: &Organization{Role: "arn:aws:iam::{account}:role/broom"},
		},
		"the whole organization, an empty mapping": {
			yaml: "accounts: {organization: {}, role: \"arn:aws-us-gov:iam::{account}:role/ops/broom-{account}\"}\nrules: []\n",
			want: &Organization{Role: "arn:aws-us-gov:iam::{account}:role/ops/broom-{account}"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Organization); diff != "" {
				t.Errorf("Organization (-want +got):\n%s", diff)
			}
			if got.Accounts != nil {
				t.Errorf("Accounts = %v, want none: the organization names them", got.Accounts)
			}
		})
	}
}

func TestParseRejectsMalformedOrganizations(t *testing.T) {
	t.Parallel()
	const role = "  role: arn:aws:iam::{account}:role/broom\n"
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"an OU id of the wrong shape, at its line": {
			yaml: "accounts:\n  organization:\n    ous:\n      - ou-ab12-abcdefgh\n      - ou-AB12-abcdefgh\n" + role,
			want: []string{`broom.yml:5: accounts: organization: ous: "ou-AB12-abcdefgh" is not an OU id`},
		},
		"a root id for an OU": {
			yaml: "accounts:\n  organization: {ous: [r-ab12]}\n" + role,
			want: []string{`broom.yml:2: accounts: organization: ous: "r-ab12" is not an OU id`},
		},
		"an OU id with a short second part": {
			yaml: "accounts:\n  organization: {ous: [ou-ab12-abcdefg]}\n" + role,
			want: []string{`broom.yml:2: accounts: organization: ous: "ou-ab12-abcdefg" is not an OU id`},
		},
		"an OU listed twice": {
			yaml: "accounts:\n  organization:\n    ous:\n      - ou-ab12-abcdefgh\n      - ou-ab12-abcdefgh\n" + role,
			want: []string{`broom.yml:5: accounts: organization: ous: ou-ab12-abcdefgh listed twice (first at line 4)`},
		},
		"a null in ous, once": {
			yaml: "accounts:\n  organization:\n    ous:\n      - ou-ab12-abcdefgh\n      -\n" + role,
			want: []string{`broom.yml:5: accounts: organization: ous: want a string, got nothing`},
		},
		"ous empty": {
			yaml: "accounts:\n  organization:\n    ous: []\n" + role,
			want: []string{`broom.yml:3: accounts: organization: ous: empty list (leave ous out for the whole organization)`},
		},
		"ous a string": {
			yaml: "accounts:\n  organization:\n    ous: ou-ab12-abcdefgh\n" + role,
			want: []string{`broom.yml:3: accounts: organization: ous: want a list, got "ou-ab12-abcdefgh"`},
		},
		"a short account id in exclude, at its line": {
			yaml: "accounts:\n  organization:\n    exclude:\n      - \"111122223333\"\n      - \"11112222333\"\n" + role,
			want: []string{`broom.yml:5: accounts: organization: exclude: "11112222333" is not a 12-digit AWS account id`},
		},
		"an alias in exclude": {
			yaml: "accounts:\n  organization: {exclude: [acme-prod]}\n" + role,
			want: []string{`broom.yml:2: accounts: organization: exclude: "acme-prod" is not a 12-digit AWS account id`},
		},
		"an unknown key under organization": {
			yaml: "accounts:\n  organization:\n    ou: [ou-ab12-abcdefgh]\n" + role,
			want: []string{`broom.yml:3: accounts: organization: unknown key "ou" (valid: ous, exclude)`},
		},
		"organization a list": {
			yaml: "accounts:\n  organization: [ou-ab12-abcdefgh]\n" + role,
			want: []string{`broom.yml:2: accounts: organization: want a mapping, got a list`},
		},
		"organization a string": {
			yaml: "accounts:\n  organization: all\n" + role,
			want: []string{`broom.yml:2: accounts: organization: want a mapping, got "all"`},
		},
		"role with nothing after it, once": {
			yaml: "accounts:\n  organization: {}\n  role:\n",
			want: []string{`broom.yml:3: accounts: role: want a string, got nothing`},
		},
		"no role": {
			yaml: "version: 1\naccounts:\n  organization:\n    ous: [ou-ab12-abcdefgh]\n",
			want: []string{`broom.yml:3: accounts: organization needs role`},
		},
		"a role without {account}": {
			yaml: "accounts:\n  organization: {}\n  role: arn:aws:iam::111122223333:role/broom\n",
			want: []string{`broom.yml:3: accounts: role "arn:aws:iam::111122223333:role/broom" does not name the account by {account}`},
		},
		"a role with {account} outside the account field": {
			yaml: "accounts:\n  organization: {}\n  role: arn:aws:iam::111122223333:role/broom-{account}\n",
			want: []string{`broom.yml:3: accounts: role "arn:aws:iam::111122223333:role/broom-{account}" is not an IAM role ARN in account {account}`},
		},
		"a role that is no ARN": {
			yaml: "accounts:\n  organization: {}\n  role: broom-{account}\n",
			want: []string{`broom.yml:3: accounts: role "broom-{account}" is not an IAM role ARN in account {account}`},
		},
		"a role and no organization": {
			yaml: "accounts:\n" + role,
			want: []string{`broom.yml:2: accounts: want organization (with role) or a list of accounts`},
		},
		"a list and organization": {
			yaml: "accounts:\n  - {id: \"111122223333\", role: \"arn:aws:iam::111122223333:role/broom\"}\n" +
				"  - organization: {ous: [ou-ab12-abcdefgh]}\n    role: arn:aws:iam::{account}:role/broom\n",
			want: []string{`broom.yml:3: accounts: organization cannot be one of a list of accounts`},
		},
		"an account's keys beside organization": {
			yaml: "accounts:\n  organization: {}\n  id: \"111122223333\"\n" + role,
			want: []string{`broom.yml:3: accounts: unknown key "id" (valid: organization, role, plan-role)`},
		},
		"accounts a string": {
			yaml: "accounts: organization\n",
			want: []string{`broom.yml:1: accounts: want a list of accounts or a mapping with organization and role, got "organization"`},
		},
		"every malformed piece at once": {
			yaml: "accounts:\n  organization:\n    ous: [ou-x]\n    exclude: [\"1\"]\n",
			want: []string{
				`broom.yml:2: accounts: organization needs role`,
				`broom.yml:3: accounts: organization: ous: "ou-x" is not an OU id`,
				`broom.yml:4: accounts: organization: exclude: "1" is not a 12-digit AWS account id`,
			},
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

func TestOrganizationRoleFor(t *testing.T) {
	t.Parallel()
	o := Organization{Role: "arn:aws:iam::{account}:role/broom-{account}"}
	if got, want := o.RoleFor("111122223333"), "arn:aws:iam::111122223333:role/broom-111122223333"; got != want {
		t.Errorf("RoleFor = %q, want %q", got, want)
	}
}
