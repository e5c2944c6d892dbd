package pr

import (
	"fmt"
	"regexp"
	"strings"
)

// Marker is the hidden first line of broom's sticky comment. It names the
// report id the comment belongs to, the fingerprint of the plan it shows
// (what an approval approves) and the commit that plan was made at.
type Marker struct {
	ID          string
	Fingerprint string
	Head        string
}

// String renders the marker line of SPEC §6.
func (m Marker) String() string {
	return fmt.Sprintf("<!-- broom:plan id=%s fingerprint=%s head=%s -->", m.ID, m.Fingerprint, m.Head)
}

var markerPattern = regexp.MustCompile(`^<!-- broom:plan id=([A-Za-z0-9._-]+) fingerprint=([0-9a-f]{64}) head=([0-9a-fA-F]*) -->$`)

// ParseMarker reads the marker from the first line of a comment body.
func ParseMarker(body string) (Marker, bool) {
	first, _, _ := strings.Cut(body, "\n")
	m := markerPattern.FindStringSubmatch(strings.TrimRight(first, "\r"))
	if m == nil {
		return Marker{}, false
	}
	return Marker{ID: m[1], Fingerprint: m[2], Head: m[3]}, true
}
