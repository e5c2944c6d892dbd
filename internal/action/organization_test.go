package action

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/resource"
)

// orgRole is the organization's role; moto's AssumeRole lands in the
// account the ARN names, so each discovered account's check passes.
const orgRole = "arn:aws:iam::{account}:role/broom"

func TestConnectToAnOrganization(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, "us-east-1")
	root := awstest.CreateOrganization(t, direct)
	prod := awstest.CreateOU(t, direct, root, "prod")
	team := awstest.CreateOU(t, direct, prod, "team")
	var members []string
	for i, parent := range []string{prod, team, team, root} {
		members = append(members, awstest.CreateMemberAccount(t, direct, root, parent, "member"+string(rune('a'+i))))
	}
	inProd := slices.Sorted(slices.Values(members[:3]))
	org := func(ous, exclude []string) *config.Organization {
		return &config.Organization{OUs: ous, Exclude: exclude, Role: orgRole}
	}

	t.Run("each account of the OUs assumed and checked, sorted", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		c, err := connectTo(t, m, rec, config.Config{File: config.File{Organization: org([]string{prod}, nil)}})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		if diff := cmp.Diff(inProd, c.Accounts); diff != "" {
			t.Errorf("accounts (-want +got):\n%s", diff)
		}
		calls := ops(rec)
		for op, want := range map[string]int{"sts:AssumeRole": 3, "sts:GetCallerIdentity": 4} {
			if got := count(calls, op); got != want {
				t.Errorf("%s called %d times, want %d: %v", op, got, want, calls)
			}
		}
		// What connecting calls, the iam-policy for an organization grants.
		doc, err := resource.Policy(nil, resource.PolicyOptions{PlanOnly: true, Organization: true, Roles: []string{"arn:aws:iam::*:role/broom"}})
		if err != nil {
			t.Fatal(err)
		}
		granted := map[string]bool{}
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				granted[a] = true
			}
		}
		for _, op := range calls {
			if !granted[op] {
				t.Errorf("connect called %s, which broom iam-policy --plan-only does not grant", op)
			}
		}
	})
	t.Run("the whole organization less exclude", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		c, err := connectTo(t, m, rec, config.Config{File: config.File{Organization: org(nil, []string{awstest.AccountID, members[1]})}})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		want := slices.Sorted(slices.Values([]string{members[0], members[2], members[3]}))
		if diff := cmp.Diff(want, c.Accounts); diff != "" {
			t.Errorf("accounts (-want +got):\n%s", diff)
		}
	})
	t.Run("an account allowed-accounts leaves out: misuse naming it, no role assumed", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		allowed := []string{awstest.AccountID, inProd[0], inProd[2]}
		_, err := connectTo(t, m, rec, config.Config{File: config.File{Organization: org([]string{prod}, nil), AllowedAccounts: allowed}})
		var misuse *MisuseError
		want := "account " + inProd[1] + " is not in allowed-accounts (" + strings.Join(allowed, ", ") + "): accounts: organization has it"
		if !errors.As(err, &misuse) || err.Error() != want {
			t.Fatalf("connect: error %v (%T), want the misuse %q", err, err, want)
		}
		if codeOf(err) != ExitMisuse {
			t.Errorf("codeOf = %d, want %d", codeOf(err), ExitMisuse)
		}
		if n := count(ops(rec), "sts:AssumeRole"); n != 0 {
			t.Errorf("%d roles assumed, want none: %v", n, ops(rec))
		}
	})
	t.Run("an OU that does not exist: failure naming it", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		const missing = "ou-zzzz-zzzzzzzz"
		_, err := connectTo(t, m, rec, config.Config{File: config.File{Organization: org([]string{prod, missing}, nil)}})
		if err == nil || !strings.Contains(err.Error(), "OU "+missing+":") || !strings.Contains(err.Error(), "ParentNotFoundException") {
			t.Fatalf("connect: error %v, want ParentNotFoundException naming %s", err, missing)
		}
		if codeOf(err) != ExitFailure {
			t.Errorf("codeOf = %d, want %d (an AWS error)", codeOf(err), ExitFailure)
		}
		if n := count(ops(rec), "sts:AssumeRole"); n != 0 {
			t.Errorf("%d roles assumed, want none: %v", n, ops(rec))
		}
	})
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}
