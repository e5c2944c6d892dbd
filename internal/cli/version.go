package cli

import "runtime/debug"

// Version is set at build time with -ldflags "-X …/cli.Version=v1.2.3"
// (the Dockerfile and the release workflow do). Left at "dev", `broom
// version` asks the binary's build information instead: see version.
var Version = "dev"

// version is what `broom version` prints: the -ldflags version if one was
// stamped; else the module version Go recorded, which `go install
// …/cmd/broom@v1.2.3` sets to v1.2.3; else (a build in a checkout, whose
// module version is "(devel)") "dev" with the VCS revision Go recorded, if
// any. info is nil when the binary has no build information.
func version(stamped string, info *debug.BuildInfo) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	if info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "dev (" + rev + ")"
}

// buildVersion is version for this binary.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo() // nil without build information
	return version(Version, info)
}
