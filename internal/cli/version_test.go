package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := map[string]struct {
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		"a version stamped with -ldflags wins": {
			stamped: "v1.2.3",
			info:    &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}},
			want:    "v1.2.3",
		},
		"go install @v1.2.3 reports the module version": {
			stamped: "dev",
			info:    &debug.BuildInfo{Main: debug.Module{Path: "github.com/broom-dev/broom", Version: "v1.2.3"}},
			want:    "v1.2.3",
		},
		"go install of a pseudo-version reports it": {
			stamped: "dev",
			info:    &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261204051100-0123456789ab"}},
			want:    "v1.2.4-0.20261204051100-0123456789ab",
		},
		"a build in a checkout is dev at its revision": {
			stamped: "dev",
			info:    &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")},
			want:    "dev (0123456789ab)",
		},
		"uncommitted changes are marked": {
			stamped: "dev",
			info:    &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")},
			want:    "dev (0123456789ab-dirty)",
		},
		"no VCS information (a Docker build without .git) is dev": {
			stamped: "dev",
			info:    &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want:    "dev",
		},
		"no build information is dev": {
			stamped: "dev",
			want:    "dev",
		},
		"an empty stamp counts as none": {
			info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			want: "v1.2.3",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := version(tc.stamped, tc.info); got != tc.want {
				t.Errorf("version(%q, …) = %q, want %q", tc.stamped, got, tc.want)
			}
		})
	}
}
