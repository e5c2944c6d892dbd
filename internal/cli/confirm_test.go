package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// fakeAWS is a few accounts' old CI snapshots, behind a fake ebs-snapshot
// kind: enough to plan and apply without AWS.
type fakeAWS struct {
	mu      sync.Mutex
	live    map[string][]string // account → snapshot ids
	aliases map[string]string
	deleted []string
	// panic, when set, is what connecting panics with.
	panic any
	// refuse, when set, is the error connecting returns.
	refuse error
}

func newFakeAWS(live map[string][]string) *fakeAWS {
	return &fakeAWS{live: live, aliases: map[string]string{}}
}

type fakeSnapshots struct {
	aws     *fakeAWS
	account string
}

func (k fakeSnapshots) List(context.Context) ([]plan.Resource, error) {
	k.aws.mu.Lock()
	defer k.aws.mu.Unlock()
	var out []plan.Resource
	for _, id := range k.aws.live[k.account] {
		out = append(out, plan.Resource{ID: id, Created: time.Now().Add(-400 * 24 * time.Hour), Tags: map[string]string{"Environment": "ci"}})
	}
	return out, nil
}

func (k fakeSnapshots) Get(_ context.Context, id string) (plan.Resource, bool, error) {
	k.aws.mu.Lock()
	defer k.aws.mu.Unlock()
	if !slices.Contains(k.aws.live[k.account], id) {
		return plan.Resource{}, false, nil
	}
	return plan.Resource{ID: id, Created: time.Now().Add(-400 * 24 * time.Hour), Tags: map[string]string{"Environment": "ci"}}, true, nil
}

func (k fakeSnapshots) Do(_ context.Context, a plan.Action) error {
	k.aws.mu.Lock()
	defer k.aws.mu.Unlock()
	k.aws.live[k.account] = slices.DeleteFunc(k.aws.live[k.account], func(id string) bool { return id == a.ID })
	k.aws.deleted = append(k.aws.deleted, a.ID)
	return nil
}

// connect stands in for action.Connect: the accounts holding snapshots.
func (f *fakeAWS) connect(_ context.Context, logger *slog.Logger, _ config.Config, _ action.Access, opts ...engine.Option) (action.Cloud, error) {
	if f.panic != nil {
		panic(f.panic)
	}
	if f.refuse != nil {
		return action.Cloud{}, f.refuse
	}
	kinds := func(name string) (resource.Spec, error) {
		return resource.Spec{Name: name, New: func(env resource.Env) resource.Kind { return fakeSnapshots{aws: f, account: env.Account} }}, nil
	}
	load := func(context.Context, string, string) (aws.Config, error) { return aws.Config{}, nil }
	var accounts []string
	for a := range f.live {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	return action.Cloud{Engine: engine.New(logger, load, append(opts, engine.WithKinds(kinds))...), Accounts: accounts, Aliases: f.aliases}, nil
}

func (f *fakeAWS) gone() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.deleted))
}

// session is one broom run at a (pretend) terminal or not.
type session struct {
	terminal bool
	typed    string // what the operator types
}

func (f *fakeAWS) run(t *testing.T, s session, args ...string) run {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, IO{
		Getenv:     func(string) string { return "" },
		Stdin:      strings.NewReader(s.typed),
		IsTerminal: func() bool { return s.terminal },
		Stdout:     &stdout,
		Stderr:     &stderr,
		Connect:    f.connect,
	})
	t.Logf("broom %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return run{code, stdout.String(), stderr.String()}
}

func TestApplyAsksTheOperator(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	one := func() map[string][]string { return map[string][]string{"123456789012": {"snap-1", "snap-2"}} }
	two := func() map[string][]string {
		return map[string][]string{"111111111111": {"snap-1"}, "222222222222": {"snap-2"}}
	}
	tests := map[string]struct {
		live    map[string][]string
		session session
		args    []string
		code    int
		deleted []string
		stderr  string // a line the run writes to stderr
	}{
		"typing the account id applies": {
			live: one(), session: session{terminal: true, typed: "123456789012\n"},
			code: 0, deleted: []string{"snap-1", "snap-2"},
			stderr: "Type the account id 123456789012 to apply this plan, anything else to cancel: ",
		},
		"the account id with blanks around it applies": {
			live: one(), session: session{terminal: true, typed: "  123456789012  \n"},
			code: 0, deleted: []string{"snap-1", "snap-2"},
		},
		"yes for a plan in one account declines": {
			live: one(), session: session{terminal: true, typed: "yes\n"},
			code: 5, stderr: `broom: apply cancelled: the answer was "yes", not "123456789012"; nothing was changed`,
		},
		"another account's id declines": {
			live: one(), session: session{terminal: true, typed: "123456789013\n"},
			code: 5,
		},
		"no answer at all declines": {
			live: one(), session: session{terminal: true},
			code: 5, stderr: "broom: apply cancelled (no answer: EOF); nothing was changed",
		},
		"yes applies a plan spanning two accounts": {
			live: two(), session: session{terminal: true, typed: "yes\n"},
			code: 0, deleted: []string{"snap-1", "snap-2"},
			stderr: "broom will change 2 resources in 2 accounts (111111111111, 222222222222).",
		},
		"one account's id declines a plan spanning two": {
			live: two(), session: session{terminal: true, typed: "111111111111\n"},
			code: 5,
		},
		"without a terminal, apply needs --yes": {
			live: one(), session: session{typed: "123456789012\n"},
			code: 2, stderr: "broom: apply without a terminal needs --yes or --expect-fingerprint; nothing was changed",
		},
		"--yes applies without asking": {
			live: one(), args: []string{"--yes"},
			code: 0, deleted: []string{"snap-1", "snap-2"},
		},
		"--yes on a terminal does not ask": {
			live: one(), session: session{terminal: true}, args: []string{"--yes"},
			code: 0, deleted: []string{"snap-1", "snap-2"},
		},
		"an empty plan needs no confirmation": {
			live: map[string][]string{"123456789012": nil},
			code: 0,
		},
		"--dry-run needs none": {
			live: one(), args: []string{"--dry-run"},
			code: 0,
		},
		"over max-actions: refused as such, without asking": {
			live: one(), session: session{terminal: true, typed: "123456789012\n"}, args: []string{"--max-actions", "1"},
			code: 6,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAWS(tc.live)
			r := f.run(t, tc.session, append([]string{"apply", "--config", cfg}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			if got := f.gone(); !slices.Equal(got, tc.deleted) {
				t.Errorf("deleted %v, want %v", got, tc.deleted)
			}
			if tc.stderr != "" && !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q, want it to hold %q", r.stderr, tc.stderr)
			}
			if asked := strings.Contains(r.stderr, "Type "); asked != (tc.session.terminal && tc.code != 6 && !slices.Contains(tc.args, "--yes")) {
				t.Errorf("asked = %v", asked)
			}
		})
	}
}

