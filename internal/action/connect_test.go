package action

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/faults"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/resource"
)

// motoAccount is the account moto's default credentials are in.
const motoAccount = "123456789012"

// moto's STS AssumeRole accepts any role ARN, whether or not the role
// exists, and hands out credentials in the account the ARN names; STS
// GetCallerIdentity with them then says that account. So a role ARN in
// another account than the config's id makes a role "land" elsewhere, as
// a wrong ARN would on AWS (the loader rejects such a pair in a file, so
// these tests build the Config themselves).
func roleIn(account string) string { return "arn:aws:iam::" + account + ":role/broom" }

// connectTo runs connect against moto through a recorder, the way Connect
// does through the SDK's default chain.
func connectTo(t *testing.T, m *awstest.Moto, rec *awstest.Recorder, cfg config.Config) (Cloud, error) {
	t.Helper()
	return connectAs(t, m, rec, cfg, PlanOnly)
}

// connectAs is connectTo for a run that may do access.
func connectAs(t *testing.T, m *awstest.Moto, rec *awstest.Recorder, cfg config.Config, access Access) (Cloud, error) {
	t.Helper()
	if cfg.Regions == nil {
		cfg.Regions = []string{"us-east-1"}
	}
	base := func(_ context.Context, region string) (aws.Config, error) {
		c := m.Config(t, region)
		c.BaseEndpoint = aws.String(rec.URL())
		return c, nil
	}
	return connect(t.Context(), slog.New(slog.DiscardHandler), cfg, access, base)
}

// ops lists the operations rec saw, as service:Op.
func ops(rec *awstest.Recorder) []string {
	var out []string
	for _, c := range rec.Calls() {
		out = append(out, c.Service+":"+c.Op)
	}
	return out
}

