package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseReadsTheAWSBlock(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want AWS
	}{
		"absent: every field takes its default": {yaml: "version: 1\n", want: AWS{}},
		"every key": {
			yaml: `aws:
  retry-mode: adaptive
  max-attempts: 8
  max-backoff: 2s
  call-timeout: 1m
  max-listings: 32
  rate-limits:
    DeleteSnapshot: {burst: 50, per-second: 50}
    mutating: {burst: 10, per-second: 0.5}
    non-mutating: {burst: 100, per-second: 40}
`,
			want: AWS{RetryMode: "adaptive", MaxAttempts: 8, MaxBackoff: 2 * time.Second, CallTimeout: time.Minute, MaxListings: 32,
				RateLimits: map[string]RateLimit{
					"DeleteSnapshot": {Burst: 50, PerSecond: 50},
					RateMutating:     {Burst: 10, PerSecond: 0.5},
					RateNonMutating:  {Burst: 100, PerSecond: 40},
				}},
		},
		"one attempt turns retries off": {yaml: "aws: {max-attempts: 1}\n", want: AWS{MaxAttempts: 1}},
		"standard mode":                 {yaml: "aws: {retry-mode: standard}\n", want: AWS{RetryMode: "standard"}},
		"one listing at a time":         {yaml: "aws: {max-listings: 1}\n", want: AWS{MaxListings: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("broom.yml", []byte(tc.yaml), testCatalog)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.AWS); diff != "" {
				t.Errorf("AWS (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsBadAWSSettingsAtTheirLine(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"unknown key": {
			yaml: "aws:\n  retries: 3\n",
			want: []string{`broom.yml:2: aws: unknown key "retries" (valid: retry-mode, max-attempts, max-backoff, call-timeout, max-listings, rate-limits)`},
		},
		"not a mapping": {
			yaml: "aws: standard\n",
			want: []string{`broom.yml:1: aws: want a mapping, got "standard"`},
		},
		"unknown retry mode": {
			yaml: "version: 1\naws:\n  retry-mode: legacy\n",
			want: []string{`broom.yml:3: aws.retry-mode: "legacy" is not one of standard, adaptive`},
		},
		"empty retry mode": {
			yaml: "aws: {retry-mode: \"\"}\n",
			want: []string{`broom.yml:1: aws.retry-mode: "" is not one of standard, adaptive`},
		},
		"zero attempts": {
			yaml: "aws:\n  max-attempts: 0\n",
			want: []string{`broom.yml:2: aws.max-attempts: want a whole number of at least 1, got "0"`},
		},
		"zero listings": {
			yaml: "aws:\n  max-listings: 0\n",
			want: []string{`broom.yml:2: aws.max-listings: want a whole number of at least 1, got "0"`},
		},
		"listings as a word": {
			yaml: "version: 1\naws:\n  max-listings: many\n",
			want: []string{`broom.yml:3: aws.max-listings: want a whole number of at least 1, got "many"`},
		},
		"fractional listings": {
			yaml: "aws: {max-listings: 2.5}\n",
			want: []string{`broom.yml:1: aws.max-listings: want a whole number of at least 1, got "2.5"`},
		},
		"backoff in milliseconds": {
			yaml: "aws:\n  max-backoff: 500ms\n",
			want: []string{`broom.yml:2: aws.max-backoff: want a positive duration such as 20s (units s, m, h), got "500ms"`},
		},
		"zero call timeout": {
			yaml: "aws:\n  call-timeout: 0s\n",
			want: []string{`broom.yml:2: aws.call-timeout: want a positive duration such as 30s (units s, m, h), got "0s"`},
		},
		"rate limit of something that is no API action": {
			yaml: "aws:\n  rate-limits:\n    delete-snapshot: {burst: 1, per-second: 1}\n",
			want: []string{`broom.yml:3: aws.rate-limits: "delete-snapshot" is neither an API action name such as DeleteSnapshot nor mutating or non-mutating`},
		},
		"rate limit without its rate": {
			yaml: "aws:\n  rate-limits:\n    DeleteSnapshot: {burst: 100}\n",
			want: []string{`broom.yml:3: aws.rate-limits.DeleteSnapshot: want both burst and per-second, e.g. {burst: 100, per-second: 5}`},
		},
		"rate limit with an unknown key": {
			yaml: "aws:\n  rate-limits:\n    DeleteSnapshot:\n      burst: 100\n      rate: 5\n",
			want: []string{
				`broom.yml:4: aws.rate-limits.DeleteSnapshot: want both burst and per-second`,
				`broom.yml:5: aws.rate-limits.DeleteSnapshot: unknown key "rate" (valid: burst, per-second)`,
			},
		},
		"zero rate": {
			yaml: "aws:\n  rate-limits:\n    CreateTags: {burst: 100, per-second: 0}\n",
			want: []string{`broom.yml:3: aws.rate-limits.CreateTags.per-second: want a number of calls per second above 0, such as 5 or 0.5, got "0"`},
		},
		"rate as a string": {
			yaml: "aws:\n  rate-limits:\n    CreateTags: {burst: 100, per-second: \"5/s\"}\n",
			want: []string{`broom.yml:3: aws.rate-limits.CreateTags.per-second: want a number of calls per second above 0`},
		},
		"infinite rate": {
			yaml: "aws:\n  rate-limits:\n    CreateTags: {burst: 100, per-second: .inf}\n",
			want: []string{`broom.yml:3: aws.rate-limits.CreateTags.per-second: want a number of calls per second above 0`},
		},
		"fractional burst": {
			yaml: "aws:\n  rate-limits:\n    mutating:\n      burst: 2.5\n      per-second: 1\n",
			want: []string{`broom.yml:4: aws.rate-limits.mutating.burst: want a whole number of at least 1, got "2.5"`},
		},
		"rate limit not a mapping": {
			yaml: "aws:\n  rate-limits:\n    mutating: 5\n",
			want: []string{`broom.yml:3: aws.rate-limits.mutating: want a mapping, got "5"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tc.yaml), testCatalog)
			checkProblems(t, err, tc.want)
		})
	}
}
