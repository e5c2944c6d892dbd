// Package policy decides, for one resource and one rule, whether broom acts,
// leaves it, or must not touch it (protected or in use), and why. It is pure:
// the same inputs give the same verdict, which is what makes a plan
// reproducible and its fingerprint stable.
package policy

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
)

// Outcome is what a rule does with a resource.
type Outcome int

// The outcomes.
const (
	Leave   Outcome = iota // the rule's filters do not match
	Act                    // the rule matches: plan the action
	Protect                // the rule matches but the resource is protected or in use
)

// Verdict is an outcome and its reason, written for the report, and for a
// tag action the tags that differ.
type Verdict struct {
	Outcome Outcome
	Reason  string
	Change  map[string]string
}

// Evaluate decides what rule does with r at time now. Protection is checked
// after matching, so that the report can say which protected resources a
// rule would otherwise have touched.
func Evaluate(rule config.Rule, protect config.Protect, now time.Time, r plan.Resource) Verdict {
	var why []string
	if w := rule.Where.OlderThan; w > 0 {
		age := now.Sub(r.Created)
		if r.Created.IsZero() || age <= w {
			return Verdict{Outcome: Leave}
		}
		why = append(why, fmt.Sprintf("%s old > %s", formatAge(age), config.FormatAge(w)))
	}
	if len(rule.Where.Tags) > 0 {
		if !matchTags(rule.Where.Tags, r.Tags) {
			return Verdict{Outcome: Leave}
		}
		why = append(why, "tags "+formatTags(rule.Where.Tags))
	}
	if glob := rule.Where.Name; glob != "" {
		if !matchName(glob, r) {
			return Verdict{Outcome: Leave}
		}
		why = append(why, "name matches "+glob)
	}
	if want := rule.Where.State; want != "" {
		if r.State != want {
			return Verdict{Outcome: Leave}
		}
		why = append(why, "state "+want)
	}
	if glob := rule.Where.Repository; glob != "" {
		if ok, _ := path.Match(glob, r.Repository); !ok {
			return Verdict{Outcome: Leave}
		}
		why = append(why, "repository "+glob)
	}
	for _, name := range config.FlagFilters {
		want, ok := rule.Where.Flags[name]
		if !ok {
			continue
		}
		if r.Flags[name] != want {
			return Verdict{Outcome: Leave}
		}
		why = append(why, fmt.Sprintf("%s: %v", name, want))
	}
	if len(rule.Where.MissingTags) > 0 {
		missing := missingTags(rule.Where.MissingTags, r.Tags)
		if len(missing) == 0 {
			return Verdict{Outcome: Leave}
		}
		why = append(why, "missing tags "+strings.Join(missing, ","))
	}
	var change map[string]string
	if rule.Action == "tag" {
		if change = TagChange(rule.Set, r.Tags); len(change) == 0 {
			return Verdict{Outcome: Leave} // already as the rule asks
		}
		if len(rule.Where.MissingTags) == 0 {
			why = append(why, "set "+formatTags(change))
		}
	}
	if reason := Protected(protect, r); reason != "" {
		return Verdict{Outcome: Protect, Reason: reason}
	}
	if r.InUse != "" && rule.Action != "tag" { // in use vetoes all but tagging
		return Verdict{Outcome: Protect, Reason: "in use: " + r.InUse}
	}
	if p := r.AWSPrefix; p != "" && !strings.HasPrefix(rule.Where.Name, p) {
		return Verdict{Outcome: Protect, Reason: "AWS-owned prefix " + p + " (a rule acts on it only with a name that starts with " + p + ")"}
	}
	if why := r.Vetoes[rule.Action]; why != "" {
		return Verdict{Outcome: Protect, Reason: why}
	}
	// keep-last is the rule's and the order the kind's: two rules over one
	// repository may keep different numbers.
	if n := rule.Where.KeepLast; n > 0 && r.Newer < n {
		return Verdict{Outcome: Protect, Reason: fmt.Sprintf("one of the %d newest in %s", n, r.Repository)}
	}
	if len(why) == 0 {
		why = append(why, "matches rule "+rule.Name)
	}
	return Verdict{Outcome: Act, Reason: strings.Join(why, "; "), Change: change}
}

// TagChange returns the tags of want whose value differs in have: only
// those are written. broom's own broom:change stamp is never a difference.
func TagChange(want, have map[string]string) map[string]string {
	var out map[string]string
	for k, v := range want {
		if k == ChangeTag {
			continue
		}
		if got, ok := have[k]; !ok || got != v {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// SettingsChange returns the settings of want whose value differs in have:
// what an update changes. Like TagChange, nil means already as wanted.
func SettingsChange(want, have map[string]string) map[string]string {
	var out map[string]string
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// ChangeTag is the tag broom stamps on what it creates or modifies, with
// the pull request or run that did it.
const ChangeTag = "broom:change"

func missingTags(keys []string, have map[string]string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := have[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// Protected says why r is protected by the config, or "" if it is not.
func Protected(p config.Protect, r plan.Resource) string {
	if slices.Contains(p.IDs, r.ID) {
		return "protected: id listed in protect.ids"
	}
	keys := make([]string, 0, len(p.Tags))
	for k := range p.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := r.Tags[k]; ok && (p.Tags[k] == "*" || p.Tags[k] == v) {
			return fmt.Sprintf("protected: tag %s=%s", k, v)
		}
	}
	return ""
}

// matchTags reports whether have holds every tag of want; "*" matches any
// value but the key must be present.
func matchTags(want, have map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "*" && v != got) {
			return false
		}
	}
	return true
}

// matchName reports whether glob matches the resource's own name or its
// Name tag; a resource with neither matches no glob, not even "*".
func matchName(glob string, r plan.Resource) bool {
	for _, n := range []string{r.Name, r.Tags["Name"]} {
		if ok, _ := path.Match(glob, n); ok && n != "" { // the loader checked the glob
			return true
		}
	}
	return false
}

func formatTags(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// formatAge writes an age for people: "412 days", "5 hours".
func formatAge(d time.Duration) string {
	if days := int(d / (24 * time.Hour)); days >= 2 {
		return fmt.Sprintf("%d days", days)
	}
	if hours := int(d / time.Hour); hours != 1 {
		return fmt.Sprintf("%d hours", hours)
	}
	return "1 hour"
}
