package testenv

import (
	"runtime"
	"testing"
)

func TestStrictValues(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"": false, "0": false, "false": false, "FALSE": false,
		"1": true, "true": true, "yes": true, // not a boolean: strict, the safe side
	} {
		if got := strict(v); got != want {
			t.Errorf("strict(%q) = %v, want %v", v, got, want)
		}
	}
}

// fakeTB records Fatalf and Skipf; both end the goroutine like the real ones.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = format
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = format
	runtime.Goexit()
}

func missing(t *testing.T, reason string) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Missing(f, reason)
	}()
	<-done
	return f
}

// Not parallel: it sets the environment and reads the package's counts.
func TestMissingSkipsOrFailsAndSummarises(t *testing.T) {
	skips.by = map[string]int{}
	t.Cleanup(func() { skips.by = map[string]int{} })

	t.Setenv(StrictVar, "1")
	if f := missing(t, "moto_server not on PATH"); f.fatal == "" || f.skip != "" {
		t.Errorf("%s=1: fatal %q skip %q, want a failure", StrictVar, f.fatal, f.skip)
	}
	if got := summary("internal/x"); got != "" {
		t.Errorf("summary after a strict failure = %q, want none", got)
	}

	for _, v := range []string{"", "0"} {
		t.Setenv(StrictVar, v)
		if f := missing(t, "moto_server not on PATH"); f.skip == "" || f.fatal != "" {
			t.Errorf("%s=%q: fatal %q skip %q, want a skip", StrictVar, v, f.fatal, f.skip)
		}
	}
	missing(t, "webhook examples not installed")
	want := "SKIPPED internal/x: 3 test(s) not run: moto_server not on PATH; webhook examples not installed; set BROOM_STRICT_TESTS=1 to make this a failure"
	if got := summary("internal/x"); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

func TestPkgDirIsThePackagesPathInTheModule(t *testing.T) {
	t.Parallel()
	if got := pkgDir(); got != "internal/testenv" {
		t.Errorf("pkgDir() = %q, want internal/testenv", got)
	}
}
