package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// getenv returns a getenv func backed by m, so tests need no t.Setenv.
func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func flags(v map[string]string) Layer  { return Layer{Name: "flag --", Values: v} }
func inputs(v map[string]string) Layer { return Layer{Name: "input ", Values: v} }

// writeConfig writes content to name in a fresh temporary directory.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	minimalFile = "version: 1\nrules:\n  - {name: a, resource: ebs-snapshot, action: delete}\n"
	fileWithAll = `version: 1
regions: [eu-west-1]
max-actions: 7
timeout: 30m
rules:
  - {name: a, resource: ebs-snapshot, action: delete}
  - {name: b, resource: ebs-snapshot, action: delete}
  - {name: c, resource: ebs-snapshot, action: delete}
`
	fingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestLoadUsesDefaultsWhenNothingIsGiven(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", minimalFile)
	got, err := Load(flags(map[string]string{"config": path}), getenv(nil), testCatalog)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		File: File{
			Path: path, Version: 1, ID: "default", MaxActions: 100, Timeout: 15 * time.Minute,
			Rules: []Rule{{Name: "a", Resource: "ebs-snapshot", Action: "delete", Line: 3}},
		},
		Settings: Settings{
			ConfigPath:         path,
			Mode:               "auto",
			Format:             "text",
			LogFormat:          "text",
			ApproveLabel:       "broom:approved",
			ApproverPermission: "write",
			Comment:            true,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadReadsDefaultFileWhenNoConfigIsGiven(t *testing.T) {
	t.Parallel()
	// The test runs in internal/config, which has no .github/broom.yml: the
	// error shows which path Load tried.
	_, err := Load(flags(nil), getenv(nil), testCatalog)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *Error", err, err)
	}
	if e.File != ".github/broom.yml" {
		t.Errorf("tried %q, want %q", e.File, ".github/broom.yml")
	}
}

func TestLoadPicksTheConfigFile(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", minimalFile)
	missing := filepath.Join(t.TempDir(), "missing.yml")
	tests := map[string]struct {
		flags map[string]string
		env   map[string]string
	}{
		"BROOM_CONFIG when no flag":        {env: map[string]string{"BROOM_CONFIG": path}},
		"flag over BROOM_CONFIG":           {flags: map[string]string{"config": path}, env: map[string]string{"BROOM_CONFIG": missing}},
		"empty flag falls to BROOM_CONFIG": {flags: map[string]string{"config": ""}, env: map[string]string{"BROOM_CONFIG": path}},
		"surrounding blanks are trimmed":   {flags: map[string]string{"config": " " + path + "\n"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(flags(tt.flags), getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.ConfigPath != path || c.Path != path {
				t.Errorf("ConfigPath %q, File.Path %q, want %q", c.ConfigPath, c.Path, path)
			}
		})
	}
}

func TestLoadLayersFileSettings(t *testing.T) {
	t.Parallel()
	full := writeConfig(t, "full.yml", fileWithAll)
	bare := writeConfig(t, "bare.yml", minimalFile)
	type fileSettings struct {
		Regions    []string
		MaxActions int
		Timeout    time.Duration
	}
	tests := map[string]struct {
		file  string
		flags map[string]string
		env   map[string]string
		want  fileSettings
	}{
		"defaults when neither file nor layers say": {
			file: bare,
			want: fileSettings{MaxActions: 100, Timeout: 15 * time.Minute},
		},
		"file over defaults": {
			file: full,
			want: fileSettings{Regions: []string{"eu-west-1"}, MaxActions: 7, Timeout: 30 * time.Minute},
		},
		"env over file": {
			file: full,
			env:  map[string]string{"BROOM_REGIONS": "us-east-1,us-west-2", "BROOM_MAX_ACTIONS": "20", "BROOM_TIMEOUT": "1h"},
			want: fileSettings{Regions: []string{"us-east-1", "us-west-2"}, MaxActions: 20, Timeout: time.Hour},
		},
		"env over defaults": {
			file: bare,
			env:  map[string]string{"BROOM_REGIONS": "ap-southeast-2", "BROOM_MAX_ACTIONS": "3", "BROOM_TIMEOUT": "90s"},
			want: fileSettings{Regions: []string{"ap-southeast-2"}, MaxActions: 3, Timeout: 90 * time.Second},
		},
		"flag over env and file": {
			file:  full,
			flags: map[string]string{"regions": "us-gov-west-1", "max-actions": "1", "timeout": "2h"},
			env:   map[string]string{"BROOM_REGIONS": "us-east-1", "BROOM_MAX_ACTIONS": "20", "BROOM_TIMEOUT": "1h"},
			want:  fileSettings{Regions: []string{"us-gov-west-1"}, MaxActions: 1, Timeout: 2 * time.Hour},
		},
		"empty flag falls through to env": {
			file:  full,
			flags: map[string]string{"regions": "", "max-actions": "", "timeout": ""},
			env:   map[string]string{"BROOM_MAX_ACTIONS": "20"},
			want:  fileSettings{Regions: []string{"eu-west-1"}, MaxActions: 20, Timeout: 30 * time.Minute},
		},
		"newline-separated regions input": {
			file:  full,
			flags: map[string]string{"regions": "us-east-1\n eu-central-1 \n\n"},
			want:  fileSettings{Regions: []string{"us-east-1", "eu-central-1"}, MaxActions: 7, Timeout: 30 * time.Minute},
		},
		"values with blanks around them": {
			file:  full,
			flags: map[string]string{"max-actions": " 12 ", "timeout": " 2h "},
			want:  fileSettings{Regions: []string{"eu-west-1"}, MaxActions: 12, Timeout: 2 * time.Hour},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := map[string]string{"config": tt.file}
			for k, v := range tt.flags {
				top[k] = v
			}
			c, err := Load(flags(top), getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := fileSettings{Regions: c.Regions, MaxActions: c.MaxActions, Timeout: c.Timeout}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// allowed-accounts comes from the file or BROOM_ALLOWED_ACCOUNTS, which
// replaces the file's list; no flag or action input sets it.
func TestLoadLayersAllowedAccounts(t *testing.T) {
	t.Parallel()
	withList := writeConfig(t, "allowed.yml", "allowed-accounts: [\"111111111111\"]\n"+minimalFile[len("version: 1\n"):])
	bare := writeConfig(t, "bare.yml", minimalFile)
	tests := map[string]struct {
		file string
		top  map[string]string
		env  map[string]string
		want []string
	}{
		"none: any account":        {file: bare},
		"the file's list":          {file: withList, want: []string{"111111111111"}},
		"env over the file":        {file: withList, env: map[string]string{"BROOM_ALLOWED_ACCOUNTS": "222222222222, 333333333333"}, want: []string{"222222222222", "333333333333"}},
		"env without a file list":  {file: bare, env: map[string]string{"BROOM_ALLOWED_ACCOUNTS": "222222222222"}, want: []string{"222222222222"}},
		"no flag or input sets it": {file: withList, top: map[string]string{"allowed-accounts": "999999999999"}, want: []string{"111111111111"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := map[string]string{"config": tt.file}
			for k, v := range tt.top {
				top[k] = v
			}
			c, err := Load(inputs(top), getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, c.AllowedAccounts); diff != "" {
				t.Errorf("AllowedAccounts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadLayersRunSettings(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	defaults := Settings{
		ConfigPath: path, Mode: "auto", Format: "text", LogFormat: "text",
		ApproveLabel: "broom:approved", ApproverPermission: "write", Comment: true,
	}
	tests := map[string]struct {
		top  map[string]string
		env  map[string]string
		want func(*Settings)
	}{
		"defaults": {
			want: func(*Settings) {},
		},
		"env over defaults": {
			env: map[string]string{
				"BROOM_MODE": "plan", "BROOM_FORMAT": "json", "BROOM_LOG_FORMAT": "json",
				"BROOM_APPROVE_LABEL": "ok-to-apply", "BROOM_APPROVER_PERMISSION": "admin",
				"BROOM_COMMENT": "false", "BROOM_TRACKING_ISSUE": "true", "BROOM_ALLOW_SELF_APPROVAL": "1",
				"BROOM_VERBOSE": "true", "BROOM_OUT": "plan.json", "BROOM_RULES": "a,c",
				"BROOM_GITHUB_TOKEN": "tok", "BROOM_EXPECT_FINGERPRINT": fingerprint,
			},
			want: func(s *Settings) {
				s.Mode, s.Format, s.LogFormat = "plan", "json", "json"
				s.ApproveLabel, s.ApproverPermission = "ok-to-apply", "admin"
				s.Comment, s.TrackingIssue, s.AllowSelfApproval, s.Verbose = false, true, true, true
				s.Out, s.RuleNames, s.GitHubToken, s.ExpectFingerprint = "plan.json", []string{"a", "c"}, "tok", fingerprint
			},
		},
		"input over env": {
			top: map[string]string{
				"mode": "apply", "format": "markdown", "approver-permission": "maintain",
				"comment": "true", "rules": "b", "github-token": "from-input",
			},
			env: map[string]string{
				"BROOM_MODE": "plan", "BROOM_FORMAT": "json", "BROOM_APPROVER_PERMISSION": "admin",
				"BROOM_COMMENT": "false", "BROOM_RULES": "a,c", "BROOM_GITHUB_TOKEN": "from-env",
			},
			want: func(s *Settings) {
				s.Mode, s.Format, s.ApproverPermission = "apply", "markdown", "maintain"
				s.RuleNames, s.GitHubToken = []string{"b"}, "from-input"
			},
		},
		"empty input falls through to env": {
			top:  map[string]string{"mode": "", "comment": ""},
			env:  map[string]string{"BROOM_MODE": "plan", "BROOM_COMMENT": "false"},
			want: func(s *Settings) { s.Mode, s.Comment = "plan", false },
		},
		"rules as a newline list with blanks": {
			top:  map[string]string{"rules": "a\n\n c \r\n"},
			want: func(s *Settings) { s.RuleNames = []string{"a", "c"} },
		},
		"blanks around choices are trimmed": {
			top:  map[string]string{"mode": " plan\n", "verbose": " true "},
			want: func(s *Settings) { s.Mode, s.Verbose = "plan", true },
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := map[string]string{"config": path}
			for k, v := range tt.top {
				top[k] = v
			}
			c, err := Load(inputs(top), getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults
			tt.want(&want)
			if diff := cmp.Diff(want, c.Settings); diff != "" {
				t.Errorf("settings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRejectsBadSettingsBeforeReadingFile(t *testing.T) {
	t.Parallel()
	// The file does not exist: a settings error must come first.
	missing := filepath.Join(t.TempDir(), "missing.yml")
	tests := map[string]struct {
		top  Layer
		env  map[string]string
		want string
	}{
		"bad mode flag": {
			top:  flags(map[string]string{"mode": "yolo"}),
			want: `flag --mode="yolo": want one of auto, plan, apply, gate`,
		},
		"bad mode input": {
			top:  inputs(map[string]string{"mode": "yolo"}),
			want: `input mode="yolo": want one of auto, plan, apply, gate`,
		},
		"bad mode env": {
			env:  map[string]string{"BROOM_MODE": "Plan"},
			want: `BROOM_MODE="Plan": want one of auto, plan, apply, gate`,
		},
		"bad format": {
			top:  flags(map[string]string{"format": "html"}),
			want: `flag --format="html": want one of text, markdown, json`,
		},
		"bad log format env": {
			env:  map[string]string{"BROOM_LOG_FORMAT": "logfmt"},
			want: `BROOM_LOG_FORMAT="logfmt": want one of text, json`,
		},
		"bad approver permission": {
			top:  inputs(map[string]string{"approver-permission": "read"}),
			want: `input approver-permission="read": want one of write, maintain, admin`,
		},
		"bad boolean input": {
			top:  inputs(map[string]string{"comment": "yes"}),
			want: `input comment="yes": want true or false`,
		},
		"bad boolean env": {
			env:  map[string]string{"BROOM_ALLOW_SELF_APPROVAL": "sure"},
			want: `BROOM_ALLOW_SELF_APPROVAL="sure": want true or false`,
		},
		"fingerprint one digit short": {
			top:  flags(map[string]string{"expect-fingerprint": fingerprint[:63]}),
			want: `flag --expect-fingerprint="` + fingerprint[:63] + `": want 64 hex digits`,
		},
		"fingerprint not hex": {
			env:  map[string]string{"BROOM_EXPECT_FINGERPRINT": strings.Repeat("g", 64)},
			want: `BROOM_EXPECT_FINGERPRINT="` + strings.Repeat("g", 64) + `": want 64 hex digits`,
		},
		"flag wins over a bad env value": {
			top:  flags(map[string]string{"mode": "yolo"}),
			env:  map[string]string{"BROOM_MODE": "nope"},
			want: `flag --mode="yolo": want one of auto, plan, apply, gate`,
		},
		"every bad setting in one error": {
			top:  flags(map[string]string{"mode": "x", "verbose": "y"}),
			env:  map[string]string{"BROOM_FORMAT": "z"},
			want: `flag --mode="x": want one of auto, plan, apply, gate; BROOM_FORMAT="z": want one of text, markdown, json; flag --verbose="y": want true or false`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := tt.top
			if top.Values == nil {
				top = flags(map[string]string{})
			}
			vals := map[string]string{"config": missing}
			for k, v := range top.Values {
				vals[k] = v
			}
			top.Values = vals
			_, err := Load(top, getenv(tt.env), testCatalog)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

// badOverrides are bad values for the settings that override the file.
var badOverrides = map[string]struct {
	top  Layer
	env  map[string]string
	want string
}{
	"max-actions flag not a number": {
		top:  flags(map[string]string{"max-actions": "x"}),
		want: `flag --max-actions="x": want a whole number of at least 1`,
	},
	"max-actions env not a number": {
		env:  map[string]string{"BROOM_MAX_ACTIONS": "x"},
		want: `BROOM_MAX_ACTIONS="x": want a whole number of at least 1`,
	},
	"max-actions input zero": {
		top:  inputs(map[string]string{"max-actions": "0"}),
		want: `input max-actions="0": want a whole number of at least 1`,
	},
	"bad region flag": {
		top:  flags(map[string]string{"regions": "us-east-1,Frankfurt"}),
		want: `flag --regions="us-east-1,Frankfurt": "Frankfurt" is not an AWS region name`,
	},
	"bad region env": {
		env:  map[string]string{"BROOM_REGIONS": "mars-north-1x"},
		want: `BROOM_REGIONS="mars-north-1x": "mars-north-1x" is not an AWS region name`,
	},
	"bad timeout flag": {
		top:  flags(map[string]string{"timeout": "soon"}),
		want: `flag --timeout="soon": want a positive duration such as 15m`,
	},
	"allowed-accounts env with an alias": {
		env:  map[string]string{"BROOM_ALLOWED_ACCOUNTS": "123456789012,acme-prod"},
		want: `BROOM_ALLOWED_ACCOUNTS="123456789012,acme-prod": "acme-prod" is not a 12-digit AWS account id`,
	},
	"allowed-accounts env of commas only": {
		env:  map[string]string{"BROOM_ALLOWED_ACCOUNTS": " , "},
		want: `BROOM_ALLOWED_ACCOUNTS=" , ": names no account`,
	},
	"zero timeout env": {
		env:  map[string]string{"BROOM_TIMEOUT": "0s"},
		want: `BROOM_TIMEOUT="0s": want a positive duration such as 15m`,
	},
}

func loadWithBadOverride(t *testing.T, config string, top Layer, env map[string]string) error {
	t.Helper()
	if top.Values == nil {
		top = flags(map[string]string{})
	}
	vals := map[string]string{"config": config}
	for k, v := range top.Values {
		vals[k] = v
	}
	top.Values = vals
	_, err := Load(top, getenv(env), testCatalog)
	return err
}

func TestLoadRejectsBadFileOverridesNamingTheirSource(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	for name, tt := range badOverrides {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := loadWithBadOverride(t, path, tt.top, tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// Regression test: load rejects bad file overrides before reading file.
func TestLoadRejectsBadFileOverridesBeforeReadingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.yml")
	for name, tt := range badOverrides {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := loadWithBadOverride(t, missing, tt.top, tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// Regression test: load errors are config errors.
func TestLoadErrorsAreConfigErrors(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	tests := map[string]map[string]string{
		"bad setting":        {"mode": "yolo"},
		"bad override":       {"max-actions": "x"},
		"unknown rule name":  {"rules": "nope"},
		"missing file":       {"config": filepath.Join(t.TempDir(), "missing.yml")},
		"problems in a file": {"config": writeConfig(t, "bad.yml", "rule: []\n")},
	}
	for name, top := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vals := map[string]string{"config": path}
			for k, v := range top {
				vals[k] = v
			}
			_, err := Load(flags(vals), getenv(nil), testCatalog)
			var e *Error
			var ps Problems
			if err == nil || !errors.As(err, &e) && !errors.As(err, &ps) {
				t.Errorf("error %v is a %T, want *Error or Problems", err, err)
			}
		})
	}
}

func TestLoadPassesFileProblemsThrough(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", "version: 1\nrules:\n  - {name: a, resource: ebs-volume, action: delete}\n")
	_, err := Load(flags(map[string]string{"config": path}), getenv(nil), testCatalog)
	checkProblems(t, err, []string{path + `:3: rule "a": unknown resource "ebs-volume"`})
}

func TestLoadSelectsRules(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	tests := map[string]struct {
		top     map[string]string
		env     map[string]string
		want    []string
		wantErr string
	}{
		"all rules when none named":     {want: []string{"a", "b", "c"}},
		"named rules in file order":     {top: map[string]string{"rules": "c,a"}, want: []string{"a", "c"}},
		"rules from env":                {env: map[string]string{"BROOM_RULES": "b"}, want: []string{"b"}},
		"rules as newline list":         {top: map[string]string{"rules": "b\nc\n"}, want: []string{"b", "c"}},
		"unknown rule name":             {top: map[string]string{"rules": "a,nope"}, wantErr: `rules: unknown rule "nope" in ` + path + ` (valid: a, b, c)`},
		"unknown rule name from env":    {env: map[string]string{"BROOM_RULES": "typo"}, wantErr: `rules: unknown rule "typo" in ` + path + ` (valid: a, b, c)`},
		"rule names are case sensitive": {top: map[string]string{"rules": "A"}, wantErr: `rules: unknown rule "A" in ` + path + ` (valid: a, b, c)`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := map[string]string{"config": path}
			for k, v := range tt.top {
				top[k] = v
			}
			c, err := Load(flags(top), getenv(tt.env), testCatalog)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []string
			for _, r := range c.Selected() {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Selected mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadNormalisesExpectFingerprint(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", minimalFile)
	tests := map[string]struct {
		value string
		want  string
	}{
		"lower-case hex kept":          {value: fingerprint, want: fingerprint},
		"upper-case hex lower-cased":   {value: strings.ToUpper(fingerprint), want: fingerprint},
		"surrounding blanks trimmed":   {value: " " + fingerprint + "\n", want: fingerprint},
		"empty means no expectation":   {value: "", want: ""},
		"mixed case with blanks fixed": {value: "\t" + strings.ToUpper(fingerprint[:32]) + fingerprint[32:], want: fingerprint},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(flags(map[string]string{"config": path, "expect-fingerprint": tt.value}), getenv(nil), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.ExpectFingerprint != tt.want {
				t.Errorf("ExpectFingerprint = %q, want %q", c.ExpectFingerprint, tt.want)
			}
		})
	}
	for name, value := range map[string]string{
		"63 digits": fingerprint[:63],
		"65 digits": fingerprint + "0",
		"not hex":   strings.Repeat("z", 64),
		"0x prefix": "0x" + fingerprint[:62],
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(flags(map[string]string{"config": path, "expect-fingerprint": value}), getenv(nil), testCatalog)
			if err == nil || !strings.Contains(err.Error(), "want 64 hex digits") {
				t.Errorf("error = %v, want one containing %q", err, "want 64 hex digits")
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want []string
	}{
		"empty":                        {in: "", want: nil},
		"only separators":              {in: ", \n ,\r\n", want: nil},
		"one value":                    {in: "us-east-1", want: []string{"us-east-1"}},
		"comma separated":              {in: "a,b,c", want: []string{"a", "b", "c"}},
		"comma and space":              {in: "a, b , c", want: []string{"a", "b", "c"}},
		"newline separated":            {in: "a\nb\n", want: []string{"a", "b"}},
		"windows newlines":             {in: "a\r\nb\r\n", want: []string{"a", "b"}},
		"mixed with blank entries":     {in: "a,,\n\nb,\n c", want: []string{"a", "b", "c"}},
		"spaces inside a value remain": {in: "a b,c", want: []string{"a b", "c"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, List(tt.in)); diff != "" {
				t.Errorf("List(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"config":              "BROOM_CONFIG",
		"max-actions":         "BROOM_MAX_ACTIONS",
		"allow-self-approval": "BROOM_ALLOW_SELF_APPROVAL",
		"github-token":        "BROOM_GITHUB_TOKEN",
	}
	for key, want := range tests {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			if got := EnvName(key); got != want {
				t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
			}
		})
	}
}

func TestEveryDefaultIsASettingKey(t *testing.T) {
	t.Parallel()
	for k := range Defaults {
		found := false
		for _, key := range Keys {
			found = found || key == k
		}
		if !found {
			t.Errorf("Defaults has %q, which is not in Keys", k)
		}
	}
}

const token = "ghp_s3cr3tTOKENvalue"

func TestSecretNeverPrintsItsValue(t *testing.T) {
	t.Parallel()
	s := Secret(token)
	settings := Settings{Mode: "plan", GitHubToken: s}
	c := Config{Settings: settings}
	tests := map[string]func() string{
		"fmt %v": func() string { return fmt.Sprintf("%v", s) },
		//lint:ignore S1025 the %s verb itself is under test
		"fmt %s":             func() string { return fmt.Sprintf("%s", s) },
		"fmt %q":             func() string { return fmt.Sprintf("%q", s) },
		"fmt Sprint":         func() string { return fmt.Sprint(s) },
		"fmt %v of settings": func() string { return fmt.Sprintf("%v", settings) },
		"fmt %+v of config":  func() string { return fmt.Sprintf("%+v", c) },
		"fmt %v of pointer":  func() string { return fmt.Sprintf("%+v", &settings) },
		"error wrapping":     func() string { return fmt.Errorf("token %v: %w", s, errors.New("bad")).Error() },
		"slog text attr": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("run", "token", s)
			return buf.String()
		},
		"slog text settings": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("run", "settings", settings)
			return buf.String()
		},
		"slog text With": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).With(slog.Any("token", s)).Info("run")
			return buf.String()
		},
		"slog json attr": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("run", "token", s)
			return buf.String()
		},
	}
	for name, print := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := print()
			if strings.Contains(out, token) {
				t.Errorf("output leaks the token: %s", out)
			}
			if !strings.Contains(out, "[redacted]") {
				t.Errorf("output %q does not say [redacted]", out)
			}
		})
	}
	if got := s.Reveal(); got != token {
		t.Errorf("Reveal() = %q, want %q", got, token)
	}
}

// Regression test: the secret is hidden from %#v and JSON too.
func TestSecretHiddenFromGoSyntaxAndJSON(t *testing.T) {
	t.Parallel()
	settings := Settings{Mode: "plan", GitHubToken: Secret(token)}
	tests := map[string]func() string{
		"fmt %#v": func() string { return fmt.Sprintf("%#v", Secret(token)) },
		"slog json settings": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("run", "settings", settings)
			return buf.String()
		},
	}
	for name, print := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if out := print(); strings.Contains(out, token) {
				t.Errorf("output leaks the token: %s", out)
			}
		})
	}
}
