package config_test

import "testing"

// The schema and the loader agree on regions: a list of names or all,
// never both, never empty.
func TestSchemaAgreesWithLoaderOnRegions(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	for name, tc := range map[string]struct {
		doc   string
		valid bool
	}{
		"all":               {doc: "regions: all\n", valid: true},
		"quoted all":        {doc: "regions: \"all\"\n", valid: true},
		"names":             {doc: "regions: [us-east-1, ap-southeast-2]\n", valid: true},
		"all among names":   {doc: "regions: [us-east-1, all]\n"},
		"all in a list":     {doc: "regions: [all]\n"},
		"empty list":        {doc: "regions: []\n"},
		"all in capitals":   {doc: "regions: ALL\n"},
		"one name, no list": {doc: "regions: us-east-1\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			judgeAlike(t, s, tc.doc, tc.valid)
		})
	}
}
