package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const day = 24 * time.Hour

// testCatalog is what the loader is checked against here: one kind, one
// action, two filters.
var testCatalog = Catalog{"ebs-snapshot": {"delete": {"older-than", "tags"}}}

// specExample is the SPEC §3 example (SpecExample) cut to what testCatalog
// knows: everything up to its second rule, so its one ebs-snapshot rule,
// and then a rule of its own that takes weeks and a "*" tag value.
func specExample(t *testing.T) string {
	t.Helper()
	head, _, ok := strings.Cut(SpecExample(t), "  - name: orphan-volumes\n")
	if !ok {
		t.Fatalf("%s: no rule orphan-volumes to cut at", SpecExampleFile)
	}
	return head + `  - name: any-team-snapshots
    resource: ebs-snapshot
    action: delete
    where: {older-than: 2w, tags: {Team: "*"}}
`
}

func TestParseAcceptsValidFiles(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want File
	}{
		"spec example parses to every field with rule lines": {
			yaml: specExample(t),
			want: File{
				Path:            "broom.yml",
				Version:         1,
				ID:              "prod",
				Regions:         []string{"us-east-1", "eu-west-1"},
				MaxActions:      100,
				AllowedAccounts: []string{"123456789012"},
				Protect: Protect{
					Tags: map[string]string{"broom:keep": "*", "DoNotDelete": "*"},
					IDs:  []string{"snap-0abc0123456789def"},
				},
				Tags: map[string]string{
					"Owner":       "platform-team",
					"Environment": "production",
					"Project":     "billing-pipeline",
					"ManagedBy":   "broom",
				},
				Rules: []Rule{
					{
						Name: "old-ci-snapshots", Resource: "ebs-snapshot", Action: "delete", Line: 15,
						Where: Where{OlderThan: 30 * day, Tags: map[string]string{"Environment": "ci"}},
					},
					{
						Name: "any-team-snapshots", Resource: "ebs-snapshot", Action: "delete", Line: 21,
						Where: Where{OlderThan: 14 * day, Tags: map[string]string{"Team": "*"}},
					},
				},
			},
		},
		"missing id and version get their defaults": {
			yaml: "rules:\n  - {name: a, resource: ebs-snapshot, action: delete}\n",
			want: File{
				Path: "broom.yml", Version: 1, ID: "default",
				Rules: []Rule{{Name: "a", Resource: "ebs-snapshot", Action: "delete", Line: 2}},
			},
		},
		"rule without where has no filters": {
			yaml: "version: 1\nrules:\n- name: all\n  resource: ebs-snapshot\n  action: delete\n",
			want: File{
				Path: "broom.yml", Version: 1, ID: "default",
				Rules: []Rule{{Name: "all", Resource: "ebs-snapshot", Action: "delete", Line: 3}},
			},
		},
		"timeout accepts minutes and hours": {
			yaml: "version: 1\ntimeout: 90m\nrules: []\n",
			want: File{Path: "broom.yml", Version: 1, ID: "default", Timeout: 90 * time.Minute},
		},
		"older-than accepts hours": {
			yaml: "rules:\n- {name: a, resource: ebs-snapshot, action: delete, where: {older-than: 36h}}\n",
			want: File{
				Path: "broom.yml", Version: 1, ID: "default",
				Rules: []Rule{{Name: "a", Resource: "ebs-snapshot", Action: "delete", Line: 2, Where: Where{OlderThan: 36 * time.Hour}}},
			},
		},
		"id may use dots, dashes and underscores": {
			yaml: "id: prod.eu_west-1\nrules: []\n",
			want: File{Path: "broom.yml", Version: 1, ID: "prod.eu_west-1"},
		},
		"allowed-accounts, quoted or not, with accounts inside it": {
			yaml: "allowed-accounts: [\"111111111111\", 222222222222]\naccounts:\n  - {id: \"222222222222\", role: \"arn:aws:iam::222222222222:role/broom\"}\nrules: []\n",
			want: File{Path: "broom.yml", Version: 1, ID: "default", AllowedAccounts: []string{"111111111111", "222222222222"},
				Accounts: []Account{{ID: "222222222222", Role: "arn:aws:iam::222222222222:role/broom"}}},
		},
		"protect ids in block style": {
			yaml: "protect:\n  ids:\n    - snap-1\n    - vol-2\nrules: []\n",
			want: File{Path: "broom.yml", Version: 1, ID: "default", Protect: Protect{IDs: []string{"snap-1", "vol-2"}}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkProblems asserts that err is a Problems whose messages start, in
// order, with want (each "file:line: message" or a prefix of it).
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %q is a %T, want Problems", err, err)
	}
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Error()
		if i < len(want) && strings.HasPrefix(got[i], want[i]) {
			got[i] = want[i] // compare prefixes only
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems mismatch (-want prefix +got):\n%s\nfull error:\n%v", diff, err)
	}
}

func rule(where string) string {
	return "version: 1\nrules:\n  - name: r\n    resource: ebs-snapshot\n    action: delete\n    where:\n      " + where + "\n"
}

func TestParseRejectsInvalidFiles(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"tab in indentation is bad YAML at its line": {
			yaml: "version: 1\nrules:\n\t- name: x\n",
			want: []string{"broom.yml:3: invalid YAML: while scanning for the next token: found character that cannot start any token"},
		},
		"mapping value in a scalar is bad YAML at its line": {
			yaml: "version: 1\nid: a: b\n",
			want: []string{"broom.yml:2: invalid YAML: mapping values are not allowed"},
		},
		"unterminated quote is bad YAML at the quote's line": {
			yaml: "version: 1\nid: \"prod\n",
			want: []string{"broom.yml:2: invalid YAML: while scanning a quoted scalar: found unexpected end of stream"},
		},
		"empty file": {
			yaml: "",
			want: []string{"broom.yml:1: empty config: want at least `version: 1` and `rules:`"},
		},
		"file with only comments is empty": {
			yaml: "# nothing here\n\n",
			want: []string{"broom.yml:1: empty config"},
		},
		"top level must be a mapping": {
			yaml: "- version: 1\n",
			want: []string{"broom.yml:1: config: want a mapping, got a list"},
		},
		"null document is not a mapping": {
			yaml: "~\n",
			want: []string{"broom.yml:1: config: want a mapping, got nothing"},
		},
		"unknown top-level key at its line": {
			yaml: "version: 1\nrule:\n  - name: x\n",
			want: []string{`broom.yml:2: config: unknown key "rule" (valid: version, id, regions, max-actions, allowed-accounts, timeout, aws, protect, tags, accounts, rules)`},
		},
		"unknown key in a rule at its line": {
			yaml: "rules:\n  - name: x\n    resource: ebs-snapshot\n    action: delete\n    bukket: b\n",
			want: []string{`broom.yml:5: rule: unknown key "bukket" (valid: name, resource, action, where, set, bucket, region, settings, snapshot-first)`},
		},
		"option the kind and action do not take at its line": {
			yaml: "rules:\n  - name: x\n    resource: ebs-snapshot\n    action: delete\n    bucket: b\n",
			want: []string{`broom.yml:5: rule "x": ebs-snapshot delete does not take "bucket"`},
		},
		"unknown key in protect": {
			yaml: "protect:\n  tag: {a: b}\nrules: []\n",
			want: []string{`broom.yml:2: protect: unknown key "tag" (valid: tags, ids)`},
		},
		"unknown resource at the resource's line, not the rule's": {
			yaml: "version: 1\nrules:\n  - name: x\n    resource: ebs-snapshots\n    action: delete\n",
			want: []string{`broom.yml:4: rule "x": unknown resource "ebs-snapshots" (valid: ebs-snapshot)`},
		},
		"unknown resource after other keys at its own line": {
			yaml: "version: 1\nrules:\n  - name: x\n    action: delete\n    where: {older-than: 30d}\n    resource: ebs-snapshots\n",
			want: []string{`broom.yml:6: rule "x": unknown resource "ebs-snapshots"`},
		},
		"unknown action for a known resource at the action's line": {
			yaml: "version: 1\nrules:\n  - name: x\n    resource: ebs-snapshot\n    action: remove\n",
			want: []string{`broom.yml:5: rule "x": ebs-snapshot has no action "remove" (valid: delete)`},
		},
		"missing action": {
			yaml: "version: 1\nrules:\n  - name: x\n    resource: ebs-snapshot\n",
			want: []string{`broom.yml:3: rule "x": missing action (valid for ebs-snapshot: delete)`},
		},
		"missing resource": {
			yaml: "version: 1\nrules:\n  - name: x\n    action: delete\n",
			want: []string{`broom.yml:3: rule "x": missing resource (valid: ebs-snapshot)`},
		},
		"rule with no name": {
			yaml: "version: 1\nrules:\n  - resource: ebs-snapshot\n    action: delete\n",
			want: []string{"broom.yml:3: rule: missing name"},
		},
		"rule name with a space": {
			yaml: "rules:\n  - {name: old snaps, resource: ebs-snapshot, action: delete}\n",
			want: []string{`broom.yml:2: rule "old snaps": name must be 1-64 letters`},
		},
		"rule that is not a mapping": {
			yaml: "rules:\n  - old-snaps\n",
			want: []string{`broom.yml:2: rule: want a mapping, got "old-snaps"`},
		},
		"duplicate rule names at the second, naming the first's line": {
			yaml: "version: 1\nrules:\n  - name: x\n    resource: ebs-snapshot\n    action: delete\n" +
				"  - name: x\n    resource: ebs-snapshot\n    action: delete\n",
			want: []string{`broom.yml:6: rule "x": duplicate name (first at line 3)`},
		},
		"duration with a word unit": {
			yaml: rule("older-than: 30 days"),
			want: []string{`broom.yml:7: rule "r": where.older-than: bad duration "30 days"`},
		},
		"duration with an unknown unit": {
			yaml: rule("older-than: 30x"),
			want: []string{`broom.yml:7: rule "r": where.older-than: bad duration "30x"`},
		},
		"negative duration": {
			yaml: rule("older-than: -1d"),
			want: []string{`broom.yml:7: rule "r": where.older-than: bad duration "-1d"`},
		},
		"duration without a unit": {
			yaml: rule("older-than: 30"),
			want: []string{`broom.yml:7: rule "r": where.older-than: bad duration "30"`},
		},
		"unknown filter in where at its line": {
			yaml: rule("unattached: true"),
			want: []string{`broom.yml:7: rule "r": where: unknown key "unattached" (valid: older-than, tags)`},
		},
		"where not a mapping": {
			yaml: "version: 1\nrules:\n  - name: r\n    resource: ebs-snapshot\n    action: delete\n    where: 30d\n",
			want: []string{`broom.yml:6: rule "r": where: want a mapping, got "30d"`},
		},
		"where as a list": {
			yaml: "version: 1\nrules:\n  - name: r\n    resource: ebs-snapshot\n    action: delete\n    where:\n      - older-than: 30d\n",
			want: []string{`broom.yml:7: rule "r": where: want a mapping, got a list`},
		},
		"where tag with null value": {
			yaml: rule("tags: {Environment: }"),
			want: []string{`broom.yml:7: rule "r": where.tags: Environment has no value (use "*" for any value)`},
		},
		"config tag with null value": {
			yaml: "version: 1\ntags:\n  Owner: platform\n  Team:\nrules: []\n",
			want: []string{`broom.yml:4: tags: Team has no value (use "*" for any value)`},
		},
		"protect tag with tilde value": {
			yaml: "protect:\n  tags:\n    keep: ~\nrules: []\n",
			want: []string{`broom.yml:3: protect.tags: keep has no value`},
		},
		"tag value that is a list": {
			yaml: "tags:\n  Owner: [a, b]\nrules: []\n",
			want: []string{`broom.yml:2: tags.Owner: want a string, got a list`},
		},
		"reserved aws: tag key": {
			yaml: "version: 1\ntags:\n  aws:createdBy: me\nrules: []\n",
			want: []string{`broom.yml:3: tags: "aws:createdBy" uses the reserved aws: prefix`},
		},
		"reserved AWS: tag key in upper case": {
			yaml: "version: 1\ntags: {AWS:x: y}\nrules: []\n",
			want: []string{`broom.yml:2: tags: "AWS:x" uses the reserved aws: prefix`},
		},
		"bad region name at its own line": {
			yaml: "version: 1\nregions:\n  - us-east-1\n  - useast1\nrules: []\n",
			want: []string{`broom.yml:4: regions: "useast1" is not an AWS region name`},
		},
		"region in upper case": {
			yaml: "regions: [US-EAST-1]\nrules: []\n",
			want: []string{`broom.yml:1: regions: "US-EAST-1" is not an AWS region name`},
		},
		"regions not a list": {
			yaml: "regions: us-east-1\nrules: []\n",
			want: []string{`broom.yml:1: regions: want a list of region names or all, got "us-east-1"`},
		},
		"max-actions zero": {
			yaml: "version: 1\nmax-actions: 0\nrules: []\n",
			want: []string{`broom.yml:2: max-actions: want a whole number of at least 1, got "0"`},
		},
		"max-actions not a number": {
			yaml: "version: 1\nmax-actions: many\nrules: []\n",
			want: []string{`broom.yml:2: max-actions: want a whole number of at least 1, got "many"`},
		},
		"max-actions negative": {
			yaml: "max-actions: -5\nrules: []\n",
			want: []string{`broom.yml:1: max-actions: want a whole number of at least 1, got "-5"`},
		},
		"timeout zero": {
			yaml: "timeout: 0m\nrules: []\n",
			want: []string{`broom.yml:1: timeout: want a positive duration such as 15m or 1h, got "0m"`},
		},
		"timeout in go syntax": {
			yaml: "timeout: 1h30m\nrules: []\n",
			want: []string{`broom.yml:1: timeout: want a positive duration`},
		},
		"version 2": {
			yaml: "version: 2\nrules: []\n",
			want: []string{`broom.yml:1: version: unsupported version "2" (this broom reads version 1)`},
		},
		"version as a list": {
			yaml: "version: [1]\nrules: []\n",
			want: []string{`broom.yml:1: version: want a string, got a list`},
		},
		"id with spaces": {
			yaml: "version: 1\nid: my prod\nrules: []\n",
			want: []string{`broom.yml:2: id: "my prod" must be 1-64 letters, digits, '.', '_' or '-'`},
		},
		"id longer than 64": {
			yaml: "id: " + strings.Repeat("a", 65) + "\nrules: []\n",
			want: []string{`broom.yml:1: id: "aaaa`},
		},
		"allowed-accounts with a short id at the id's line": {
			yaml: "version: 1\nallowed-accounts:\n  - \"123456789012\"\n  - \"12345\"\nrules: []\n",
			want: []string{`broom.yml:4: allowed-accounts: "12345" is not a 12-digit AWS account id`},
		},
		"allowed-accounts with an account alias instead of an id": {
			yaml: "allowed-accounts: [acme-prod]\nrules: []\n",
			want: []string{`broom.yml:1: allowed-accounts: "acme-prod" is not a 12-digit AWS account id`},
		},
		"allowed-accounts as a string": {
			yaml: "version: 1\nallowed-accounts: \"123456789012\"\nrules: []\n",
			want: []string{`broom.yml:2: allowed-accounts: want a list of 12-digit account ids, got "123456789012"`},
		},
		"allowed-accounts empty": {
			yaml: "version: 1\nallowed-accounts: []\nrules: []\n",
			want: []string{`broom.yml:2: allowed-accounts: empty list (leave the key out to allow any account)`},
		},
		"an account of accounts that allowed-accounts leaves out, at its line": {
			yaml: "allowed-accounts: [\"111111111111\"]\naccounts:\n  - {id: \"111111111111\", role: \"arn:aws:iam::111111111111:role/broom\"}\n" +
				"  - {id: \"222222222222\", role: \"arn:aws:iam::222222222222:role/broom\"}\nrules: []\n",
			want: []string{`broom.yml:4: accounts: 222222222222 is not in allowed-accounts (111111111111)`},
		},
		"rules not a list": {
			yaml: "version: 1\nrules:\n  name: x\n  resource: ebs-snapshot\n",
			want: []string{"broom.yml:3: rules: want a list, got a mapping"},
		},
		"rules as a string": {
			yaml: "version: 1\nrules: all\n",
			want: []string{`broom.yml:2: rules: want a list, got "all"`},
		},
		"several problems reported in line order": {
			yaml: `version: 2
id: my prod
rule: []
rules:
  - name: a
    resource: ebs-snapshot
    action: delete
    colour: red
    where: {older-than: 30x}
  - resource: ebs-volume
    action: delete
  - name: a
    resource: ebs-snapshot
    action: delete
`,
			want: []string{
				`broom.yml:1: version: unsupported version "2"`,
				`broom.yml:2: id: "my prod" must be`,
				`broom.yml:3: config: unknown key "rule"`,
				`broom.yml:8: rule: unknown key "colour"`,
				`broom.yml:9: rule "a": where.older-than: bad duration "30x"`,
				`broom.yml:10: rule: missing name`,
				`broom.yml:10: rule "": unknown resource "ebs-volume"`,
				`broom.yml:12: rule "a": duplicate name (first at line 5)`,
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			checkProblems(t, err, tt.want)
		})
	}
}

