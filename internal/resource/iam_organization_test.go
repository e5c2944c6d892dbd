package resource

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// accounts: organization adds the discovery's reads, on their own
// statement for the identity that lists; without it there is none.
func TestPolicyDiscoversAnOrganization(t *testing.T) {
	t.Parallel()
	sids := func(doc PolicyDocument) map[string]Statement {
		out := map[string]Statement{}
		for _, s := range doc.Statement {
			out[s.Sid] = s
		}
		return out
	}
	doc, err := Policy(nil, PolicyOptions{Organization: true, Roles: []string{"arn:aws:iam::*:role/broom"}, PlanOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := sids(doc)["DiscoverAccounts"]
	want := Statement{Sid: "DiscoverAccounts", Effect: "Allow", Resource: Values{"*"},
		Action: Values{"organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DiscoverAccounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Values{"arn:aws:iam::*:role/broom"}, sids(doc)["AssumeAccountRoles"].Resource); diff != "" {
		t.Errorf("AssumeAccountRoles resources (-want +got):\n%s", diff)
	}
	doc, err = Policy(nil, PolicyOptions{Roles: []string{"arn:aws:iam::111111111111:role/broom"}})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := sids(doc)["DiscoverAccounts"]; ok {
		t.Errorf("a list of accounts: DiscoverAccounts %+v, want none", s)
	}
}
