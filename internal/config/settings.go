package config

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/broom-dev/broom/internal/shard"
)

// Settings are a run's knobs. Each is named by its kebab-case key, which is
// also its flag name, its action input name and, upper-cased with "_", its
// BROOM_* environment variable.
type Settings struct {
	ConfigPath         string
	Mode               string   // auto, plan or apply
	RuleNames          []string // only these rules; empty = all
	Format             string   // text, markdown or json
	Out                string
	LogFormat          string // text or json
	Verbose            bool
	ApproveLabel       string
	ApproverPermission string // write, maintain or admin
	Comment            bool
	TrackingIssue      bool
	ExpectFingerprint  string
	AllowSelfApproval  bool
	GitHubToken        Secret
	// Shard is the one shard of the run's targets this process plans (or
	// applies, with Approved); the zero Spec: all of them.
	Shard shard.Spec
	// Approved is the file holding the approved plan's fingerprint and
	// shards, which a shard's apply compares its slice with.
	Approved string
	// Merge is a glob of shard files to merge instead of planning.
	Merge string
}

// Secret is a token that never reaches a log line.
type Secret string

// LogValue redacts the secret in slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String redacts the secret in fmt output.
func (Secret) String() string { return "[redacted]" }

// GoString redacts the secret in %#v output.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText redacts the secret in JSON, e.g. slog's JSON handler.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Layer is one source of settings: flags or action inputs, keyed by setting
// name, with only the values the user actually gave.
type Layer struct {
	Name   string            // how to name a value of this layer in errors, e.g. "flag --" or "input "
	Values map[string]string // setting → value
}

// Defaults are the built-in values of settings that have one.
var Defaults = map[string]string{
	"config":              DefaultFile,
	"mode":                "auto",
	"max-actions":         "100",
	"timeout":             "15m",
	"format":              "text",
	"log-format":          "text",
	"approve-label":       "broom:approved",
	"approver-permission": "write",
	"comment":             "true",
	"tracking-issue":      "false",
	"allow-self-approval": "false",
	"verbose":             "false",
}

// Keys is every setting name, in the order they are documented.
var Keys = []string{
	"config", "mode", "github-token", "approve-label", "approver-permission",
	"regions", "rules", "max-actions", "comment", "tracking-issue",
	"expect-fingerprint", "allow-self-approval", "log-format",
	"format", "out", "verbose", "timeout", "shard", "approved", "merge",
}