func TestConnectChecksAllowedAccounts(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	tests := map[string]struct {
		allowed  []string
		accounts []config.Account
		want     []string // the accounts connected to; nil: refused
		refusal  string   // the error when refused
		calls    []string // what reached AWS, when refused
	}{
		"no allowed-accounts: the credentials' account": {
			want: []string{motoAccount},
		},
		"the credentials' account allowed": {
			allowed: []string{"111111111111", motoAccount},
			want:    []string{motoAccount},
		},
		"the credentials' account not allowed": {
			allowed: []string{"111111111111"},
			refusal: "account 123456789012 is not in allowed-accounts (111111111111): it is the credentials' own account",
			calls:   []string{"sts:GetCallerIdentity"},
		},
		"every account of accounts allowed": {
			allowed:  []string{motoAccount, "222222222222", "333333333333"},
			accounts: []config.Account{{ID: "222222222222", Role: roleIn("222222222222")}, {ID: "333333333333", Role: roleIn("333333333333")}},
			want:     []string{"222222222222", "333333333333"},
		},
		"an account of accounts not allowed, its role never assumed": {
			allowed:  []string{motoAccount, "222222222222"},
			accounts: []config.Account{{ID: "222222222222", Role: roleIn("222222222222")}, {ID: "999999999999", Role: roleIn("999999999999")}},
			refusal:  "account 999999999999 is not in allowed-accounts (123456789012, 222222222222): accounts: names it",
			calls:    []string{"sts:GetCallerIdentity"}, // every account checked before any role is assumed
		},
		"the credentials' account not allowed, even when accounts are": {
			allowed:  []string{"222222222222"},
			accounts: []config.Account{{ID: "222222222222", Role: roleIn("222222222222")}},
			refusal:  "account 123456789012 is not in allowed-accounts (222222222222): it is the credentials' own account",
			calls:    []string{"sts:GetCallerIdentity"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := awstest.NewRecorder(t, m.URL())
			c, err := connectTo(t, m, rec, config.Config{File: config.File{AllowedAccounts: tc.allowed, Accounts: tc.accounts}})
			if tc.want != nil {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				if diff := cmp.Diff(tc.want, c.Accounts); diff != "" {
					t.Errorf("accounts (-want +got):\n%s", diff)
				}
				return
			}
			var misuse *MisuseError
			if !errors.As(err, &misuse) || err.Error() != tc.refusal {
				t.Fatalf("connect: error %v (%T), want the misuse %q", err, err, tc.refusal)
			}
			if codeOf(err) != ExitMisuse {
				t.Errorf("codeOf = %d, want %d", codeOf(err), ExitMisuse)
			}
			// Refused before anything else: no listing, no alias, no role
			// of a refused account assumed.
			if diff := cmp.Diff(tc.calls, ops(rec)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// A role that lands in another account than the config names is refused:
// broom never acts in an account the config does not name.
func TestConnectRefusesARoleInAnotherAccount(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	rec := awstest.NewRecorder(t, m.URL())
	_, err := connectTo(t, m, rec, config.Config{File: config.File{
		Accounts: []config.Account{{ID: "222222222222", Role: roleIn("333333333333")}}}})
	want := "assume arn:aws:iam::333333333333:role/broom: credentials are for account 333333333333, not 222222222222"
	if err == nil || err.Error() != want {
		t.Fatalf("connect: error %v, want %q", err, want)
	}
	if slices.Contains(ops(rec), "ec2:DescribeSnapshots") || slices.Contains(ops(rec), "iam:ListAccountAliases") {
		t.Errorf("calls %v: want nothing after the identity check", ops(rec))
	}
}

// The report names each account by its alias where it has one; an account
// without one, or whose alias cannot be read, by its id alone.
func TestConnectReadsAccountAliases(t *testing.T) {
	t.Parallel()
	m := awstest.StartMoto(t)
	direct := m.Config(t, "us-east-1")
	createAlias := func(cfg aws.Config, alias string) {
		t.Helper()
		if _, err := iam.NewFromConfig(cfg).CreateAccountAlias(t.Context(), &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)}); err != nil {
			t.Fatalf("create alias %s: %v", alias, err)
		}
	}
	createAlias(direct, "acme-main")
	assumed := direct.Copy()
	assumed.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(direct), roleIn("222222222222")))
	createAlias(assumed, "acme-dev")

	t.Run("the credentials' account", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		c, err := connectTo(t, m, rec, config.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]report.Account{{ID: motoAccount, Alias: "acme-main"}}, c.Identities()); diff != "" {
			t.Errorf("identities (-want +got):\n%s", diff)
		}
		// What connecting calls, a role that only plans may call.
		doc, err := resource.Policy(nil, resource.PolicyOptions{PlanOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		granted := map[string]bool{}
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				granted[a] = true
			}
		}
		for _, op := range ops(rec) {
			if !granted[op] {
				t.Errorf("connect called %s, which broom iam-policy --plan-only does not grant", op)
			}
		}
	})
	t.Run("each account of accounts, with or without an alias", func(t *testing.T) {
		t.Parallel()
		rec := awstest.NewRecorder(t, m.URL())
		c, err := connectTo(t, m, rec, config.Config{File: config.File{Accounts: []config.Account{
			{ID: "222222222222", Role: roleIn("222222222222")}, {ID: "333333333333", Role: roleIn("333333333333")}}}})
		if err != nil {
			t.Fatal(err)
		}
		want := []report.Account{{ID: "222222222222", Alias: "acme-dev"}, {ID: "333333333333"}}
		if diff := cmp.Diff(want, c.Identities()); diff != "" {
			t.Errorf("identities (-want +got):\n%s", diff)
		}
	})
	t.Run("access denied is no alias, not a failure", func(t *testing.T) {
		t.Parallel()
		p, err := faults.New(m.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		p.SetRules(faults.Rule{Service: "iam", Op: "ListAccountAliases",
			Fault: faults.APIError(403, "AccessDenied", "User is not authorized to perform: iam:ListAccountAliases")})
		rec := awstest.NewRecorder(t, p.URL())
		c, err := connectTo(t, m, rec, config.Config{})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		if diff := cmp.Diff([]report.Account{{ID: motoAccount}}, c.Identities()); diff != "" {
			t.Errorf("identities (-want +got):\n%s", diff)
		}
		if n := rec.Count("ListAccountAliases"); n != 1 {
			t.Errorf("ListAccountAliases called %d times, want 1 (AccessDenied is not retried)", n)
		}
		if strings.Join(ops(rec), " ") != "sts:GetCallerIdentity iam:ListAccountAliases" {
			t.Errorf("calls %v", ops(rec))
		}
	})
}
