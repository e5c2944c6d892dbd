package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const goodConfig = `version: 1
regions: [eu-west-1]
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d, tags: {Environment: ci}}
`

// goodNoRegions is valid but names no region.
const goodNoRegions = `version: 1
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 30d}
`

// badConfig has an unknown resource kind on line 5, in the rule starting on
// line 4: validate names the resource's line.
const badConfig = `version: 1
regions: [eu-west-1]
rules:
  - name: orphan-volumes
    resource: rds-instance
    action: delete
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type run struct {
	code           int
	stdout, stderr string
}

// runCLI runs broom with an environment that holds only env: nothing from
// the process's environment reaches the command through getenv.
func runCLI(t *testing.T, env map[string]string, args ...string) run {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, IO{
		Getenv: func(k string) string { return env[k] },
		Stdout: &stdout,
		Stderr: &stderr,
	})
	return run{code, stdout.String(), stderr.String()}
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestRun(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "good.yml", goodConfig)
	noRegions := writeFile(t, "noregions.yml", goodNoRegions)
	bad := writeFile(t, "bad.yml", badConfig)
	badPrefix := bad + ":5: "
	const badMsg = `rule "orphan-volumes": unknown resource "rds-instance" (valid: ami, ebs-snapshot, ebs-volume, ec2-instance, elastic-ip, load-balancer, log-group, nat-gateway, network-interface, rds-snapshot, s3-bucket, security-group)`
	actions := map[string]string{"GITHUB_ACTIONS": "true"}

	tests := map[string]struct {
		args []string
		env  map[string]string
		code int
		// check inspects the output beyond the exit code.
		check func(t *testing.T, r run)
	}{
		"no arguments prints usage and is misuse": {
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stderr, "usage: broom <command>") {
					t.Errorf("stderr %q, want usage", r.stderr)
				}
			},
		},
		"unknown command is misuse": {
			args: []string{"frobnicate"},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stderr, `broom: unknown command "frobnicate"`) || !strings.Contains(r.stderr, "usage:") {
					t.Errorf("stderr %q, want the unknown command and usage", r.stderr)
				}
			},
		},
		"version prints the version": {
			args: []string{"version"},
			code: 0,
			check: func(t *testing.T, r run) {
				if want := "broom " + buildVersion() + "\n"; r.stdout != want {
					t.Errorf("stdout %q, want %q", r.stdout, want)
				}
			},
		},
		"help prints usage": {
			args: []string{"help"},
			code: 0,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stdout, "usage: broom") {
					t.Errorf("stdout %q, want usage", r.stdout)
				}
			},
		},
		"unknown flag is one line of error": {
			args: []string{"plan", "--bogus"},
			code: 2,
			check: func(t *testing.T, r run) {
				if got := lines(r.stderr); len(got) != 1 || !strings.Contains(got[0], "-bogus") {
					t.Errorf("stderr %q, want exactly one line naming -bogus", r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			},
		},
		"validate accepts a good file": {
			args: []string{"validate", "--config", good},
			code: 0,
			check: func(t *testing.T, r run) {
				if want := good + ": ok (1 rules)\n"; r.stdout != want {
					t.Errorf("stdout %q, want %q", r.stdout, want)
				}
			},
		},
		"validate reads the config path from BROOM_CONFIG": {
			args: []string{"validate"},
			env:  map[string]string{"BROOM_CONFIG": good},
			code: 0,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stdout, "ok") {
					t.Errorf("stdout %q, want ok", r.stdout)
				}
			},
		},
		"validate rejects a bad file with file:line: message": {
			args: []string{"validate", "--config", bad},
			code: 2,
			check: func(t *testing.T, r run) {
				if diff := cmp.Diff([]string{badPrefix + badMsg}, lines(r.stderr)); diff != "" {
					t.Errorf("stderr (-want +got):\n%s", diff)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want no annotation outside Actions", r.stdout)
				}
			},
		},
		"validate in Actions also annotates the line": {
			args: []string{"validate", "--config", bad},
			env:  actions,
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stderr, badPrefix) {
					t.Errorf("stderr %q, want prefix %q", r.stderr, badPrefix)
				}
				want := "::error file=" + bad + ",line=5::" + badMsg
				if diff := cmp.Diff([]string{want}, lines(r.stdout)); diff != "" {
					t.Errorf("stdout annotation (-want +got):\n%s", diff)
				}
			},
		},
		"validate of a missing file is misuse": {
			args: []string{"validate", "--config", filepath.Join(t.TempDir(), "missing.yml")},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stderr, "cannot read config") {
					t.Errorf("stderr %q, want cannot read config", r.stderr)
				}
			},
		},
		"plan with a bad file stops before AWS": {
			args: []string{"plan", "--config", bad},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stderr, badPrefix) || !strings.Contains(r.stderr, badMsg) {
					t.Errorf("stderr %q, want %q", r.stderr, badPrefix+badMsg)
				}
				if strings.Contains(r.stderr, "connected") {
					t.Errorf("stderr %q: plan reached AWS", r.stderr)
				}
			},
		},
		"apply with a bad file stops before AWS": {
			args: []string{"apply", "--config", bad},
			env:  actions,
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.HasPrefix(r.stderr, badPrefix) {
					t.Errorf("stderr %q, want prefix %q", r.stderr, badPrefix)
				}
				if !strings.HasPrefix(r.stdout, "::error file="+bad+",line=5::") {
					t.Errorf("stdout %q, want an annotation", r.stdout)
				}
			},
		},
		"plan with no region anywhere is misuse": {
			args: []string{"plan", "--config", noRegions},
			code: 2,
			check: func(t *testing.T, r run) {
				if got := lines(r.stderr); len(got) != 1 || !strings.HasPrefix(got[0], "broom: no region") {
					t.Errorf("stderr %q, want one line starting broom: no region", r.stderr)
				}
			},
		},
		"action takes no arguments": {
			args: []string{"action", "extra-arg"},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stderr, "takes no arguments") || !strings.Contains(r.stderr, "extra-arg") {
					t.Errorf("stderr %q, want takes no arguments naming extra-arg", r.stderr)
				}
			},
		},
		"a bad --max-actions names the flag": {
			args: []string{"apply", "--config", good, "--max-actions", "x"},
			code: 2,
			check: func(t *testing.T, r run) {
				if got := lines(r.stderr); len(got) != 1 || !strings.Contains(got[0], "--max-actions") || !strings.Contains(got[0], `"x"`) {
					t.Errorf("stderr %q, want one line naming --max-actions and its value", r.stderr)
				}
			},
		},
		"a bad BROOM_MAX_ACTIONS names the variable": {
			args: []string{"plan", "--config", good},
			env:  map[string]string{"BROOM_MAX_ACTIONS": "0"},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stderr, "BROOM_MAX_ACTIONS") {
					t.Errorf("stderr %q, want it to name BROOM_MAX_ACTIONS", r.stderr)
				}
			},
		},
		"a bad --format is misuse": {
			args: []string{"plan", "--config", good, "--format", "yaml"},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stderr, "--format") {
					t.Errorf("stderr %q, want it to name --format", r.stderr)
				}
			},
		},
		"an unknown --rules name is misuse": {
			args: []string{"plan", "--config", good, "--rules", "nope"},
			code: 2,
			check: func(t *testing.T, r run) {
				want := `rules: unknown rule "nope" in ` + good + ` (valid: old-ci-snapshots)` + "\n"
				if r.stderr != want {
					t.Errorf("stderr %q, want %q", r.stderr, want)
				}
			},
		},
		"a stray argument after flags is misuse": {
			args: []string{"plan", "--config", good, "extra"},
			code: 2,
			check: func(t *testing.T, r run) {
				if !strings.Contains(r.stderr, `unexpected argument "extra"`) {
					t.Errorf("stderr %q, want unexpected argument", r.stderr)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// An allowed-accounts entry that is not an account id is misuse, reported
// at its line, before any AWS call.
func TestValidateRejectsABadAllowedAccount(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "broom.yml", "version: 1\nregions: [eu-west-1]\nallowed-accounts:\n  - \"123456789012\"\n  - \"12345678901\"\nrules: []\n")
	for _, cmd := range []string{"validate", "plan", "apply"} {
		r := runCLI(t, nil, cmd, "--config", path)
		want := path + `:5: allowed-accounts: "12345678901" is not a 12-digit AWS account id (quote it: YAML reads a leading zero as a number)` + "\n"
		if r.code != 2 || r.stderr != want {
			t.Errorf("broom %s: exit %d, stderr %q; want 2 and %q", cmd, r.code, r.stderr, want)
		}
	}
}

// A log line carries resource data (a tag value, an AWS error) as data: no
// line break, no "##[" workflow command, in text and JSON logs alike.
func TestLogsCleanResourceData(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		logger := newLogger(&buf, format, false)
		logger.Info("left alone", "reason", "tag broom:keep=x\n::error ::pwned ##[error]legacy",
			"error", errors.New("AccessDenied: ##[warning]no\r\nmore"))
		out := buf.String()
		if strings.Count(out, "\n") != 1 || strings.Contains(out, "##[") {
			t.Errorf("%s log line is not one clean line:\n%s", format, out)
		}
		if !strings.Contains(out, "pwned") || !strings.Contains(out, "AccessDenied") {
			t.Errorf("%s log line lost the data it should show:\n%s", format, out)
		}
	}
}
