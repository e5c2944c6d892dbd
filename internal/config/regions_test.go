package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// This file pins regions: all (SPEC §3) in the file and in every layer
// above it: it means every region enabled for the account, and it never
// mixes with region names.

func TestParseRegionsAll(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"plain":  "version: 1\nregions: all\nrules: []\n",
		"quoted": "version: 1\nregions: \"all\"\nrules: []\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("broom.yml", []byte(doc), testCatalog)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !f.AllRegions || f.Regions != nil {
				t.Errorf("AllRegions %v, Regions %q; want every enabled region and no names", f.AllRegions, f.Regions)
			}
		})
	}
	f, err := Parse("broom.yml", []byte("regions: [us-east-1, eu-west-1]\n"), testCatalog)
	if err != nil || f.AllRegions || !cmp.Equal(f.Regions, []string{"us-east-1", "eu-west-1"}) {
		t.Errorf("named regions: AllRegions %v, Regions %q, err %v", f.AllRegions, f.Regions, err)
	}
}

func TestParseRegionsRejectsAllMixedOrEmpty(t *testing.T) {
	t.Parallel()
	const mixed = "regions: all cannot be listed with region names (write regions: all on its own)"
	for name, tt := range map[string]struct {
		yaml string
		want []string
	}{
		"all among names, at its own line": {
			yaml: "version: 1\nregions:\n  - us-east-1\n  - all\nrules: []\n",
			want: []string{"broom.yml:4: " + mixed},
		},
		"all in a list of its own": {
			yaml: "version: 1\nregions: [all]\n",
			want: []string{"broom.yml:2: " + mixed},
		},
		"all and a bad name": {
			yaml: "regions: [all, Mars]\n",
			want: []string{"broom.yml:1: " + mixed, `broom.yml:1: regions: "Mars" is not an AWS region name`},
		},
		"empty list": {
			yaml: "version: 1\nid: x\nregions: []\n",
			want: []string{"broom.yml:3: regions: empty list (name regions, write regions: all, or leave the key out to use AWS_REGION)"},
		},
		"all in capitals": {
			yaml: "regions: ALL\n",
			want: []string{`broom.yml:1: regions: want a list of region names or all, got "ALL"`},
		},
		"nothing": {
			yaml: "regions:\n",
			want: []string{`broom.yml:1: regions: want a list of region names or all, got nothing`},
		},
		"a mapping": {
			yaml: "regions: {all: true}\n",
			want: []string{`broom.yml:1: regions: want a list of region names or all, got a mapping`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("broom.yml", []byte(tt.yaml), testCatalog)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// all comes from any layer and replaces the file's names; names from a
// higher layer replace the file's all.
func TestLoadLayersRegionsAll(t *testing.T) {
	t.Parallel()
	named := writeConfig(t, "named.yml", fileWithAll) // regions: [eu-west-1]
	all := writeConfig(t, "all.yml", "version: 1\nregions: all\n"+minimalFile[len("version: 1\n"):])
	type regions struct {
		All   bool
		Names []string
	}
	for name, tt := range map[string]struct {
		file string
		top  Layer
		env  map[string]string
		want regions
	}{
		"file":                  {file: all, want: regions{All: true}},
		"env over the file":     {file: named, env: map[string]string{"BROOM_REGIONS": "all"}, want: regions{All: true}},
		"input over the file":   {file: named, top: inputs(map[string]string{"regions": "all\n"}), want: regions{All: true}},
		"flag over env":         {file: named, top: flags(map[string]string{"regions": " all "}), env: map[string]string{"BROOM_REGIONS": "us-east-1"}, want: regions{All: true}},
		"names over file's all": {file: all, env: map[string]string{"BROOM_REGIONS": "us-east-1,us-west-2"}, want: regions{Names: []string{"us-east-1", "us-west-2"}}},
		"flag names over env all": {file: named, top: flags(map[string]string{"regions": "ap-southeast-2"}), env: map[string]string{"BROOM_REGIONS": "all"},
			want: regions{Names: []string{"ap-southeast-2"}}},
		"nothing over the file's all": {file: all, top: flags(map[string]string{"regions": ""}), want: regions{All: true}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := tt.top
			if top.Values == nil {
				top = flags(map[string]string{})
			}
			top.Values["config"] = tt.file
			c, err := Load(top, getenv(tt.env), testCatalog)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, regions{All: c.AllRegions, Names: c.Regions}); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRejectsRegionsAllMixedNamingTheSource(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "broom.yml", fileWithAll)
	for name, tt := range map[string]struct {
		top  Layer
		env  map[string]string
		want string
	}{
		"flag":  {top: flags(map[string]string{"regions": "all,us-east-1"}), want: `flag --regions="all,us-east-1": all cannot be listed with region names`},
		"input": {top: inputs(map[string]string{"regions": "us-east-1\nall"}), want: `input regions="us-east-1\nall": all cannot be listed with region names`},
		"env":   {env: map[string]string{"BROOM_REGIONS": "all,all"}, want: `BROOM_REGIONS="all,all": all cannot be listed with region names`},
		"env with a bad name": {env: map[string]string{"BROOM_REGIONS": "all,Mars"},
			want: `BROOM_REGIONS="all,Mars": all cannot be listed with region names; BROOM_REGIONS="all,Mars": "Mars" is not an AWS region name`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := loadWithBadOverride(t, path, tt.top, tt.env)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error is a %T, want a *Error (exit 2)", err)
			}
		})
	}
}
