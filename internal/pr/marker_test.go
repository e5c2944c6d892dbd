package pr_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/pr"
)

const (
	testFingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testHead        = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
)

func TestMarkerRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string]pr.Marker{
		"default id":                     {ID: "default", Fingerprint: testFingerprint, Head: testHead},
		"id with dots, dashes and under": {ID: "prod-eu_west.1", Fingerprint: testFingerprint, Head: testHead},
		"uppercase hex head":             {ID: "prod", Fingerprint: testFingerprint, Head: strings.ToUpper(testHead)},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			line := m.String()
			if want := "<!-- broom:plan id=" + m.ID + " fingerprint=" + m.Fingerprint + " head=" + m.Head + " -->"; line != want {
				t.Errorf("String() = %q, want %q", line, want)
			}
			for _, body := range []string{line, line + "\n## broom plan\n\nbody", line + "\r\n## broom plan\r\n"} {
				got, ok := pr.ParseMarker(body)
				if !ok {
					t.Fatalf("ParseMarker(%q) found no marker", body)
				}
				if diff := cmp.Diff(m, got); diff != "" {
					t.Errorf("ParseMarker(%q) mismatch (-want +got):\n%s", body, diff)
				}
			}
		})
	}
}

func TestParseMarker(t *testing.T) {
	t.Parallel()
	good := pr.Marker{ID: "prod", Fingerprint: testFingerprint, Head: testHead}
	tests := map[string]struct {
		body   string
		want   pr.Marker
		wantOK bool
	}{
		"marker alone": {
			body: good.String(), want: good, wantOK: true,
		},
		"CRLF line ending accepted": {
			body: good.String() + "\r\n## broom plan\r\n", want: good, wantOK: true,
		},
		"marker not on the first line": {
			body: "Hello\n" + good.String() + "\n",
		},
		"marker after a blank first line": {
			body: "\n" + good.String(),
		},
		"uppercase hex fingerprint": {
			body: "<!-- broom:plan id=prod fingerprint=" + strings.ToUpper(testFingerprint) + " head=" + testHead + " -->",
		},
		"63 hex fingerprint": {
			body: "<!-- broom:plan id=prod fingerprint=" + testFingerprint[:63] + " head=" + testHead + " -->",
		},
		"65 hex fingerprint": {
			body: "<!-- broom:plan id=prod fingerprint=" + testFingerprint + "0 head=" + testHead + " -->",
		},
		"missing head field": {
			body: "<!-- broom:plan id=prod fingerprint=" + testFingerprint + " -->",
		},
		"extra text after the comment close": {
			body: good.String() + " approved",
		},
		"id with spaces": {
			body: "<!-- broom:plan id=prod eu fingerprint=" + testFingerprint + " head=" + testHead + " -->",
		},
		"empty id": {
			body: "<!-- broom:plan id= fingerprint=" + testFingerprint + " head=" + testHead + " -->",
		},
		"another tool's marker": {
			body: "<!-- tfcmt:plan id=prod fingerprint=" + testFingerprint + " head=" + testHead + " -->",
		},
		"empty body": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := pr.ParseMarker(tc.body)
			if ok != tc.wantOK {
				t.Fatalf("ParseMarker(%q) ok = %v, want %v", tc.body, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseMarker(%q) mismatch (-want +got):\n%s", tc.body, diff)
			}
		})
	}
}
