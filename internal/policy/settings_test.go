package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSettingsChange(t *testing.T) {
	t.Parallel()
	want := map[string]string{"type": "gp3", "iops": "3000"}
	tests := map[string]struct {
		have, change map[string]string
	}{
		"only the settings that differ":        {have: map[string]string{"type": "gp3", "iops": "100"}, change: map[string]string{"iops": "3000"}},
		"a setting the resource lacks differs": {have: map[string]string{"type": "gp3"}, change: map[string]string{"iops": "3000"}},
		"already as wanted: nil":               {have: map[string]string{"type": "gp3", "iops": "3000", "size": "8"}},
		"nothing known: all":                   {change: want},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := SettingsChange(want, tc.have)
			if diff := cmp.Diff(tc.change, got); diff != "" {
				t.Errorf("SettingsChange (-want +got):\n%s", diff)
			}
			if tc.change == nil && got != nil {
				t.Errorf("SettingsChange = %#v, want nil (no action)", got)
			}
		})
	}
}