// The prompt names the account by its alias too, where it has one.
func TestApplyPromptNamesTheAlias(t *testing.T) {
	t.Parallel()
	f := newFakeAWS(map[string][]string{"123456789012": {"snap-1"}})
	f.aliases["123456789012"] = "acme-prod"
	r := f.run(t, session{terminal: true, typed: "acme-prod\n"}, "apply", "--config", writeFile(t, "broom.yml", goodConfig))
	if r.code != 5 || len(f.gone()) > 0 {
		t.Errorf("typing the alias: exit %d, deleted %v; want 5 and nothing (the id is asked for)", r.code, f.gone())
	}
	if want := "broom will change 1 resource in account 123456789012 (acme-prod).\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want it to hold %q", r.stderr, want)
	}
}

// --expect-fingerprint pins the plan the operator reviewed: no question.
func TestApplyWithTheExpectedFingerprintDoesNotAsk(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	f := newFakeAWS(map[string][]string{"123456789012": {"snap-1"}})
	p := f.run(t, session{}, "plan", "--config", cfg, "--format", "json")
	var planned struct{ Fingerprint string }
	if err := json.Unmarshal([]byte(p.stdout), &planned); err != nil || p.code != 0 {
		t.Fatalf("plan: exit %d, %v", p.code, err)
	}
	r := f.run(t, session{}, "apply", "--config", cfg, "--expect-fingerprint", planned.Fingerprint)
	if r.code != 0 || !slices.Equal(f.gone(), []string{"snap-1"}) {
		t.Errorf("exit %d, deleted %v; want 0 and snap-1", r.code, f.gone())
	}
}

// A panic in plan or apply is exit 1 with one line on stderr, never a Go
// stack trace, and never exit 2; with -v the stack is in the log.
func TestPanicIsAnInternalError(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	for _, args := range [][]string{{"plan"}, {"apply", "--yes"}, {"plan", "-v"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			f := newFakeAWS(map[string][]string{"123456789012": {"snap-1"}})
			f.panic = fmt.Errorf("injected\nover two lines")
			r := f.run(t, session{}, append(args, "--config", cfg)...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			first, rest, _ := strings.Cut(r.stderr, "\n")
			if want := "broom: internal error: injected over two lines (a bug: please report it with the -v log)"; first != want {
				t.Errorf("stderr's first line %q, want %q", first, want)
			}
			verbose := slices.Contains(args, "-v")
			if strings.Contains(rest, "goroutine ") != verbose || strings.Contains(rest, "runtime/debug.Stack") != verbose {
				t.Errorf("stack in stderr = %v, want %v (only with -v, in the log)", !verbose, verbose)
			}
			if !verbose && rest != "" {
				t.Errorf("stderr has more than one line: %q", r.stderr)
			}
		})
	}
}

// An account outside allowed-accounts (Connect's MisuseError) is misuse:
// exit 2 with its one line, nothing listed; any other failure to connect
// is exit 1.
func TestConnectRefusalIsMisuse(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	for name, tc := range map[string]struct {
		err  error
		code int
	}{
		"misuse":  {&action.MisuseError{Err: fmt.Errorf("account 999999999999 is not in allowed-accounts (123456789012): it is the credentials' own account")}, 2},
		"failure": {fmt.Errorf("get caller identity: connection refused"), 1},
	} {
		for _, cmd := range []string{"plan", "apply"} {
			t.Run(name+" "+cmd, func(t *testing.T) {
				t.Parallel()
				f := newFakeAWS(map[string][]string{"123456789012": {"snap-1"}})
				f.refuse = tc.err
				args := []string{cmd, "--config", cfg}
				if cmd == "apply" {
					args = append(args, "--yes")
				}
				r := f.run(t, session{}, args...)
				if want := "broom: " + tc.err.Error() + "\n"; r.code != tc.code || r.stderr != want {
					t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, want)
				}
				if len(f.gone()) > 0 {
					t.Errorf("deleted %v", f.gone())
				}
			})
		}
	}
}
