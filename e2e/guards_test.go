package e2e

import (
	"strings"
	"testing"

	"github.com/broom-dev/broom/internal/pr/prtest"
)

// moto's default credentials are in this account.
const motoAccount = "123456789012"

// notAllowed is the default config, allowed only in other accounts.
var notAllowed = strings.Replace(defaultConfig, "\nregions: [us-east-1]\n",
	"\nregions: [us-east-1]\nallowed-accounts: [\"111111111111\", \"222222222222\"]\n", 1)

// onlySTS checks that the run asked AWS who it is and nothing else: the
// account check comes before anything is listed (SPEC §9).
func (w *world) onlySTS() {
	w.t.Helper()
	calls := w.rec.Calls()
	if len(calls) == 0 {
		w.t.Error("no AWS call at all: the account was never checked")
	}
	for _, c := range calls {
		if c.Service != "sts" || c.Op != "GetCallerIdentity" {
			w.t.Errorf("AWS call %s:%s, want only sts:GetCallerIdentity before the refusal", c.Service, c.Op)
		}
	}
}

// broom action in an account that allowed-accounts leaves out: exit 2
// (misuse) naming the account, before anything is listed, with every
// output written. (The exit code is action.Connect's *MisuseError mapped
// by the driver's codeOf where it plans.)
func TestGuardActionRefusesAnAccountNotAllowed(t *testing.T) {
	w := newWorld(t)
	old := w.snapshot("-400d", map[string]string{"Environment": "ci"})
	w.writeConfig(notAllowed)
	w.rec.Reset()
	r := w.run("schedule", prtest.Payload(t, "schedule", ""), map[string]string{"mode": "apply"})
	r.want(t, 2, map[string]string{"result": "error", "mode": "plan"})
	want := "account 123456789012 is not in allowed-accounts (111111111111, 222222222222)"
	if !strings.Contains(r.stderr+r.stdout, want) {
		t.Errorf("the run does not say %q", want)
	}
	w.onlySTS()
	w.noMutatingCalls()
	if !w.exists(old) {
		t.Errorf("%s was deleted", old)
	}
	if !strings.Contains(r.summary, want) {
		t.Errorf("the job summary does not say %q:\n%s", want, r.summary)
	}
}

// broom plan and apply on the command line: the same refusal, one line.
func TestGuardCLIRefusesAnAccountNotAllowed(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(notAllowed)
	for _, args := range [][]string{{"plan"}, {"apply", "--yes"}} {
		w.rec.Reset()
		r := w.cli(args...)
		want := "broom: account 123456789012 is not in allowed-accounts (111111111111, 222222222222): it is the credentials' own account\n"
		if r.code != 2 || !strings.HasSuffix(r.stderr, want) || r.stdout != "" {
			t.Errorf("broom %s: exit %d, stderr ending %q, stdout %q; want 2, %q and nothing", strings.Join(args, " "), r.code, tail(r.stderr), r.stdout, want)
		}
		w.onlySTS()
	}
	// Allowed, by the file or by BROOM_ALLOWED_ACCOUNTS, it plans.
	w.writeConfig(strings.Replace(notAllowed, `"222222222222"`, `"`+motoAccount+`"`, 1))
	if r := w.cli("plan"); r.code != 0 {
		t.Errorf("plan in an allowed account: exit %d, want 0", r.code)
	}
	w.writeConfig(notAllowed)
	r := w.exec(w.cliEnv("BROOM_ALLOWED_ACCOUNTS="+motoAccount), "plan")
	if r.code != 0 {
		t.Errorf("plan with BROOM_ALLOWED_ACCOUNTS=%s over the file's list: exit %d, want 0", motoAccount, r.code)
	}
}

// broom apply never deletes on its own say-so: without a terminal (as
// here: the test's stdin is not one) it needs --yes, and without it
// changes nothing.
func TestGuardApplyWithoutATerminalNeedsYes(t *testing.T) {
	w := newWorld(t)
	old := w.snapshot("-400d", map[string]string{"Environment": "ci"})
	w.rec.Reset()
	r := w.cli("apply")
	want := "\nbroom: apply without a terminal needs --yes or --expect-fingerprint; nothing was changed\n"
	if r.code != 2 || !strings.Contains("\n"+r.stderr, want) {
		t.Errorf("apply: exit %d, want 2 and the line %q on stderr", r.code, want)
	}
	if !strings.Contains(r.stdout, old) {
		t.Errorf("apply did not show the plan (naming %s) before refusing", old)
	}
	w.noMutatingCalls()
	if !w.exists(old) {
		t.Fatalf("%s was deleted without --yes", old)
	}

	y := w.cli("apply", "--yes")
	if y.code != 0 || w.exists(old) {
		t.Errorf("apply --yes: exit %d, %s exists %v; want 0 and deleted", y.code, old, w.exists(old))
	}
}

// tail is the last line of s.
func tail(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:] + "\n"
}
