package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Problems is every problem found in a file, in line order.
type Problems []*Error

func (p Problems) Error() string {
	s := make([]string, len(p))
	for i, e := range p {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// AsProblems lists the problems in err: a Problems, a single *Error, or any
// other error as one problem without a file.
func AsProblems(err error) Problems {
	var problems Problems
	var one *Error
	switch {
	case errors.As(err, &problems):
		return problems
	case errors.As(err, &one):
		return Problems{one}
	}
	return Problems{{Msg: err.Error()}}
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// ReadFile reads and checks the policy file at path against the catalog.
func ReadFile(path string, cat Catalog) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", errors.Unwrap(err))}
	}
	return Parse(path, data, cat)
}

// Parse checks a policy file's content. Every problem is reported with its
// line; the returned error is a Problems.
func Parse(path string, data []byte, cat Catalog) (File, error) {
	l := &loader{path: path, cat: cat}
	f := File{Path: path, Version: 1, ID: "default"}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return f, Problems{l.yamlError(err)}
	}
	if len(doc.Content) == 0 {
		return f, Problems{{File: path, Line: 1, Msg: "empty config: want at least `version: 1` and `rules:`"}}
	}
	l.file(doc.Content[0], &f)
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].Line < l.problems[j].Line })
		return f, l.problems
	}
	return f, nil
}

type loader struct {
	path     string
	cat      Catalog
	problems Problems
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.problems = append(l.problems, &Error{File: l.path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// yamlError turns the YAML library's error into file:line: message. The
// context mark (where the broken construct starts, e.g. an unclosed
// bracket) is the line a person needs; the error mark is the fallback.
func (l *loader) yamlError(err error) *Error {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		line := le.ContextMark.Line
		if line == 0 {
			line = le.Mark.Line
		}
		msg := le.Message
		if le.ContextMsg != "" {
			msg = le.ContextMsg + ": " + msg
		}
		return &Error{File: l.path, Line: max(line, 1), Msg: "invalid YAML: " + msg}
	}
	return &Error{File: l.path, Line: 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// mapping calls fn for each key of a mapping node, rejecting keys not in
// known (a typo must never silently disable a filter).
func (l *loader) mapping(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "%s: want a mapping, got %s", what, describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			l.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			l.errorf(k, "%s: unknown key %q (valid: %s)", what, k.Value, strings.Join(known, ", "))
			continue
		}
		fn(k.Value, k, v)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (l *loader) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(n, "%s: want a string, got %s", what, describe(n))
		return ""
	}
	return n.Value
}

func (l *loader) strings(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s: want a list, got %s", what, describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if s := l.str(c, what); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) stringMap(n *yaml.Node, what string) map[string]string {
	out := map[string]string{}
	l.mapping(n, what, nil, func(key string, k, v *yaml.Node) {
		if key == "" {
			l.errorf(k, "%s: empty tag key", what)
			return
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			l.errorf(v, "%s: %s has no value (use \"*\" for any value)", what, key)
			return
		}
		out[key] = l.str(v, what+"."+key)
	})
	return out
}

func (l *loader) positive(n *yaml.Node, what string) int {
	v, err := strconv.Atoi(l.str(n, what))
	if err != nil || v < 1 {
		l.errorf(n, "%s: want a whole number of at least 1, got %s", what, describe(n))
	}
	return v
}

var topKeys = []string{"version", "id", "regions", "max-actions", "allowed-accounts", "timeout", "aws", "protect", "tags", "accounts", "rules"}

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	rolePattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]+$`)
)

// accounts reads accounts: a list of accounts, each an id and the role to
// assume in it, or a mapping that finds them in AWS Organizations.
func (l *loader) accounts(n *yaml.Node, f *File) {
	if n.Kind == yaml.MappingNode {
		l.organization(n, f)
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "accounts: want a list of accounts or a mapping with organization and role, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	for _, an := range n.Content {
		if valueOf(an, "organization") != nil {
			l.errorf(an, "accounts: organization cannot be one of a list of accounts: write either the list or accounts: {organization: …, role: …}")
			continue
		}
		var a Account
		var planRole *yaml.Node // set when plan-role is a string
		l.mapping(an, "accounts", []string{"id", "role", "plan-role"}, func(key string, _, v *yaml.Node) {
			switch key {
			case "id":
				a.ID = l.str(v, "accounts: id")
			case "role":
				a.Role = l.str(v, "accounts: role")
			default:
				if a.PlanRole = l.str(v, "accounts: plan-role"); isString(v) {
					planRole = v
				}
			}
		})
		if an.Kind != yaml.MappingNode {
			continue
		}
		m := rolePattern.FindStringSubmatch(a.Role)
		switch {
		case !accountPattern.MatchString(a.ID):
			l.errorf(an, "accounts: id %q is not a 12-digit AWS account id", a.ID)
		case m == nil:
			l.errorf(an, "accounts: role %q is not an IAM role ARN", a.Role)
		case m[1] != a.ID:
			l.errorf(an, "accounts: role %s is in account %s, not %s", a.Role, m[1], a.ID)
		case seen[a.ID] > 0:
			l.errorf(an, "accounts: %s listed twice (first at line %d)", a.ID, seen[a.ID])
		default:
			seen[a.ID] = an.Line
		}
		if planRole != nil && m != nil && m[1] == a.ID {
			l.planRole(planRole, a)
		}
		f.Accounts = append(f.Accounts, a)
	}
}

func isString(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag != "!!null" }

// planRole checks the plan-role of account a: a role ARN in a's account,
// and another role than a's role (the same one would close nothing).
func (l *loader) planRole(n *yaml.Node, a Account) {
	m := rolePattern.FindStringSubmatch(a.PlanRole)
	switch {
	case m == nil:
		l.errorf(n, "accounts: plan-role %q is not an IAM role ARN", a.PlanRole)
	case m[1] != a.ID:
		l.errorf(n, "accounts: plan-role %s is in account %s, not %s", a.PlanRole, m[1], a.ID)
	case a.PlanRole == a.Role:
		l.errorf(n, "accounts: plan-role is role %s: give plans a read-only role of their own, or leave plan-role out", a.Role)
	}
}

var (
	// ouPattern is the id of an organizational unit, as Organizations
	// documents it.
	ouPattern = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	// orgRolePattern is a role ARN whose account is the placeholder.
	orgRolePattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\{account\}:role/([\w+=,.@/-]|\{account\})+$`)
)

