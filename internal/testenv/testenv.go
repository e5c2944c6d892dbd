// Package testenv decides what a test does when the machine lacks something
// it needs from outside Go: moto_server, libfaketime, the npm fixtures that
// scripts/test-deps.sh installs.
//
// By default such a test is skipped, so that a plain `go test ./...` on a
// laptop without them still runs the rest; a package whose TestMain calls
// Main then prints one line to stderr saying what it skipped and why. With
// the environment variable BROOM_STRICT_TESTS set (scripts/test.sh, and so
// `make test` and .ci/run, set it to 1) a missing dependency fails the test
// instead: a suite that cannot run its integration tests must not pass.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// StrictVar is the environment variable that turns a missing test
// dependency into a failure: "1" (any value but "", "0" and "false", so a
// typo errs on the strict side).
const StrictVar = "BROOM_STRICT_TESTS"

// Strict reports whether StrictVar asks for strict tests.
func Strict() bool { return strict(os.Getenv(StrictVar)) }

func strict(v string) bool {
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// skips counts the tests skipped by Missing in this process, by reason.
var skips = struct {
	sync.Mutex
	by map[string]int
}{by: map[string]int{}}

// Missing ends t because something it needs is missing; reason says what
// and how to get it ("moto_server not on PATH (pip install ...)"). Under
// Strict it fails t; otherwise it skips t and counts the skip for Main.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("missing test dependency: %s (%s is set: this is a failure, not a skip)", reason, StrictVar)
		return
	}
	skips.Lock()
	skips.by[reason]++
	skips.Unlock()
	t.Skipf("skipping, missing test dependency: %s (%s=1 makes this a failure)", reason, StrictVar)
}

// Main runs the tests and then, if Missing skipped any, prints one line
// naming the package, how many tests it skipped and why. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// `go test ./...` shows nothing a passing package prints unless -v is
// given, so without -v the line goes to the terminal (/dev/tty) when there
// is one, and to stderr otherwise (shown with -v, -json or on failure).
func Main(m *testing.M) int {
	code := m.Run()
	if s := summary(pkgDir()); s != "" {
		w := os.Stderr
		if !testing.Verbose() {
			if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
				defer tty.Close()
				w = tty
			}
		}
		fmt.Fprintln(w, s)
	}
	return code
}

// summary is the one line Main prints; "" when nothing was skipped.
func summary(pkg string) string {
	skips.Lock()
	defer skips.Unlock()
	n := 0
	reasons := make([]string, 0, len(skips.by))
	for r, k := range skips.by {
		n += k
		reasons = append(reasons, r)
	}
	if n == 0 {
		return ""
	}
	sort.Strings(reasons)
	return fmt.Sprintf("SKIPPED %s: %d test(s) not run: %s; set %s=1 to make this a failure",
		pkg, n, strings.Join(reasons, "; "), StrictVar)
}

// pkgDir is the directory go test runs the package's tests in, relative to
// the module root: the package's path in the repository.
func pkgDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Base(os.Args[0])
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return filepath.ToSlash(rel)
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return wd
}
