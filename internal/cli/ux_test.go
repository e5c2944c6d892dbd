package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Help is asked for, not a mistake: every command's -h and --help print
// its help on stdout and exit 0, with double-dash flags, each setting's
// BROOM_* variable on the flag's line, and examples where there are any.
func TestHelpIsOnStdoutWithTheVariables(t *testing.T) {
	t.Parallel()
	common := map[string]string{ // a flag's line → the variable on it ("" for none)
		"--config FILE": "BROOM_CONFIG", "--region REGION": "BROOM_REGIONS", "--rules NAMES": "BROOM_RULES",
		"--max-actions N": "BROOM_MAX_ACTIONS", "--format FORMAT": "BROOM_FORMAT", "--out FILE": "BROOM_OUT",
		"--log-format FORMAT": "BROOM_LOG_FORMAT", "--timeout DURATION": "BROOM_TIMEOUT", "-v, --verbose": "BROOM_VERBOSE",
		"--shard K/N": "BROOM_SHARD",
	}
	withApply := map[string]string{"--expect-fingerprint HEX": "BROOM_EXPECT_FINGERPRINT", "--yes": "", "--dry-run": "",
		"--approved FILE": "BROOM_APPROVED"}
	for k, v := range common {
		withApply[k] = v
	}
	tests := map[string]struct {
		flags    map[string]string
		absent   []string // flags the command does not take
		examples bool
	}{
		"plan": {flags: common, absent: []string{"--yes", "--dry-run", "--expect-fingerprint", "--approved"}, examples: true},
		"merge": {flags: map[string]string{"--format FORMAT": "BROOM_FORMAT", "--out FILE": "BROOM_OUT", "--log-format FORMAT": "BROOM_LOG_FORMAT"},
			absent: []string{"--config", "--region", "--shard", "--approved"}, examples: true},
		"apply":      {flags: withApply, examples: true},
		"validate":   {flags: map[string]string{"--config FILE": "BROOM_CONFIG", "--log-format FORMAT": "BROOM_LOG_FORMAT", "-v, --verbose": "BROOM_VERBOSE"}, absent: []string{"--region", "--rules", "--format", "--out", "--max-actions", "--timeout"}, examples: true},
		"iam-policy": {flags: map[string]string{"--config FILE": "BROOM_CONFIG", "--rules NAMES": "BROOM_RULES", "--plan-only": ""}, absent: []string{"--region", "--format"}, examples: true},
		"action":     {absent: []string{"--config"}},
		"version":    {absent: []string{"--config"}},
	}
	for cmd, tc := range tests {
		for _, h := range []string{"-h", "--help"} {
			t.Run(cmd+" "+h, func(t *testing.T) {
				t.Parallel()
				r := runCLI(t, nil, cmd, h)
				if r.code != 0 || r.stderr != "" {
					t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
				}
				if !strings.HasPrefix(r.stdout, "usage: broom "+cmd) {
					t.Errorf("stdout does not start with usage: broom %s:\n%s", cmd, r.stdout)
				}
				for flag, env := range tc.flags {
					i := slices.IndexFunc(lines(r.stdout), func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), flag) })
					if i < 0 {
						t.Errorf("no line for %s:\n%s", flag, r.stdout)
						continue
					}
					line := lines(r.stdout)[i]
					if env != "" && !strings.HasSuffix(line, " "+env) || env == "" && strings.Contains(line, "BROOM_") {
						t.Errorf("line %q: want the variable %q beside the flag", line, env)
					}
				}
				for _, flag := range tc.absent {
					for _, l := range lines(r.stdout) {
						if f := strings.Fields(l); strings.HasPrefix(l, "  -") && slices.Contains(f, flag) {
							t.Errorf("help of %s lists %s, which it does not take", cmd, flag)
						}
					}
				}
				for _, l := range lines(r.stdout) {
					if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "--") && len(f[0]) > 3 {
						t.Errorf("single-dash long flag in %q", l)
					}
					if n := utf8.RuneCountInString(l); n > helpWidth && !strings.HasPrefix(l, "  broom ") {
						t.Errorf("line of %d columns: %q", n, l)
					}
				}
				if got := strings.Contains(r.stdout, "\nexamples:\n  broom "+cmd); got != tc.examples {
					t.Errorf("examples shown %v, want %v", got, tc.examples)
				}
			})
		}
	}
	t.Run("help after other flags", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, nil, "plan", "--region", "eu-west-1", "--help")
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: broom plan") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0 and plan's help on stdout", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("the top-level help", func(t *testing.T) {
		t.Parallel()
		for _, h := range []string{"help", "-h", "--help"} {
			r := runCLI(t, nil, h)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, `"broom <command> --help"`) {
				t.Errorf("broom %s: exit %d, stdout %q, stderr %q; want 0 and usage on stdout", h, r.code, r.stdout, r.stderr)
			}
		}
	})
}