// organization reads accounts: {organization: {ous, exclude}, role}.
func (l *loader) organization(n *yaml.Node, f *File) {
	o := &Organization{}
	found := false
	var planRole *yaml.Node
	l.mapping(n, "accounts", []string{"organization", "role", "plan-role"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "role":
			o.Role = l.orgRole(v, "role", "broom")
			return
		case "plan-role":
			o.PlanRole, planRole = l.orgRole(v, "plan-role", "broom-plan"), v
			return
		}
		found = true
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return // organization: with nothing under it, the whole organization
		}
		l.mapping(v, "accounts: organization", []string{"ous", "exclude"}, func(key string, _, v *yaml.Node) {
			if key == "ous" {
				o.OUs = l.ids(v, "accounts: organization: ous", ouPattern,
					"is not an OU id (ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more)", "leave ous out for the whole organization")
			} else {
				o.Exclude = l.ids(v, "accounts: organization: exclude", accountPattern,
					"is not a 12-digit AWS account id (quote it: YAML reads a leading zero as a number)", "leave exclude out")
			}
		})
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	if !found {
		l.errorf(n, "accounts: want organization (with role) or a list of accounts")
	}
	if o.Role == "" && valueOf(n, "role") == nil {
		l.errorf(n, "accounts: organization needs role, the role to assume in each account, e.g. arn:aws:iam::{account}:role/broom")
	}
	if planRole != nil && o.PlanRole != "" && o.PlanRole == o.Role {
		l.errorf(planRole, "accounts: plan-role is role %s: give plans a read-only role of their own, or leave plan-role out", o.Role)
	}
	f.Organization = o
}

