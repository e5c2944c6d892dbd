package action

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/pr/prtest"
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

// The route decides what a run may do, and so which role it assumes: only
// a run in apply mode connects as MayChange (the approval and the shards
// are in shardflow_test.go and e2e).
func TestRouteDecidesTheAccess(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		event, mode string
		payload     func(t *testing.T) map[string]any
		want        Access
	}{
		"schedule":                        {"schedule", "", nil, PlanOnly},
		"schedule in apply mode":          {"schedule", "apply", nil, MayChange},
		"dispatch in plan mode":           {"workflow_dispatch", "plan", func(t *testing.T) map[string]any { return prtest.Payload(t, "workflow_dispatch", "") }, PlanOnly},
		"dispatch in apply mode":          {"workflow_dispatch", "apply", func(t *testing.T) map[string]any { return prtest.Payload(t, "workflow_dispatch", "") }, MayChange},
		"push":                            {"push", "", func(t *testing.T) map[string]any { return prtest.Payload(t, "push", "") }, PlanOnly},
		"pull request opened, no comment": {"pull_request", "", func(t *testing.T) map[string]any { return prtest.Payload(t, "pull_request", "opened") }, PlanOnly},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var payload map[string]any
			if tt.payload != nil {
				payload = tt.payload(t)
			}
			d := newDriverRun(t, tt.event, payload, driverConfig)
			if tt.mode != "" {
				d.env["INPUT_MODE"] = tt.mode
			}
			d.env["INPUT_COMMENT"] = "false"
			var got []Access
			connect := d.connect
			d.connect = func(ctx context.Context, l *slog.Logger, c config.Config, access Access, opts ...engine.Option) (Cloud, error) {
				got = append(got, access)
				return connect(ctx, l, c, access, opts...)
			}
			if code, out := d.run(t); code != ExitOK {
				t.Fatalf("exit %d, outputs %v\n%s", code, out, d.logs.String())
			}
			if want := []Access{tt.want}; !slices.Equal(got, want) {
				t.Errorf("connected as %v, want %v", got, want)
			}
		})
	}
}
