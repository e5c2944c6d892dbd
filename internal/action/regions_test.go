package action

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/config"
)

// The region broom connects in: the named regions' first; with none, the
// SDK's region variables; with regions: all and no variable, us-east-1.
func TestResolveRegions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		file config.File
		env  map[string]string
		want []string
	}{
		"named":                       {file: config.File{Regions: []string{"eu-west-1"}}, env: map[string]string{"AWS_REGION": "us-west-2"}, want: []string{"eu-west-1"}},
		"none: AWS_REGION":            {env: map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-2"}, want: []string{"us-west-2"}},
		"none: AWS_DEFAULT_REGION":    {env: map[string]string{"AWS_DEFAULT_REGION": "eu-west-2"}, want: []string{"eu-west-2"}},
		"all: AWS_REGION":             {file: config.File{AllRegions: true}, env: map[string]string{"AWS_REGION": "ap-southeast-2"}, want: []string{"ap-southeast-2"}},
		"all: AWS_DEFAULT_REGION":     {file: config.File{AllRegions: true}, env: map[string]string{"AWS_DEFAULT_REGION": "eu-west-2"}, want: []string{"eu-west-2"}},
		"all without a region to use": {file: config.File{AllRegions: true}, want: []string{"us-east-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Config{File: tc.file}
			if err := ResolveRegions(&cfg, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Regions); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
			if cfg.AllRegions != tc.file.AllRegions {
				t.Errorf("AllRegions = %v, want it kept (%v)", cfg.AllRegions, tc.file.AllRegions)
			}
		})
	}
	var m *MisuseError
	if err := ResolveRegions(&config.Config{}, func(string) string { return "" }); !errors.As(err, &m) {
		t.Errorf("no region anywhere: error %v, want a misuse (exit 2)", err)
	}
}