// EnvName is the environment variable that can set a setting.
func EnvName(key string) string {
	return "BROOM_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// resolver finds a setting's value in the layers, highest first.
type resolver struct {
	top    Layer
	getenv func(string) string
}

// get returns the value and a description of where it came from.
func (r resolver) get(key string) (string, string) {
	if v, ok := r.top.Values[key]; ok && v != "" {
		return v, r.top.Name + key
	}
	if v := r.getenv(EnvName(key)); v != "" {
		return v, EnvName(key)
	}
	return "", ""
}

// Load builds the run's Config: the config path and settings from the layers,
// then the file, then file values overridden by the layers, then defaults.
// Every problem is a *Error or Problems: the user's to fix (exit 2).
func Load(top Layer, getenv func(string) string, cat Catalog) (Config, error) {
	r := resolver{top: top, getenv: getenv}
	var c Config
	var bad []string
	fail := func(src, v, want string) { bad = append(bad, fmt.Sprintf("%s=%q: %s", src, v, want)) }

	str := func(key string) string {
		if v, _ := r.get(key); v != "" {
			return strings.TrimSpace(v)
		}
		return Defaults[key]
	}
	oneOf := func(key string, valid ...string) string {
		v, src := r.get(key)
		if v == "" {
			return Defaults[key]
		}
		if v = strings.TrimSpace(v); !slices.Contains(valid, v) {
			fail(src, v, "want one of "+strings.Join(valid, ", "))
		}
		return v
	}
	boolean := func(key string) bool {
		v, src := r.get(key)
		if v == "" {
			v = Defaults[key]
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			fail(src, v, "want true or false")
		}
		return b
	}

	c.ConfigPath = str("config")
	c.Mode = oneOf("mode", "auto", "plan", "apply", "gate")
	c.RuleNames = List(str("rules"))
	c.Format = oneOf("format", "text", "markdown", "json")
	c.Out = str("out")
	c.LogFormat = oneOf("log-format", "text", "json")
	c.Verbose = boolean("verbose")
	c.ApproveLabel = str("approve-label")
	c.ApproverPermission = oneOf("approver-permission", "write", "maintain", "admin")
	c.Comment = boolean("comment")
	c.TrackingIssue = boolean("tracking-issue")
	c.AllowSelfApproval = boolean("allow-self-approval")
	c.GitHubToken = Secret(str("github-token"))
	if v, src := r.get("expect-fingerprint"); v != "" {
		c.ExpectFingerprint = strings.ToLower(strings.TrimSpace(v))
		if !fingerprintPattern.MatchString(c.ExpectFingerprint) {
			fail(src, v, "want 64 hex digits")
		}
	}
	shards(r, &c.Settings, &bad)
	if _, src := r.get("expect-fingerprint"); src != "" && c.Shard.Count > 0 {
		bad = append(bad, fmt.Sprintf("%s is the whole plan's: a shard compares its slice with the approved plan (approved)", src))
	}
	var over File
	if v, src := r.get("regions"); v != "" {
		over.Regions = List(v)
		switch {
		case len(over.Regions) == 0:
			fail(src, v, "names no region")
		case slices.Equal(over.Regions, []string{AllRegions}):
			over.Regions, over.AllRegions = nil, true
		case slices.Contains(over.Regions, AllRegions):
			fail(src, v, AllRegions+" cannot be listed with region names")
		}
		for _, reg := range over.Regions {
			if reg != AllRegions && !regionPattern.MatchString(reg) {
				fail(src, v, fmt.Sprintf("%q is not an AWS region name", reg))
			}
		}
	}
	if v, src := r.get("max-actions"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			fail(src, v, "want a whole number of at least 1")
		}
		over.MaxActions = n
	}
	if v, src := r.get("timeout"); v != "" {
		d, err := ParseDuration(v)
		if err != nil || d <= 0 {
			fail(src, v, "want a positive duration such as 15m")
		}
		over.Timeout = d
	}
	// allowed-accounts is not in Keys: no flag or action input sets it, so
	// only BROOM_ALLOWED_ACCOUNTS can override the file's list.
	if src := EnvName("allowed-accounts"); getenv(src) != "" {
		v := getenv(src)
		over.AllowedAccounts = List(v)
		if len(over.AllowedAccounts) == 0 {
			fail(src, v, "names no account")
		}
		for _, id := range over.AllowedAccounts {
			if !accountPattern.MatchString(id) {
				fail(src, v, fmt.Sprintf("%q is not a 12-digit AWS account id", id))
			}
		}
	}
	if len(bad) > 0 {
		return c, &Error{Msg: strings.Join(bad, "; ")}
	}

	f, err := ReadFile(c.ConfigPath, cat)
	if err != nil {
		return c, err
	}
	c.File = f
	return c, c.override(over)
}

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// shards reads the settings of a sharded run (shard, approved, merge) and
// refuses their combinations that make no sense, adding a line to bad for
// each problem.
func shards(r resolver, s *Settings, bad *[]string) {
	var shardSrc, approvedSrc, mergeSrc string
	if v, src := r.get("shard"); v != "" {
		spec, err := shard.Parse(v)
		if err != nil {
			*bad = append(*bad, fmt.Sprintf("%s=%q: %v", src, v, err))
		}
		s.Shard, shardSrc = spec, src
	}
	if v, src := r.get("approved"); v != "" {
		s.Approved, approvedSrc = strings.TrimSpace(v), src
	}
	if v, src := r.get("merge"); v != "" {
		s.Merge, mergeSrc = strings.TrimSpace(v), src
		if _, err := filepath.Match(s.Merge, ""); err != nil {
			*bad = append(*bad, fmt.Sprintf("%s=%q: not a valid glob", src, v))
		}
	}
	switch {
	case shardSrc != "" && mergeSrc != "":
		*bad = append(*bad, fmt.Sprintf("%s and %s cannot be given together: a shard plans its part, a merge only merges the parts", shardSrc, mergeSrc))
	case approvedSrc != "" && shardSrc == "":
		*bad = append(*bad, fmt.Sprintf("%s is only for a shard's apply: give shard too", approvedSrc))
	case mergeSrc != "" && s.Mode == "apply":
		*bad = append(*bad, fmt.Sprintf("%s cannot apply: the shards apply their slices (shard with approved), a merge only merges their results", mergeSrc))
	}
}

// override applies the higher layers' values over the file's, then
// defaults, and checks the rule selection against the file.
func (c *Config) override(over File) error {
	if len(over.Regions) > 0 || over.AllRegions {
		c.Regions, c.AllRegions = over.Regions, over.AllRegions
	}
	if over.MaxActions > 0 {
		c.MaxActions = over.MaxActions
	}
	if c.MaxActions == 0 {
		c.MaxActions, _ = strconv.Atoi(Defaults["max-actions"])
	}
	if over.Timeout > 0 {
		c.Timeout = over.Timeout
	}
	if len(over.AllowedAccounts) > 0 {
		c.AllowedAccounts = over.AllowedAccounts
	}
	if c.Timeout == 0 {
		c.Timeout, _ = ParseDuration(Defaults["timeout"])
	}
	for _, name := range c.RuleNames {
		if !slices.ContainsFunc(c.File.Rules, func(r Rule) bool { return r.Name == name }) {
			return &Error{Msg: fmt.Sprintf("rules: unknown rule %q in %s (valid: %s)", name, c.Path, c.ruleNames())}
		}
	}
	return nil
}

// ruleNames lists the file's rule names for an error message, in file order.
func (c Config) ruleNames() string {
	if len(c.File.Rules) == 0 {
		return "none: the file has no rules"
	}
	names := make([]string, len(c.File.Rules))
	for i, r := range c.File.Rules {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// List splits a comma- or newline-separated value, dropping blanks.
func List(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Selected returns the rules this run evaluates: those named by the rules
// setting, or all.
func (c Config) Selected() []Rule {
	if len(c.RuleNames) == 0 {
		return c.File.Rules
	}
	var out []Rule
	for _, r := range c.File.Rules {
		if slices.Contains(c.RuleNames, r.Name) {
			out = append(out, r)
		}
	}
	return out
}
