package action

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
)

// assumedRoles are the roles rec saw assumed, sorted by ARN (connect
// assumes them concurrently).
func assumedRoles(rec *awstest.Recorder) []awstest.AssumedRole {
	got := rec.AssumedRoles()
	slices.SortFunc(got, func(a, b awstest.AssumedRole) int { return strings.Compare(a.RoleArn, b.RoleArn) })
	return got
}

// A run that can only plan assumes an account's plan-role where it has
// one, and its role where not; a run that may change something assumes
// role. The session name says which kind of run it was.
func TestConnectAssumesPlanRoleOnlyToPlan(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	const a, b = "111111111111", "222222222222"
	planRoleIn := func(account string) string { return "arn:aws:iam::" + account + ":role/broom-plan" }
	listed := config.Config{File: config.File{Accounts: []config.Account{
		{ID: a, Role: roleIn(a), PlanRole: planRoleIn(a)},
		{ID: b, Role: roleIn(b)}, // no plan-role: its role, as before
	}}}
	tests := map[string]struct {
		access Access
		want   []awstest.AssumedRole
	}{
		"plan only":  {PlanOnly, []awstest.AssumedRole{{RoleArn: planRoleIn(a), SessionName: "broom-plan"}, {RoleArn: roleIn(b), SessionName: "broom-plan"}}},
		"may change": {MayChange, []awstest.AssumedRole{{RoleArn: roleIn(a), SessionName: "broom-apply"}, {RoleArn: roleIn(b), SessionName: "broom-apply"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := awstest.NewRecorder(t, m.URL())
			c, err := connectAs(t, m, rec, listed, tt.access)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			if diff := cmp.Diff([]string{a, b}, c.Accounts); diff != "" {
				t.Errorf("accounts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, assumedRoles(rec)); diff != "" {
				t.Errorf("roles assumed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConnectAssumesAnOrganizationsPlanRoleOnlyToPlan(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, "us-east-1")
	root := awstest.CreateOrganization(t, direct)
	members := []string{awstest.CreateMemberAccount(t, direct, root, root, "membera"), awstest.CreateMemberAccount(t, direct, root, root, "memberb")}
	slices.Sort(members)
	org := config.Config{File: config.File{Organization: &config.Organization{Exclude: []string{awstest.AccountID},
		Role: orgRole, PlanRole: "arn:aws:iam::{account}:role/ops/broom-plan-{account}"}}}
	want := func(role func(string) string, session string) []awstest.AssumedRole {
		var out []awstest.AssumedRole
		for _, id := range members {
			out = append(out, awstest.AssumedRole{RoleArn: role(id), SessionName: session})
		}
		return out
	}
	for name, tt := range map[string]struct {
		cfg    config.Config
		access Access
		want   []awstest.AssumedRole
	}{
		"plan only":  {org, PlanOnly, want(func(id string) string { return "arn:aws:iam::" + id + ":role/ops/broom-plan-" + id }, "broom-plan")},
		"may change": {org, MayChange, want(roleIn, "broom-apply")},
		"plan only, no plan-role": {config.Config{File: config.File{Organization: &config.Organization{Exclude: []string{awstest.AccountID}, Role: orgRole}}},
			PlanOnly, want(roleIn, "broom-plan")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := awstest.NewRecorder(t, m.URL())
			c, err := connectAs(t, m, rec, tt.cfg, tt.access)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			if diff := cmp.Diff(members, c.Accounts); diff != "" {
				t.Errorf("accounts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, assumedRoles(rec)); diff != "" {
				t.Errorf("roles assumed (-want +got):\n%s", diff)
			}
		})
	}
}

// A plan-role that lands in another account is refused like a role, and
// the error names the role assumed.
func TestConnectChecksThePlanRolesAccount(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	rec := awstest.NewRecorder(t, m.URL())
	const a = "111111111111"
	wrong := "arn:aws:iam::333333333333:role/broom-plan"
	_, err := connectAs(t, m, rec, config.Config{File: config.File{Accounts: []config.Account{{ID: a, Role: roleIn(a), PlanRole: wrong}}}}, PlanOnly)
	if want := "assume " + wrong + ": credentials are for account 333333333333, not " + a; err == nil || err.Error() != want {
		t.Fatalf("connect: error %v, want %q", err, want)
	}
}
