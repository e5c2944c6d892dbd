package pr_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/pr"
	"github.com/broom-dev/broom/internal/shard"
)

var (
	fpA = strings.Repeat("a", 64)
	fpB = strings.Repeat("b", 64)
	fpC = strings.Repeat("c", 64)
)

func testShards() shard.Shards {
	return shard.Shards{Count: 3, Config: fpA, All: fpB, Slices: []shard.Slice{
		{Index: 1, Fingerprint: fpC, Actions: 3}, {Index: 2, Fingerprint: fpA, Actions: 0}, {Index: 3, Fingerprint: fpB, Actions: 1234567}}}
}

func TestShardsLineRoundTrip(t *testing.T) {
	t.Parallel()
	s := testShards()
	line := pr.ShardsLine(s)
	want := "<!-- broom:shards count=3 config=" + fpA + " all=" + fpB + " 1=" + fpC + ":3 2=" + fpA + ":0 3=" + fpB + ":1234567 -->"
	if line != want {
		t.Errorf("ShardsLine = %q, want %q", line, want)
	}
	marker := pr.Marker{ID: "prod", Fingerprint: testFingerprint, Head: testHead}.String()
	for _, body := range []string{line, marker + "\n" + line + "\n### broom plan\n", marker + "\r\n" + line + "\r\nbody"} {
		got, ok := pr.ParseShards(body)
		if !ok {
			t.Fatalf("ParseShards(%q) found no line", body)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("ParseShards(%q) (-want +got):\n%s", body, diff)
		}
	}
}

// A shards line that is not exactly what broom writes says nothing: the
// gate then finds no sharded plan and refuses it.
func TestParseShardsRefusesMalformedLines(t *testing.T) {
	t.Parallel()
	good := pr.ShardsLine(testShards())
	slice := func(i int, fp string, n string) string { return " " + string(rune('0'+i)) + "=" + fp + ":" + n }
	head := "<!-- broom:shards count=3 config=" + fpA + " all=" + fpB
	tests := map[string]string{
		"no line":                    "<!-- broom:plan id=x -->\nbody",
		"two lines":                  good + "\n" + good,
		"a second, different line":   good + "\n" + strings.Replace(good, ":3 ", ":4 ", 1),
		"a slice missing":            head + slice(1, fpC, "3") + slice(2, fpA, "0") + " -->",
		"a slice too many":           head + slice(1, fpC, "3") + slice(2, fpA, "0") + slice(3, fpB, "1") + slice(4, fpB, "1") + " -->",
		"slices out of order":        head + slice(2, fpA, "0") + slice(1, fpC, "3") + slice(3, fpB, "1") + " -->",
		"a slice given twice":        head + slice(1, fpC, "3") + slice(1, fpC, "3") + slice(3, fpB, "1") + " -->",
		"count zero":                 "<!-- broom:shards count=0 config=" + fpA + " all=" + fpB + " -->",
		"count over 1000":            "<!-- broom:shards count=1001 config=" + fpA + " all=" + fpB + " -->",
		"leading zero in the count":  strings.Replace(good, "count=3", "count=03", 1),
		"uppercase hex":              strings.Replace(good, fpC, strings.ToUpper(fpC), 1),
		"short fingerprint":          strings.Replace(good, fpC, fpC[:63], 1),
		"negative actions":           strings.Replace(good, ":3 ", ":-3 ", 1),
		"huge actions":               strings.Replace(good, ":1234567 ", ":12345678 ", 1),
		"extra field":                strings.Replace(good, " -->", " note=x -->", 1),
		"two spaces":                 strings.Replace(good, " 2=", "  2=", 1),
		"text after the comment end": good + " injected",
		"indented":                   " " + good,
		"no closing":                 strings.TrimSuffix(good, " -->"),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, ok := pr.ParseShards(body); ok {
				t.Errorf("ParseShards(%q) = %+v, want no line", body, got)
			}
		})
	}
}