// orgRole reads key (role or plan-role) of the organization form: a role
// ARN that names the account by {account}.
func (l *loader) orgRole(v *yaml.Node, key, example string) string {
	role := l.str(v, "accounts: "+key)
	if role == "" && isString(v) {
		l.errorf(v, "accounts: %s is empty, want a role ARN such as arn:aws:iam::{account}:role/%s", key, example)
	} else if role != "" && !strings.Contains(role, AccountPlaceholder) {
		l.errorf(v, "accounts: %s %q does not name the account by {account}, e.g. arn:aws:iam::{account}:role/%s", key, role, example)
	} else if role != "" && !orgRolePattern.MatchString(role) {
		l.errorf(v, "accounts: %s %q is not an IAM role ARN in account {account}, e.g. arn:aws:iam::{account}:role/%s", key, role, example)
	}
	return role
}

// ids reads a non-empty list of ids that match pattern, each once.
func (l *loader) ids(n *yaml.Node, what string, pattern *regexp.Regexp, bad, empty string) []string {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s: want a list, got %s", what, describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		l.errorf(n, "%s: empty list (%s)", what, empty)
		return nil
	}
	var out []string
	seen := map[string]int{}
	for _, c := range n.Content {
		id := l.str(c, what)
		switch {
		case c.Kind != yaml.ScalarNode || c.Tag == "!!null":
		case !pattern.MatchString(id):
			l.errorf(c, "%s: %q %s", what, id, bad)
		case seen[id] > 0:
			l.errorf(c, "%s: %s listed twice (first at line %d)", what, id, seen[id])
		default:
			seen[id] = c.Line
			out = append(out, id)
		}
	}
	return out
}

// allowedAccounts reads allowed-accounts: a non-empty list of account ids.
func (l *loader) allowedAccounts(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "allowed-accounts: want a list of 12-digit account ids, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		// An empty list would refuse every account: surely not what was meant.
		l.errorf(n, "allowed-accounts: empty list (leave the key out to allow any account)")
		return
	}
	f.AllowedAccounts = []string{}
	for _, c := range n.Content {
		id := l.str(c, "allowed-accounts")
		if c.Kind == yaml.ScalarNode && c.Tag != "!!null" && !accountPattern.MatchString(id) {
			l.errorf(c, "allowed-accounts: %q is not a 12-digit AWS account id (quote it: YAML reads a leading zero as a number)", id)
			continue
		}
		f.AllowedAccounts = append(f.AllowedAccounts, id)
	}
}

// checkAllowed reports each account of accounts: that allowed-accounts
// leaves out, at its line, so that validate finds what Connect would refuse.
func (l *loader) checkAllowed(n *yaml.Node, f *File) {
	accounts := valueOf(n, "accounts")
	if f.AllowedAccounts == nil || accounts == nil || accounts.Kind != yaml.SequenceNode {
		return
	}
	for _, an := range accounts.Content {
		id := valueOf(an, "id")
		if id != nil && accountPattern.MatchString(id.Value) && !slices.Contains(f.AllowedAccounts, id.Value) {
			l.errorf(an, "accounts: %s is not in allowed-accounts (%s)", id.Value, strings.Join(f.AllowedAccounts, ", "))
		}
	}
}

// valueOf returns the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (l *loader) file(n *yaml.Node, f *File) {
	defer l.checkAllowed(n, f)
	l.mapping(n, "config", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			if s := l.str(v, key); s != "1" && s != "" {
				l.errorf(v, "version: unsupported version %q (this broom reads version 1)", s)
			}
		case "id":
			if f.ID = l.str(v, key); f.ID != "" && !idPattern.MatchString(f.ID) {
				l.errorf(v, "id: %q must be 1-64 letters, digits, '.', '_' or '-'", f.ID)
			}
		case "regions":
			l.regions(v, f)
		case "max-actions":
			f.MaxActions = l.positive(v, key)
		case "allowed-accounts":
			l.allowedAccounts(v, f)
		case "timeout":
			d, err := ParseDuration(l.str(v, key))
			if err != nil || d <= 0 {
				l.errorf(v, "timeout: want a positive duration such as 15m or 1h, got %s", describe(v))
			}
			f.Timeout = d
		case "aws":
			l.aws(v, &f.AWS)
		case "protect":
			l.mapping(v, key, []string{"tags", "ids"}, func(key string, _, v *yaml.Node) {
				if key == "tags" {
					f.Protect.Tags = l.stringMap(v, "protect.tags")
				} else {
					f.Protect.IDs = l.strings(v, "protect.ids")
				}
			})
		case "tags":
			f.Tags = l.stringMap(v, key)
			for i := 0; v.Kind == yaml.MappingNode && i < len(v.Content); i += 2 {
				if k := v.Content[i]; strings.HasPrefix(strings.ToLower(k.Value), "aws:") {
					l.errorf(k, "tags: %q uses the reserved aws: prefix", k.Value)
				}
			}
		case "accounts":
			l.accounts(v, f)
		case "rules":
			l.rules(v, f)
		}
	})
}

