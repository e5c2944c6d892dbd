package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The schema knows accounts' organization form as the loader does: the
// same keys, the same verdicts.
func TestSchemaOrganizationAgreesWithLoader(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	accounts := child(t, s.root, "properties", "accounts")
	for _, tc := range []struct {
		where, loader string
		schema        map[string]any
	}{
		{"accounts as a mapping", "accounts: {organization: {}, role: \"arn:aws:iam::{account}:role/b\", x-probe: 1}\n", accounts},
		{"organization", "accounts: {organization: {x-probe: 1}, role: \"arn:aws:iam::{account}:role/b\"}\n", child(t, accounts, "properties", "organization")},
	} {
		if diff := cmp.Diff(loaderKeys(t, tc.loader), propertyNames(tc.schema)); diff != "" {
			t.Errorf("%s: keys the loader accepts (-) and the schema lists (+):\n%s", tc.where, diff)
		}
	}
	const role = "  role: \"arn:aws:iam::{account}:role/broom\"\n"
	for name, tc := range map[string]struct {
		doc   string
		valid bool
	}{
		"OUs and exclude":            {doc: "accounts:\n  organization: {ous: [ou-ab12-34cd56ef], exclude: [\"111122223333\"]}\n" + role, valid: true},
		"the whole organization":     {doc: "accounts:\n  organization:\n" + role, valid: true},
		"an empty organization":      {doc: "accounts:\n  organization: {}\n" + role, valid: true},
		"{account} in the role name": {doc: "accounts:\n  organization: {}\n  role: \"arn:aws:iam::{account}:role/broom-{account}\"\n", valid: true},
		"a bad OU id":                {doc: "accounts:\n  organization: {ous: [ou-AB12-34cd56ef]}\n" + role},
		"a root id":                  {doc: "accounts:\n  organization: {ous: [r-ab12]}\n" + role},
		"no ous":                     {doc: "accounts:\n  organization: {ous: []}\n" + role},
		"an OU twice":                {doc: "accounts:\n  organization: {ous: [ou-ab12-34cd56ef, ou-ab12-34cd56ef]}\n" + role},
		"a short account in exclude": {doc: "accounts:\n  organization: {exclude: [\"1111\"]}\n" + role},
		"no role":                    {doc: "accounts:\n  organization: {}\n"},
		"a role without {account}":   {doc: "accounts:\n  organization: {}\n  role: \"arn:aws:iam::111122223333:role/broom\"\n"},
		"a role not an ARN":          {doc: "accounts:\n  organization: {}\n  role: \"broom-{account}\"\n"},
		"a role and no organization": {doc: "accounts:\n" + role},
		"organization a list":        {doc: "accounts:\n  organization: [ou-ab12-34cd56ef]\n" + role},
		"organization in the list":   {doc: "accounts:\n  - organization: {}\n  " + role},
		"accounts a string":          {doc: "accounts: organization\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			judgeAlike(t, s, tc.doc, tc.valid)
		})
	}
}