func TestParseReportsEveryProblemAsAnError(t *testing.T) {
	t.Parallel()
	_, err := Parse("dir/broom.yml", []byte("version: 2\nid: a b\n"), testCatalog)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) < 2 {
		t.Fatalf("got %v, want Problems with at least 2 entries", err)
	}
	want := []Error{
		{File: "dir/broom.yml", Line: 1, Msg: `version: unsupported version "2" (this broom reads version 1)`},
		{File: "dir/broom.yml", Line: 2, Msg: `id: "a b" must be 1-64 letters, digits, '.', '_' or '-'`},
	}
	got := make([]Error, len(ps))
	for i, p := range ps {
		got[i] = *p
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
	if want := "dir/broom.yml:1: version: unsupported version \"2\" (this broom reads version 1)\n" +
		"dir/broom.yml:2: id: \"a b\" must be 1-64 letters, digits, '.', '_' or '-'"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestErrorPrintsFileLineMessage(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  Error
		want string
	}{
		"with a line":    {Error{File: "a.yml", Line: 3, Msg: "bad"}, "a.yml:3: bad"},
		"without a line": {Error{File: "a.yml", Msg: "cannot read config"}, "a.yml: cannot read config"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "broom.yml")
	if err := os.WriteFile(good, []byte(specExample(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("version: 1\nrule: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yml")

	t.Run("reads and parses a file", func(t *testing.T) {
		t.Parallel()
		f, err := ReadFile(good, testCatalog)
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		if f.Path != good || f.ID != "prod" || len(f.Rules) != 2 {
			t.Errorf("got path %q id %q %d rules, want %q prod 2", f.Path, f.ID, len(f.Rules), good)
		}
	})
	t.Run("problems name the file's path", func(t *testing.T) {
		t.Parallel()
		_, err := ReadFile(bad, testCatalog)
		checkProblems(t, err, []string{bad + `:2: config: unknown key "rule"`})
	})
	t.Run("missing file is an Error naming the path", func(t *testing.T) {
		t.Parallel()
		_, err := ReadFile(missing, testCatalog)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is a %T, want *Error", err, err)
		}
		if want := missing + ": cannot read config: no such file or directory"; err.Error() != want {
			t.Errorf("error = %q, want %q", err.Error(), want)
		}
	})
}

// An unclosed bracket is reported at the line where it opens (yaml v3 gave
// a 0-based line here, one too early).
func TestParseReportsUnclosedBracketAtItsLine(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"unclosed flow sequence": {
			yaml: "version: 1\nid: x\nregions: [us-east-1\nmax-actions: 3\n",
			want: []string{"broom.yml:3: invalid YAML: while parsing a flow sequence: did not find expected ',' or ']'"},
		},
		"unclosed flow mapping": {
			yaml: "version: 1\nid: x\nmax-actions: 3\nprotect: {tags: {a: b}\n",
			want: []string{"broom.yml:4: invalid YAML: while parsing a flow mapping: did not find expected ',' or '}'"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			checkProblems(t, err, tt.want)
		})
	}
}

// Regression test: parse reports reserved tag at its line.
func TestParseReportsReservedTagAtItsLine(t *testing.T) {
	t.Parallel()
	_, err := Parse("broom.yml", []byte("version: 1\ntags:\n  Owner: me\n  aws:createdBy: me\nrules: []\n"), testCatalog)
	checkProblems(t, err, []string{`broom.yml:4: tags: "aws:createdBy" uses the reserved aws: prefix`})
}

// Regression test: parse rejects duplicate keys.
func TestParseRejectsDuplicateKeys(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"duplicate top-level key": {
			yaml: "version: 1\nid: a\nid: b\nrules: []\n",
			want: []string{`broom.yml:3: config: duplicate key "id"`},
		},
		"duplicate filter in where": {
			yaml: rule("older-than: 30d\n      older-than: 1h"),
			want: []string{`broom.yml:8: rule "r": where: duplicate key "older-than"`},
		},
		"second rules list": {
			yaml: "rules:\n  - {name: a, resource: ebs-snapshot, action: delete}\nrules:\n  - {name: a, resource: ebs-snapshot, action: delete}\n",
			want: []string{`broom.yml:3: config: duplicate key "rules"`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %v is a %T, want Problems", err, err)
			}
			if !strings.HasPrefix(ps[0].Error(), tt.want[0]) {
				t.Errorf("first problem %q, want prefix %q", ps[0], tt.want[0])
			}
		})
	}
}