// AllRegions is the value of regions (file, flag, input or BROOM_REGIONS)
// that means every region enabled for the account.
const AllRegions = "all"

// regions reads regions: a list of region names, or all.
func (l *loader) regions(n *yaml.Node, f *File) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == AllRegions {
		f.AllRegions = true
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "regions: want a list of region names or %s, got %s", AllRegions, describe(n))
		return
	}
	if len(n.Content) == 0 {
		// Would fall back to AWS_REGION: surely not what an empty list meant.
		l.errorf(n, "regions: empty list (name regions, write regions: %s, or leave the key out to use AWS_REGION)", AllRegions)
		return
	}
	f.Regions = l.strings(n, "regions")
	for i, r := range f.Regions {
		switch {
		case r == AllRegions:
			l.errorf(n.Content[i], "regions: %s cannot be listed with region names (write regions: %s on its own)", AllRegions, AllRegions)
		case !regionPattern.MatchString(r):
			l.errorf(n.Content[i], "regions: %q is not an AWS region name", r)
		}
	}
}

var (
	awsKeys       = []string{"retry-mode", "max-attempts", "max-backoff", "call-timeout", "max-listings", "rate-limits"}
	rateLimitKeys = []string{"burst", "per-second"}
	// actionPattern is an AWS API action name, as the SDK names operations.
	actionPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)
)

// aws reads the aws block: retry mode and budget, per-call timeout, the
// listings at once and rate limits.
func (l *loader) aws(n *yaml.Node, a *AWS) {
	duration := func(v *yaml.Node, what, example string) time.Duration {
		d, err := ParseDuration(l.str(v, what))
		if err != nil || d <= 0 {
			l.errorf(v, "%s: want a positive duration such as %s (units s, m, h), got %s", what, example, describe(v))
		}
		return d
	}
	l.mapping(n, "aws", awsKeys, func(key string, _, v *yaml.Node) {
		what := "aws." + key
		switch key {
		case "retry-mode":
			a.RetryMode = l.str(v, what)
			if a.RetryMode != "standard" && a.RetryMode != "adaptive" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				l.errorf(v, "%s: %q is not one of standard, adaptive", what, a.RetryMode)
			}
		case "max-attempts":
			a.MaxAttempts = l.positive(v, what)
		case "max-backoff":
			a.MaxBackoff = duration(v, what, "20s")
		case "call-timeout":
			a.CallTimeout = duration(v, what, "30s")
		case "max-listings":
			a.MaxListings = l.positive(v, what)
		case "rate-limits":
			a.RateLimits = l.rateLimits(v, what)
		}
	})
}

