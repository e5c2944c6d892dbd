package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateCatalog has one kind with an update whose set takes a required
// type (one value) and an optional range, as package resource writes them.
var updateCatalog = Catalog{"ebs-volume": {
	"update": {"older-than", "set", "set.type=gp3", "set.iops?=3000..16000"},
	"tag":    {"older-than", "set"},
}}

func updateFile(rule string) string {
	return "version: 1\nrules:\n  - name: to-gp3\n    resource: ebs-volume\n    action: update\n" + rule
}

func TestUpdateRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		yaml    string
		wantSet map[string]string
		wantErr string // file:line: message, or "" for valid
	}{
		"required setting": {yaml: updateFile("    set: {type: gp3}\n"), wantSet: map[string]string{"type": "gp3"}},
		"with an optional setting in range": {yaml: updateFile("    where: {older-than: 7d}\n    set: {type: gp3, iops: 4000}\n"),
			wantSet: map[string]string{"type": "gp3", "iops": "4000"}},
		"range ends included": {yaml: updateFile("    set: {type: gp3, iops: 16000}\n"), wantSet: map[string]string{"type": "gp3", "iops": "16000"}},
		"unknown setting": {yaml: updateFile("    set: {type: gp3, size: 100}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set: unknown key "size" (valid: type, iops)`},
		"a value not listed": {yaml: updateFile("    set: {type: io2}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set.type: "io2" is not one of gp3`},
		"below the range": {yaml: updateFile("    set: {type: gp3, iops: 2999}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set.iops: want a whole number from 3000 to 16000, got "2999"`},
		"above the range": {yaml: updateFile("    set: {type: gp3, iops: 16001}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set.iops: want a whole number from 3000 to 16000, got "16001"`},
		"not a number": {yaml: updateFile("    set: {type: gp3, iops: fast}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set.iops: want a whole number from 3000 to 16000, got "fast"`},
		"required setting missing": {yaml: updateFile("    set: {iops: 4000}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set: missing type (one of gp3)`},
		"set not a mapping": {yaml: updateFile("    set: gp3\n"),
			wantErr: `broom.yml:6: rule "to-gp3": set: want a mapping, got "gp3"`},
		"set missing": {yaml: updateFile(""),
			wantErr: `broom.yml:3: rule "to-gp3": an update rule needs set: {type: gp3}`},
		"settings are no filters": {yaml: updateFile("    where: {set.type=gp3: true}\n    set: {type: gp3}\n"),
			wantErr: `broom.yml:6: rule "to-gp3": where: unknown key "set.type=gp3" (valid: older-than)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("broom.yml", []byte(tc.yaml), updateCatalog)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr { // exactly: one problem, one message
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantSet, f.Rules[0].Set); diff != "" {
				t.Errorf("set (-want +got):\n%s", diff)
			}
		})
	}
}

// A tag rule of the same kind still takes any tags: the settings are the
// update's.
func TestUpdateSettingsLeaveTagRulesAlone(t *testing.T) {
	t.Parallel()
	doc := "version: 1\nrules:\n  - name: owner\n    resource: ebs-volume\n    action: tag\n    set: {Owner: me, type: io2}\n"
	f, err := Parse("broom.yml", []byte(doc), updateCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"Owner": "me", "type": "io2"}, f.Rules[0].Set); diff != "" {
		t.Errorf("tag set (-want +got):\n%s", diff)
	}
}
