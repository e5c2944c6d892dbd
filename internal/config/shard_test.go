package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/shard"
)

func TestLoadLayersShardSettings(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	tests := map[string]struct {
		top  Layer
		env  map[string]string
		want Settings
	}{
		"flags": {
			top:  flags(map[string]string{"shard": "2/4", "approved": "approved.json"}),
			want: Settings{Shard: shard.Spec{Index: 2, Count: 4}, Approved: "approved.json"},
		},
		"inputs over env": {
			top:  inputs(map[string]string{"shard": " 3/4 "}),
			env:  map[string]string{"BROOM_SHARD": "1/4", "BROOM_APPROVED": "a.json"},
			want: Settings{Shard: shard.Spec{Index: 3, Count: 4}, Approved: "a.json"},
		},
		"merge from env": {
			top:  inputs(map[string]string{}),
			env:  map[string]string{"BROOM_MERGE": "shards/*/*.json"},
			want: Settings{Merge: "shards/*/*.json"},
		},
		"gate mode": {
			top:  inputs(map[string]string{"mode": "gate"}),
			want: Settings{Mode: "gate"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tt.top.Values["config"] = path
			c, err := Load(tt.top, getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := Settings{Shard: c.Shard, Approved: c.Approved, Merge: c.Merge}
			if tt.want.Mode != "" {
				got.Mode = c.Mode
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRejectsShardMisuseBeforeReadingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.yml")
	tests := map[string]struct {
		top  Layer
		env  map[string]string
		want string
	}{
		"shard not K/N": {
			top:  flags(map[string]string{"shard": "2"}),
			want: `flag --shard="2": want K/N with 1 ≤ K ≤ N, e.g. 2/4`,
		},
		"shard K over N": {
			top:  inputs(map[string]string{"shard": "5/4"}),
			want: `input shard="5/4": want K/N with 1 ≤ K ≤ N, e.g. 2/4`,
		},
		"shard zero from env": {
			env:  map[string]string{"BROOM_SHARD": "0/4"},
			want: `BROOM_SHARD="0/4": want K/N with 1 ≤ K ≤ N, e.g. 2/4`,
		},
		"merge not a glob": {
			top:  inputs(map[string]string{"merge": "shards/[*.json"}),
			want: `input merge="shards/[*.json": not a valid glob`,
		},
		"shard with merge": {
			top:  inputs(map[string]string{"shard": "1/2", "merge": "*.json"}),
			want: "input shard and input merge cannot be given together: a shard plans its part, a merge only merges the parts",
		},
		"approved without shard": {
			env:  map[string]string{"BROOM_APPROVED": "approved.json"},
			want: "BROOM_APPROVED is only for a shard's apply: give shard too",
		},
		"shard with expect-fingerprint": {
			top:  flags(map[string]string{"shard": "1/2", "expect-fingerprint": fingerprint}),
			want: "flag --expect-fingerprint is the whole plan's: a shard compares its slice with the approved plan (approved)",
		},
		"merge with mode apply": {
			top:  inputs(map[string]string{"mode": "apply", "merge": "results/*/*.json"}),
			want: "input merge cannot apply: the shards apply their slices (shard with approved), a merge only merges their results",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := tt.top
			if top.Values == nil {
				top = flags(map[string]string{})
			}
			top.Values["config"] = missing
			_, err := Load(top, getenv(tt.env), testCatalog)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	const file = `version: 1
id: prod
regions: [eu-west-1, us-east-1]
max-actions: 7
protect: {tags: {keep: "*"}}
tags: {owner: platform}
rules:
  - {name: a, resource: ebs-snapshot, action: delete}
  - {name: b, resource: ebs-snapshot, action: delete}
`
	load := func(t *testing.T, content string, top map[string]string) Config {
		t.Helper()
		if top == nil {
			top = map[string]string{}
		}
		top["config"] = writeConfig(t, "broom.yml", content)
		c, err := Load(inputs(top), getenv(nil), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := Digest(load(t, file, nil))
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("Digest = %q, want 64 hex digits", base)
	}
	same := map[string]Config{
		"again":                   load(t, file, nil),
		"rules moved down a line": load(t, strings.Replace(file, "rules:\n", "\nrules:\n", 1), nil),
		"run settings": load(t, file, map[string]string{"shard": "2/4", "approved": "a.json", "mode": "apply",
			"github-token": "t", "log-format": "json", "timeout": "1h", "verbose": "true", "format": "json", "out": "x.json"}),
		"aws tuning": load(t, strings.Replace(file, "rules:", "aws: {max-attempts: 9}\nrules:", 1), nil),
	}
	for name, c := range same {
		if d := Digest(c); d != base {
			t.Errorf("%s: digest %s, want %s", name, d, base)
		}
	}
	other := map[string]Config{
		"id":               load(t, strings.Replace(file, "id: prod", "id: staging", 1), nil),
		"regions":          load(t, file, map[string]string{"regions": "eu-west-1"}),
		"regions: all":     load(t, file, map[string]string{"regions": "all"}),
		"max-actions":      load(t, file, map[string]string{"max-actions": "8"}),
		"protect":          load(t, strings.Replace(file, `keep: "*"`, `keep: "yes"`, 1), nil),
		"tags":             load(t, strings.Replace(file, "owner: platform", "owner: data", 1), nil),
		"rule selection":   load(t, file, map[string]string{"rules": "a"}),
		"a rule's filter":  load(t, strings.Replace(file, "action: delete}\n  - {name: b", "action: delete, where: {older-than: 30d}}\n  - {name: b", 1), nil),
		"accounts":         load(t, strings.Replace(file, "rules:", "accounts: [{id: \"111111111111\", role: \"arn:aws:iam::111111111111:role/broom\"}]\nrules:", 1), nil),
		"allowed-accounts": load(t, strings.Replace(file, "rules:", "allowed-accounts: [\"111111111111\"]\nrules:", 1), nil),
		"plan-role": load(t, strings.Replace(file, "rules:", "accounts: [{id: \"111111111111\", role: \"arn:aws:iam::111111111111:role/broom\", "+
			"plan-role: \"arn:aws:iam::111111111111:role/broom-plan\"}]\nrules:", 1), nil),
	}
	// A plan shard assumes plan-role and an apply shard role: both are in
	// the file, so both shards have one digest.
	org := strings.Replace(file, "rules:", "accounts:\n  organization: {}\n  role: arn:aws:iam::{account}:role/broom\n"+
		"  plan-role: arn:aws:iam::{account}:role/broom-plan\nrules:", 1)
	planShard := Digest(load(t, org, map[string]string{"shard": "2/4"}))
	if applyShard := Digest(load(t, org, map[string]string{"shard": "2/4", "approved": "a.json"})); applyShard != planShard {
		t.Errorf("with plan-role: the apply shard's digest %s is not the plan shard's %s", applyShard, planShard)
	}
	other["organization plan-role"] = load(t, org, nil)
	seen := map[string]string{base: "base"}
	for name, c := range other {
		d := Digest(c)
		if prev, ok := seen[d]; ok {
			t.Errorf("%s: digest %s is that of %s", name, d, prev)
		}
		seen[d] = name
	}
}