// rateLimits reads aws.rate-limits: API action name or class → bucket.
func (l *loader) rateLimits(n *yaml.Node, what string) map[string]RateLimit {
	out := map[string]RateLimit{}
	l.mapping(n, what, nil, func(key string, k, v *yaml.Node) {
		if key != RateMutating && key != RateNonMutating && !actionPattern.MatchString(key) {
			l.errorf(k, "%s: %q is neither an API action name such as DeleteSnapshot nor %s or %s", what, key, RateMutating, RateNonMutating)
			return
		}
		w := what + "." + key
		var r RateLimit
		seen := 0
		l.mapping(v, w, rateLimitKeys, func(key string, _, v *yaml.Node) {
			seen++
			if key == "burst" {
				r.Burst = l.positive(v, w+".burst")
				return
			}
			s := l.str(v, w+".per-second")
			if s == "" {
				return // not a scalar: already reported
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) || math.IsInf(f, 0) || v.Tag != "!!int" && v.Tag != "!!float" {
				l.errorf(v, "%s.per-second: want a number of calls per second above 0, such as 5 or 0.5, got %s", w, describe(v))
			}
			r.PerSecond = f
		})
		if v.Kind == yaml.MappingNode && seen < len(rateLimitKeys) {
			l.errorf(v, "%s: want both burst and per-second, e.g. {burst: 100, per-second: 5}", w)
		}
		out[key] = r
	})
	return out
}

// OptionKeys are the rule keys beside name, resource, action and where.
// Which of them a rule may use depends on its kind and action: the catalog
// lists them together with the filters.
var OptionKeys = []string{"set", "bucket", "region", "settings", "snapshot-first"}

var ruleKeys = append([]string{"name", "resource", "action", "where"}, OptionKeys...)

var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (l *loader) rules(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "rules: want a list, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	for _, rn := range n.Content {
		r := Rule{Line: rn.Line}
		var whereNode, resourceNode, actionNode *yaml.Node
		options := map[string][2]*yaml.Node{}
		l.mapping(rn, "rule", ruleKeys, func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				r.Name = l.str(v, "name")
			case "resource":
				r.Resource, resourceNode = l.str(v, "resource"), v
			case "action":
				r.Action, actionNode = l.str(v, "action"), v
			case "where":
				whereNode = v
			default:
				options[key] = [2]*yaml.Node{k, v}
			}
		})
		if rn.Kind != yaml.MappingNode {
			continue
		}
		switch {
		case r.Name == "":
			l.errorf(rn, "rule: missing name")
		case !idPattern.MatchString(r.Name):
			l.errorf(rn, "rule %q: name must be 1-64 letters, digits, '.', '_' or '-'", r.Name)
		case seen[r.Name] > 0:
			l.errorf(rn, "rule %q: duplicate name (first at line %d)", r.Name, seen[r.Name])
		default:
			seen[r.Name] = rn.Line
		}
		accepted, ok := l.kindAction(rn, resourceNode, actionNode, r)
		if ok {
			if whereNode != nil {
				l.where(whereNode, &r, filtersOf(accepted))
			}
			l.options(rn, &r, options, accepted)
		}
		f.Rules = append(f.Rules, r)
	}
}

// kindAction checks the rule's resource and action against the catalog and
// returns the filters that pair accepts. A missing key is reported at the
// rule's line (n), a wrong value at the value's own.
func (l *loader) kindAction(n, resource, action *yaml.Node, r Rule) ([]string, bool) {
	if r.Resource == "" {
		l.errorf(n, "rule %q: missing resource (valid: %s)", r.Name, strings.Join(keys(l.cat), ", "))
		return nil, false
	}
	actions, ok := l.cat[r.Resource]
	if !ok {
		l.errorf(resource, "rule %q: unknown resource %q (valid: %s)", r.Name, r.Resource, strings.Join(keys(l.cat), ", "))
		return nil, false
	}
	filters, ok := actions[r.Action]
	if r.Action == "" {
		l.errorf(n, "rule %q: missing action (valid for %s: %s)", r.Name, r.Resource, strings.Join(keys(actions), ", "))
		return nil, false
	}
	if !ok {
		l.errorf(action, "rule %q: %s has no action %q (valid: %s)", r.Name, r.Resource, r.Action, strings.Join(keys(actions), ", "))
		return nil, false
	}
	return filters, true
}

