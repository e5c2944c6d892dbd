package cloud

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
)

// testOrg is an organization in moto:
//
//	root: management, rootAcct
//	  dev (OU): dev1
//	    team (OU): team1
//	      deep (OU): deep1
//	  ops (OU): ops1, closed (SUSPENDED)
type testOrg struct {
	dev, team, deep, ops                           string // OU ids
	management, rootAcct, dev1, team1, deep1, ops1 string // ACTIVE accounts
	closed                                         string
	created                                        []string // member accounts, in the order moto made them
}

func seedOrg(t *testing.T, cfg aws.Config) testOrg {
	t.Helper()
	root := awstest.CreateOrganization(t, cfg)
	var o testOrg
	o.management = awstest.AccountID
	o.dev = awstest.CreateOU(t, cfg, root, "dev")
	o.team = awstest.CreateOU(t, cfg, o.dev, "team")
	o.deep = awstest.CreateOU(t, cfg, o.team, "deep")
	o.ops = awstest.CreateOU(t, cfg, root, "ops")
	member := func(parent, name string) string {
		id := awstest.CreateMemberAccount(t, cfg, root, parent, name)
		o.created = append(o.created, id)
		return id
	}
	o.deep1 = member(o.deep, "deep1")
	o.ops1 = member(o.ops, "ops1")
	o.dev1 = member(o.dev, "dev1")
	o.team1 = member(o.team, "team1")
	o.closed = member(o.ops, "closed")
	o.rootAcct = member(root, "root1")
	// moto's ids are random: make sure the API's order (creation order)
	// is not already sorted, or a missing sort would go unseen.
	for i := 0; slices.IsSorted(o.created); i++ {
		o.rootAcct = member(root, "root"+string(rune('2'+i)))
	}
	awstest.CloseAccount(t, cfg, o.closed)
	return o
}

func TestOrganizationAccounts(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	cfg := m.Config(t, "us-east-1")
	o := seedOrg(t, cfg)
	var roots []string // the accounts directly under root, management's included
	for _, id := range append([]string{o.management}, o.created...) {
		if !slices.Contains([]string{o.dev1, o.team1, o.deep1, o.ops1, o.closed}, id) {
			roots = append(roots, id)
		}
	}
	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	tests := map[string]struct {
		ous, exclude []string
		want         []string
	}{
		"an OU and its child OUs at any depth": {
			ous: []string{o.dev}, want: sorted(o.dev1, o.team1, o.deep1),
		},
		"a nested OU alone, not its parent": {
			ous: []string{o.team}, want: sorted(o.team1, o.deep1),
		},
		"an OU inside another listed OU, each account once": {
			ous: []string{o.team, o.dev}, want: sorted(o.dev1, o.team1, o.deep1),
		},
		"a SUSPENDED account is skipped": {
			ous: []string{o.ops}, want: []string{o.ops1},
		},
		"two OUs": {
			ous: []string{o.ops, o.team}, want: sorted(o.ops1, o.team1, o.deep1),
		},
		"exclude in a child OU": {
			ous: []string{o.dev}, exclude: []string{o.team1}, want: sorted(o.dev1, o.deep1),
		},
		"the whole organization, SUSPENDED skipped": {
			want: sorted(append([]string{o.dev1, o.team1, o.deep1, o.ops1}, roots...)...),
		},
		"the whole organization less the management account": {
			exclude: []string{o.management},
			want:    sorted(append([]string{o.dev1, o.team1, o.deep1, o.ops1}, roots[1:]...)...),
		},
	}
	api := organizations.NewFromConfig(cfg)
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := OrganizationAccounts(t.Context(), cfg, tt.ous, tt.exclude)
			if err != nil {
				t.Fatalf("OrganizationAccounts: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("accounts (-want +got):\n%s", diff)
			}
			// One account a page: every page is read.
			paged, err := organizationAccounts(t.Context(), api, tt.ous, tt.exclude, 1)
			if err != nil {
				t.Fatalf("organizationAccounts, pages of 1: %v", err)
			}
			if diff := cmp.Diff(tt.want, paged); diff != "" {
				t.Errorf("accounts, pages of 1 (-want +got):\n%s", diff)
			}
		})
	}
}

