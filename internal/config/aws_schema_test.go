package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The schema's aws block lists the keys the loader accepts, in the block and
// in a rate limit, and refuses the others.
func TestSchemaAWSKeysMatchLoader(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	aws := s.deref(t, child(t, s.root, "properties", "aws"))
	limit := s.deref(t, child(t, aws, "properties", "rate-limits", "additionalProperties"))
	for _, tc := range []struct {
		where  string
		loader string
		schema map[string]any
	}{
		{"aws", "aws: {x-probe: 1}\n", aws},
		{"aws.rate-limits.<action>", "aws: {rate-limits: {DeleteSnapshot: {x-probe: 1}}}\n", limit},
	} {
		if diff := cmp.Diff(loaderKeys(t, tc.loader), propertyNames(tc.schema)); diff != "" {
			t.Errorf("%s: keys the loader accepts (-) and the schema lists (+):\n%s", tc.where, diff)
		}
		if tc.schema["additionalProperties"] != false {
			t.Errorf("%s: the schema must set additionalProperties: false, as the loader refuses unknown keys", tc.where)
		}
	}
}

func TestSchemaAgreesWithLoaderOnTheAWSBlock(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	for name, tc := range map[string]struct {
		doc   string
		valid bool
	}{
		"every key": {doc: "aws:\n  retry-mode: adaptive\n  max-attempts: 3\n  max-backoff: 1s\n  call-timeout: 10s\n  max-listings: 16\n" +
			"  rate-limits:\n    DeleteSnapshot: {burst: 50, per-second: 50}\n    mutating: {burst: 10, per-second: 0.5}\n    non-mutating: {burst: 100, per-second: 20}\n", valid: true},
		"empty block":                    {doc: "aws: {}\n", valid: true},
		"unknown key":                    {doc: "aws: {retries: 3}\n"},
		"unknown retry mode":             {doc: "aws: {retry-mode: legacy}\n"},
		"zero attempts":                  {doc: "aws: {max-attempts: 0}\n"},
		"zero listings":                  {doc: "aws: {max-listings: 0}\n"},
		"fractional listings":            {doc: "aws: {max-listings: 1.5}\n"},
		"backoff in milliseconds":        {doc: "aws: {max-backoff: 500ms}\n"},
		"call timeout without unit":      {doc: "aws: {call-timeout: 30}\n"},
		"zero call timeout":              {doc: "aws: {call-timeout: 0s}\n"},
		"rate limit of a kebab name":     {doc: "aws: {rate-limits: {delete-snapshot: {burst: 1, per-second: 1}}}\n"},
		"rate limit without burst":       {doc: "aws: {rate-limits: {DeleteSnapshot: {per-second: 1}}}\n"},
		"rate limit without rate":        {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 1}}}\n"},
		"zero rate":                      {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 1, per-second: 0}}}\n"},
		"negative rate":                  {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 1, per-second: -1}}}\n"},
		"rate as a string":               {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 1, per-second: \"5\"}}}\n"},
		"zero burst":                     {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 0, per-second: 1}}}\n"},
		"unknown key in a rate limit":    {doc: "aws: {rate-limits: {DeleteSnapshot: {burst: 1, per-second: 1, jitter: 1}}}\n"},
		"rate limits not a mapping":      {doc: "aws: {rate-limits: [DeleteSnapshot]}\n"},
		"a rate limit that is no bucket": {doc: "aws: {rate-limits: {mutating: 5}}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			judgeAlike(t, s, tc.doc, tc.valid)
		})
	}
}