func (l *loader) where(n *yaml.Node, r *Rule, filters []string) {
	what := fmt.Sprintf("rule %q: where", r.Name)
	if len(filters) == 0 {
		l.errorf(n, "%s: %s %s takes no filters", what, r.Resource, r.Action)
		return
	}
	l.mapping(n, what, filters, func(key string, _, v *yaml.Node) {
		switch key {
		case "older-than":
			d, err := ParseAge(l.str(v, what+".older-than"))
			if err != nil {
				l.errorf(v, "%s.older-than: %v", what, err)
			}
			r.Where.OlderThan = d
		case "tags":
			r.Where.Tags = l.stringMap(v, what+".tags")
		case "unattached", "unused", "unassociated", "untagged", "empty":
			if r.Where.Flags == nil {
				r.Where.Flags = map[string]bool{}
			}
			r.Where.Flags[key] = l.boolean(v, what+"."+key)
		case "state":
			r.Where.State = l.str(v, what+".state")
			if r.Where.State != "" && !slices.Contains(States, r.Where.State) {
				l.errorf(v, "%s.state: %q is not one of %s", what, r.Where.State, strings.Join(States, ", "))
			}
		case "repository":
			r.Where.Repository = l.str(v, what+".repository")
			if _, err := path.Match(r.Where.Repository, ""); err != nil {
				l.errorf(v, "%s.repository: %q is not a valid glob: %v", what, r.Where.Repository, err)
			}
		case "keep-last":
			n, err := strconv.Atoi(l.str(v, what+".keep-last"))
			if v.Kind == yaml.ScalarNode && (err != nil || n < 1 || v.Tag != "!!int") {
				l.errorf(v, "%s.keep-last: want a whole number of images, 1 or more, got %s", what, describe(v))
			}
			r.Where.KeepLast = n
		case "name":
			glob := l.str(v, what+".name")
			if _, err := path.Match(glob, ""); err != nil {
				l.errorf(v, "%s.name: bad glob %q (path.Match syntax: * ? [a-z] \\x)", what, glob)
			} else if glob == "" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				l.errorf(v, "%s.name: empty glob (\"*\" is any name)", what)
			}
			r.Where.Name = glob
		case "missing-tags":
			r.Where.MissingTags = l.strings(v, what+".missing-tags")
			if v.Kind == yaml.SequenceNode && len(r.Where.MissingTags) == 0 {
				l.errorf(v, "%s.missing-tags: empty list", what)
			}
		default:
			l.errorf(v, "%s: filter %q is not supported yet", what, key)
		}
	})
}

// options reads a rule's option keys, each allowed only where the catalog
// says the rule's kind and action take it, and checks the required ones.
func (l *loader) options(rn *yaml.Node, r *Rule, options map[string][2]*yaml.Node, accepted []string) {
	what := fmt.Sprintf("rule %q", r.Name)
	for _, key := range OptionKeys {
		kv, ok := options[key]
		if !ok {
			continue
		}
		k, v := kv[0], kv[1]
		if !slices.Contains(accepted, key) {
			l.errorf(k, "%s: %s %s does not take %q", what, r.Resource, r.Action, key)
			continue
		}
		switch key {
		case "set":
			if sets := settingsOf(accepted); len(sets) > 0 {
				r.Set = l.updateSet(v, what+": set", sets)
				break
			}
			r.Set = l.stringMap(v, what+": set")
		case "bucket":
			if r.Bucket = l.str(v, what+": bucket"); r.Bucket != "" && !bucketPattern.MatchString(r.Bucket) {
				l.errorf(v, "%s: bucket %q is not a valid S3 bucket name", what, r.Bucket)
			}
		case "region":
			if r.Region = l.str(v, what+": region"); r.Region != "" && !regionPattern.MatchString(r.Region) {
				l.errorf(v, "%s: region %q is not an AWS region name", what, r.Region)
			}
		case "settings":
			r.Settings = l.settings(v, what+": settings")
		case "snapshot-first":
			r.SnapshotFirst = l.boolean(v, what+": snapshot-first")
		}
	}
	if sets := settingsOf(accepted); len(sets) > 0 {
		if r.Set == nil {
			l.errorf(rn, "%s: an %s rule needs set: {%s}", what, r.Action, strings.Join(required(sets), ", "))
		}
	} else if slices.Contains(accepted, "set") && len(r.Set) == 0 {
		l.errorf(rn, "%s: a %s rule needs set: {Key: value, …}", what, r.Action)
	}
	if slices.Contains(accepted, "bucket") && r.Bucket == "" {
		l.errorf(rn, "%s: an %s rule needs bucket: NAME", what, r.Action)
	}
}