// An OU inside another listed OU is read once.
func TestOrganizationAccountsReadsEachOUOnce(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	o := seedOrg(t, m.Config(t, "us-east-1"))
	cfg, rec := m.Recorded(t, "us-east-1")
	got, err := OrganizationAccounts(t.Context(), cfg, []string{o.team, o.dev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values([]string{o.dev1, o.team1, o.deep1})); !slices.Equal(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	// dev, team and deep, each once.
	for _, op := range []string{"ListAccountsForParent", "ListChildren"} {
		if n := rec.Count(op); n != 3 {
			t.Errorf("%s called %d times, want 3 (one for each OU)", op, n)
		}
	}
}

// Every call's error ends the discovery and says what it was doing.
func TestOrganizationAccountsErrorsSayWhere(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	cfg := m.Config(t, "us-east-1")
	o := seedOrg(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for ous, want := range map[string]string{
		"":    "accounts: organization: list its accounts: ",
		o.dev: "accounts: organization: list the accounts of OU " + o.dev + ": ",
	} {
		var list []string
		if ous != "" {
			list = []string{ous}
		}
		got, err := OrganizationAccounts(ctx, cfg, list, nil)
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, context.Canceled) || got != nil {
			t.Errorf("ous %q, cancelled: %v, %v; want nothing and an error starting %q", ous, got, err, want)
		}
	}
}

func TestActive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		account types.Account
		want    bool
	}{
		{types.Account{State: types.AccountStateActive, Status: types.AccountStatusActive}, true},
		{types.Account{State: types.AccountStateActive}, true},
		{types.Account{State: types.AccountStateSuspended, Status: types.AccountStatusActive}, false},
		{types.Account{State: types.AccountStatePendingClosure}, false},
		{types.Account{State: types.AccountStateClosed}, false},
		{types.Account{State: types.AccountStatePendingActivation}, false},
		// Before State, only Status.
		{types.Account{Status: types.AccountStatusActive}, true},
		{types.Account{Status: types.AccountStatusSuspended}, false},
		{types.Account{Status: types.AccountStatusPendingClosure}, false},
		{types.Account{}, false},
	} {
		if got := active(tc.account); got != tc.want {
			t.Errorf("active(State %q, Status %q) = %v, want %v", tc.account.State, tc.account.Status, got, tc.want)
		}
	}
}

func TestOrganizationAccountsNamesTheOUItFailedIn(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	cfg := m.Config(t, "us-east-1")
	o := seedOrg(t, cfg)
	const missing = "ou-zzzz-zzzzzzzz"
	_, err := OrganizationAccounts(t.Context(), cfg, []string{o.dev, missing}, nil)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ParentNotFoundException" {
		t.Fatalf("error = %v, want ParentNotFoundException", err)
	}
	if want := "list the accounts of OU " + missing + ":"; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

// moto answers ListAccounts outside an organization with no account (AWS:
// AWSOrganizationsNotInUseException); either way broom must not run over
// nothing and call the organization clean.
func TestOrganizationAccountsFindingNoneIsAnError(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	cfg := m.Config(t, "us-east-1")
	if _, err := OrganizationAccounts(t.Context(), cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "no ACTIVE account in the organization") {
		t.Errorf("outside an organization: error = %v, want no ACTIVE account", err)
	}
	o := seedOrg(t, cfg)
	_, err := OrganizationAccounts(t.Context(), cfg, []string{o.ops}, []string{o.ops1})
	if want := "accounts: organization: no ACTIVE account in OU " + o.ops + ", less exclude"; err == nil || err.Error() != want {
		t.Errorf("an OU all excluded or closed: error = %v, want %q", err, want)
	}
}
