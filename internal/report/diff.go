package report

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/broom-dev/broom/internal/plan"
)

// maxKeys caps the hidden list of action keys kept in a comment: 2,000 keys
// take 18,000 characters of the 65,536 a comment may hold. Larger plans are
// compared by count only.
const maxKeys = 2000

// actionKey is a short digest of what an action does to which resource,
// the same fields the plan fingerprint covers.
func actionKey(a plan.Action) string { return plan.Fingerprint([]plan.Action{a})[:8] }

// KeysBlock is a hidden line listing the plan's action keys, so that the
// next plan can say what changed. Empty for plans over maxKeys actions.
func KeysBlock(p plan.Plan) string {
	if len(p.Actions) > maxKeys {
		return fmt.Sprintf("<!-- broom:keys count=%d -->\n", len(p.Actions))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- broom:keys count=%d", len(p.Actions))
	for _, a := range p.Actions {
		b.WriteString(" " + actionKey(a))
	}
	b.WriteString(" -->\n")
	return b.String()
}

var keysPattern = regexp.MustCompile(`(?m)^<!-- broom:keys count=(\d+)((?: [0-9a-f]{8})*) -->$`)

// previous reads a body's keys block: the action count and, when listed,
// the keys.
func previous(body string) (count int, keys map[string]bool, ok bool) {
	m := keysPattern.FindStringSubmatch(body)
	if m == nil {
		return 0, nil, false
	}
	fmt.Sscan(m[1], &count)
	if fields := strings.Fields(m[2]); len(fields) > 0 || count == 0 {
		keys = make(map[string]bool, len(fields))
		for _, k := range fields {
			keys[k] = true
		}
	}
	return count, keys, true
}

// ActionCount is how many actions the plan shown in body has, by its
// hidden list of action keys.
func ActionCount(body string) (int, bool) {
	n, _, ok := previous(body)
	return n, ok
}

// Changes says how plan p differs from the plan shown in body (whose
// marker held prevFingerprint), for an approver to see drift at a glance:
// "+3 new actions, −1 gone". Empty when body shows no earlier plan.
func Changes(body, prevFingerprint string, p plan.Plan) string {
	count, keys, ok := previous(body)
	if !ok {
		return ""
	}
	if prevFingerprint == p.Fingerprint {
		return "Unchanged since the last plan (fingerprint " + shortFP(p.Fingerprint) + ")."
	}
	fp := fmt.Sprintf("fingerprint %s → %s", shortFP(prevFingerprint), shortFP(p.Fingerprint))
	if keys == nil || len(p.Actions) > maxKeys {
		return fmt.Sprintf("Changed since the last plan: %d actions, was %d (%s).", len(p.Actions), count, fp)
	}
	added, kept := 0, 0
	for _, a := range p.Actions {
		if keys[actionKey(a)] {
			kept++
		} else {
			added++
		}
	}
	return fmt.Sprintf("Changed since the last plan: +%d new, −%d gone (%s).", added, len(keys)-kept, fp)
}