// bucketSettings are the settings an ensure rule may converge, with the
// values each accepts.
var bucketSettings = map[string][]string{
	"versioning":          {"true", "false"},
	"block-public-access": {"true", "false"},
	"encryption":          {"AES256", "aws:kms"},
}

func (l *loader) settings(n *yaml.Node, what string) map[string]string {
	out := map[string]string{}
	l.mapping(n, what, keys(bucketSettings), func(key string, _, v *yaml.Node) {
		val := l.str(v, what+"."+key)
		if !slices.Contains(bucketSettings[key], val) {
			l.errorf(v, "%s.%s: %q is not one of %s", what, key, val, strings.Join(bucketSettings[key], ", "))
			return
		}
		out[key] = val
	})
	return out
}

// setting is what an update's set: takes for one key (see Catalog).
type setting struct {
	key      string
	values   []string // one of these; else a whole number in min..max
	min, max int
	required bool
}

// settingsOf reads the update settings among a rule's accepted options.
func settingsOf(accepted []string) []setting {
	var out []setting
	for _, a := range accepted {
		if !IsSetting(a) {
			continue
		}
		spec := strings.TrimPrefix(a, "set.")
		key, values, _ := strings.Cut(spec, "=")
		s := setting{key: strings.TrimSuffix(key, "?"), required: !strings.HasSuffix(key, "?")}
		if lo, hi, isRange := strings.Cut(values, ".."); isRange {
			s.min, _ = strconv.Atoi(lo)
			s.max, _ = strconv.Atoi(hi)
		} else {
			s.values = strings.Split(values, "|")
		}
		out = append(out, s)
	}
	return out
}

// IsSetting reports whether a catalog entry is an update's setting
// (set.KEY=…), not a filter or option.
func IsSetting(entry string) bool { return strings.HasPrefix(entry, "set.") }

// filtersOf is the where-filters among a rule's accepted keys.
func filtersOf(accepted []string) []string {
	return slices.DeleteFunc(without(accepted, OptionKeys), IsSetting)
}

// required lists the keys an update's set: must name, as key: value.
func required(sets []setting) []string {
	var out []string
	for _, s := range sets {
		if s.required {
			out = append(out, s.key+": "+strings.Join(s.values, "|"))
		}
	}
	return out
}

// updateSet reads an update's set: each key one the kind takes, with a
// value it accepts, and the required keys present.
func (l *loader) updateSet(n *yaml.Node, what string, sets []setting) map[string]string {
	out := map[string]string{}
	byKey := map[string]setting{}
	var known []string
	for _, s := range sets {
		byKey[s.key] = s
		known = append(known, s.key)
	}
	l.mapping(n, what, known, func(key string, _, v *yaml.Node) {
		s, val := byKey[key], l.str(v, what+"."+key)
		if len(s.values) > 0 {
			if !slices.Contains(s.values, val) {
				l.errorf(v, "%s.%s: %q is not one of %s", what, key, val, strings.Join(s.values, ", "))
				return
			}
		} else if i, err := strconv.Atoi(val); err != nil || i < s.min || i > s.max {
			l.errorf(v, "%s.%s: want a whole number from %d to %d, got %s", what, key, s.min, s.max, describe(v))
			return
		}
		out[key] = val
	})
	if n.Kind != yaml.MappingNode {
		return out
	}
	for _, s := range sets {
		if _, ok := out[s.key]; !ok && s.required && valueOf(n, s.key) == nil {
			l.errorf(n, "%s: missing %s (one of %s)", what, s.key, strings.Join(s.values, ", "))
		}
	}
	return out
}

func (l *loader) boolean(n *yaml.Node, what string) bool {
	b, err := strconv.ParseBool(l.str(n, what))
	if n.Kind == yaml.ScalarNode && (err != nil || n.Tag != "!!bool") {
		l.errorf(n, "%s: want true or false, got %s", what, describe(n))
	}
	return b
}

func without(list, drop []string) []string {
	out := []string{} // never nil: mapping reads nil as "any key"
	for _, s := range list {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
