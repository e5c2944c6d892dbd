package awstest

import (
	"testing"
	"time"
)

// TimeNear fails t unless got is within tolerance of want; what names the
// time in the message ("old snapshot's StartTime"). The times moto gives
// are only about right: a resource made with the clock set back (SetClock)
// is as old as asked give or take the time the test took, so a test
// compares them with a tolerance instead of exactly.
func TimeNear(t testing.TB, what string, got, want time.Time, tolerance time.Duration) {
	t.Helper()
	if d := got.Sub(want); d < -tolerance || d > tolerance {
		t.Errorf("%s = %v, want %v within %v (off by %v)", what, got, want, tolerance, d)
	}
}