// Regression test: parse rejects minutes and seconds in older than.
func TestParseRejectsMinutesAndSecondsInOlderThan(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"6m", "90s"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(rule("older-than: "+v)), testCatalog)
			checkProblems(t, err, []string{`broom.yml:7: rule "r": where.older-than: bad duration "` + v + `"`})
		})
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		"days":                     {in: "30d", want: 30 * day},
		"weeks":                    {in: "2w", want: 14 * day},
		"hours":                    {in: "36h", want: 36 * time.Hour},
		"minutes are refused":      {in: "6m", wantErr: true},
		"seconds are refused":      {in: "90s", wantErr: true},
		"zero":                     {in: "0d", want: 0},
		"surrounding blanks":       {in: " 7d\n", want: 7 * day},
		"many digits":              {in: "365d", want: 365 * day},
		"number and word":          {in: "30 days", wantErr: true},
		"unknown unit":             {in: "30x", wantErr: true},
		"upper-case unit":          {in: "30D", wantErr: true},
		"negative":                 {in: "-1d", wantErr: true},
		"no unit":                  {in: "30", wantErr: true},
		"unit only":                {in: "d", wantErr: true},
		"empty":                    {in: "", wantErr: true},
		"fraction":                 {in: "1.5d", wantErr: true},
		"go compound duration":     {in: "1h30m", wantErr: true},
		"space between":            {in: "30 d", wantErr: true},
		"month is not a unit (mo)": {in: "1mo", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAge(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseAge(%q) = %v, want an error", tt.in, got)
				}
				if want := fmt.Sprintf("bad duration %q: want a whole number and a unit (h, d, w), e.g. 30d", strings.TrimSpace(tt.in)); err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAge(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseAge(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// A number too large for time.Duration must not wrap around: a negative
// older-than would mean "no age filter" and match every resource.
func TestParseRejectsOverflow(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"20000w", "200000d", "9999999999h"} {
		if got, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", in, got)
		}
	}
	for _, in := range []string{"9999999999h", "9223372037s"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseDurationForTimeouts(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want time.Duration
	}{
		"minutes":                     {"15m", 15 * time.Minute},
		"seconds":                     {"90s", 90 * time.Second},
		"hours":                       {"2h", 2 * time.Hour},
		"days are not a timeout unit": {"1d", 0},
		"compound is refused":         {"1h30m", 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDuration(tt.in)
			if tt.want == 0 && err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			if tt.want != 0 && (err != nil || got != tt.want) {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatAge(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   time.Duration
		want string
	}{
		"whole weeks":             {in: 14 * day, want: "2w"},
		"one week":                {in: 7 * day, want: "1w"},
		"days not a whole week":   {in: 30 * day, want: "30d"},
		"one day":                 {in: day, want: "1d"},
		"hours not a whole day":   {in: 36 * time.Hour, want: "36h"},
		"one hour":                {in: time.Hour, want: "1h"},
		"zero":                    {in: 0, want: "0h"},
		"minutes fall back to go": {in: 90 * time.Minute, want: "1h30m0s"},
		"seconds fall back to go": {in: 90 * time.Second, want: "1m30s"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := FormatAge(tt.in); got != tt.want {
				t.Errorf("FormatAge(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatAgeRoundTripsThroughParseAge(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{time.Hour, 25 * time.Hour, day, 30 * day, 7 * day, 91 * day, 52 * 7 * day} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			got, err := ParseAge(FormatAge(d))
			if err != nil || got != d {
				t.Errorf("ParseAge(FormatAge(%v)) = %v, %v; want %v", d, got, err, d)
			}
		})
	}
}

// TestParseStateFilter reads where.state, which takes running or stopped
// only (ec2-instance's catalog here).
func TestParseStateFilter(t *testing.T) {
	t.Parallel()
	cat := Catalog{"ec2-instance": {"stop": {"state", "older-than"}}, "ebs-snapshot": {"delete": {"older-than"}}}
	doc := func(resource, action, state string) string {
		return "version: 1\nrules:\n  - name: r\n    resource: " + resource + "\n    action: " + action + "\n    where:\n      state: " + state + "\n"
	}
	for _, state := range []string{"running", "stopped"} {
		t.Run(state, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("broom.yml", []byte(doc("ec2-instance", "stop", state)), cat)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Rules[0].Where.State; got != state {
				t.Errorf("where.state = %q, want %q", got, state)
			}
		})
	}
	rejects := map[string]struct {
		yaml string
		want []string
	}{
		"another state":         {yaml: doc("ec2-instance", "stop", "pending"), want: []string{`broom.yml:7: rule "r": where.state: "pending" is not one of running, stopped`}},
		"upper case":            {yaml: doc("ec2-instance", "stop", "Running"), want: []string{`broom.yml:7: rule "r": where.state: "Running" is not one of running, stopped`}},
		"a list":                {yaml: doc("ec2-instance", "stop", "[running]"), want: []string{`broom.yml:7: rule "r": where.state: want a string`}},
		"a kind without states": {yaml: doc("ebs-snapshot", "delete", "running"), want: []string{`broom.yml:7: rule "r": where: unknown key "state" (valid: older-than)`}},
	}
	for name, tt := range rejects {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), cat)
			checkProblems(t, err, tt.want)
		})
	}
}