// validate takes only the flags it uses: the others are misuse, in one
// line naming the flag as help spells it.
func TestValidateRejectsFlagsItDoesNotUse(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "good.yml", goodConfig)
	for _, args := range [][]string{{"--region", "eu-west-1"}, {"--rules", "old-ci-snapshots"}, {"--format", "json"}, {"--out", "x.json"}, {"--yes"}} {
		r := runCLI(t, nil, append([]string{"validate", "--config", good}, args...)...)
		want := "broom: unknown flag " + args[0] + " (see broom validate --help)\n"
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("validate %s: exit %d, stderr %q, stdout %q; want 2 and %q", args[0], r.code, r.stderr, r.stdout, want)
		}
	}
	if r := runCLI(t, nil, "validate", "--config", good, "-v", "--log-format", "json"); r.code != 0 {
		t.Errorf("validate -v --log-format json: exit %d (%s), want 0", r.code, r.stderr)
	}
}

// An unknown name in --rules (or BROOM_RULES) lists the file's rules, and
// is misuse before any AWS call.
func TestUnknownRuleListsTheValidNames(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "broom.yml", goodConfig+`  - name: idle-eips
    resource: elastic-ip
    action: delete
    where: {unassociated: true}
`)
	f := newFakeAWS(map[string][]string{"123456789012": {"snap-1"}})
	f.panic = "connected: the rule names were not checked first"
	want := `rules: unknown rule "nope" in ` + path + ` (valid: old-ci-snapshots, idle-eips)` + "\n"
	for _, cmd := range [][]string{{"plan"}, {"apply", "--yes"}, {"iam-policy"}} {
		r := f.run(t, session{}, append(cmd, "--config", path, "--rules", "old-ci-snapshots,nope")...)
		if r.code != 2 || r.stderr != want {
			t.Errorf("broom %s: exit %d, stderr %q; want 2 and %q", cmd[0], r.code, r.stderr, want)
		}
	}
}

// The text report takes the width of the terminal stdout is, when it is
// one, over COLUMNS.
func TestTextReportFitsTheTerminal(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	for _, width := range []int{60, 200} {
		f := newFakeAWS(map[string][]string{"123456789012": {"snap-0123456789abcdef0"}})
		var stdout, stderr bytes.Buffer
		code := Run(t.Context(), []string{"plan", "--config", cfg}, IO{
			Getenv:        func(k string) string { return map[string]string{"COLUMNS": "100"}[k] },
			Stdout:        &stdout,
			Stderr:        &stderr,
			TerminalWidth: func() int { return width },
			Connect:       f.connect,
		})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		longest := 0
		for _, l := range lines(stdout.String()) {
			longest = max(longest, utf8.RuneCountInString(l))
		}
		if longest > width || width > 100 && longest <= 100 {
			t.Errorf("terminal of %d (COLUMNS=100): longest line %d:\n%s", width, longest, stdout.String())
		}
	}
}

// A fatal error is one line on stderr for a person; with --log-format json
// it is also an error record, so that the JSON log says why the run ended;
// in a text log it is said once, not twice.
func TestFatalErrorIsALogRecord(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "broom.yml", goodConfig)
	const cause = "get AWS credentials: none found"
	f := newFakeAWS(nil)
	f.refuse = errors.New(cause)

	r := f.run(t, session{}, "plan", "--config", cfg, "--log-format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	ls := lines(r.stderr)
	if last := ls[len(ls)-1]; last != "broom: "+cause {
		t.Errorf("last stderr line %q, want the one line a person reads", last)
	}
	var found bool
	for _, l := range ls[:len(ls)-1] {
		var rec struct {
			Level, Msg, Error string
			ExitCode          int `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("stderr line %q is not a JSON record: %v", l, err)
			continue
		}
		if rec.Level == "ERROR" && rec.Error == cause && rec.ExitCode == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no JSON error record with the cause and exit code 1:\n%s", r.stderr)
	}

	text := f.run(t, session{}, "plan", "--config", cfg)
	if n := strings.Count(text.stderr, cause); text.code != 1 || n != 1 {
		t.Errorf("text log: exit %d, the cause said %d times; want 1 and once:\n%s", text.code, n, text.stderr)
	}

	// A misuse found before the config is read is a record too, when the
	// command line asks for JSON.
	bad := runCLI(t, nil, "plan", "--log-format=json", "--bogus")
	if ls := lines(bad.stderr); bad.code != 2 || len(ls) != 2 || !json.Valid([]byte(ls[0])) || ls[1] != "broom: unknown flag --bogus (see broom plan --help)" {
		t.Errorf("bad flag with --log-format=json: exit %d, stderr %q; want 2, a JSON record and the line", bad.code, bad.stderr)
	}
}
