package resource

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// This file builds the least-privilege policy for a config's rules (broom
// iam-policy) from what each kind's Spec says it needs of IAM (Spec.IAM, in
// the kind's own file). The grants are checked against the API calls the
// kinds really make by the conformance suite and TestIAMCoversCalls, which
// run every kind and action against moto through a recorder.

// Access is what one action of a kind needs of IAM.
type Access struct {
	// Plan is what listing, re-reading and comparing need: reads only, so
	// that a role for plan-only runs can change nothing.
	Plan []Grant
	// Apply is what carrying out the action needs beyond Plan.
	Apply []Grant
	// With adds what a rule option or an ensure setting needs, by its name
	// ("snapshot-first", "versioning", …), when a rule sets it.
	With map[string]Access
}

// Grant allows IAM actions on resources, under a condition. The grants of
// all the rules that share a Sid become one statement: their actions,
// resources and condition values are joined.
type Grant struct {
	Sid       string
	Actions   []string
	Resources []string // ARN patterns; ignored with PerBucket
	Condition Condition
	// PerBucket grants on the rule's bucket only (arn:aws:s3:::NAME), in a
	// statement of its own: Sid is followed by the bucket's name.
	PerBucket bool
	// RuleTagKeys allows only the tag keys the rule sets, and broom:change
	// (aws:TagKeys).
	RuleTagKeys bool
	// RuleResourceTags allows the actions only on resources that carry the
	// rule's where-tags (aws:ResourceTag), in a statement of its own per
	// set of tags: joined with another rule's, the conditions would mean
	// neither rule.
	RuleResourceTags bool
}

// Condition is an IAM condition block: operator → condition key → values.
type Condition map[string]map[string]Values

// Values is a list of strings that is written as a single string when it
// has one element, as IAM's own examples are.
type Values []string

// MarshalJSON writes one value as a string, more as an array.
func (v Values) MarshalJSON() ([]byte, error) {
	if len(v) == 1 {
		return json.Marshal(v[0])
	}
	return json.Marshal([]string(v))
}

// ARN patterns are the commercial partition's ("aws"), with region and
// account as wildcards: regions come from the config or the command line,
// and with accounts: the same policy goes on every account's role.

// stampedRequest requires a request to set the broom:change tag (SPEC §1): every
// tag write broom makes does, so a leaked role cannot tag unmarked.
var stampedRequest = Condition{"Null": {"aws:RequestTag/" + changeTag: {"false"}}}

// readEC2 grants EC2 Describe calls, which take no resource ARNs and no
// conditions that would narrow them.
func readEC2(actions ...string) Grant {
	return Grant{Sid: "ReadEC2", Actions: actions, Resources: []string{"*"}}
}

// tagEC2Grant grants the tag action on one resource type: CreateTags with
// broom:change in the request and only the keys the rules set.
func tagEC2Grant(sid, arn string) Grant {
	return Grant{Sid: sid, Actions: []string{"ec2:CreateTags"}, Resources: []string{arn}, Condition: stampedRequest, RuleTagKeys: true}
}

// identityActions are what every run needs, planning included, to learn
// which account it is in and what the account is called. Neither takes a
// resource ARN.
var identityActions = []string{"sts:GetCallerIdentity", "iam:ListAccountAliases"}

// Use is how one rule uses a kind, as far as IAM is concerned.
type Use struct {
	Kind, Action string
	// With names the rule's options and settings that need more access:
	// "snapshot-first", the keys of an ensure rule's settings, …
	With []string
	// TagKeys are the keys a tag action sets.
	TagKeys []string
	// WhereTags are the rule's where-tags ("*" any value).
	WhereTags map[string]string
	// Bucket is the bucket an ensure rule names.
	Bucket string
}

// PolicyOptions say what else a policy is for.
type PolicyOptions struct {
	// Roles are the ARNs of the account roles broom assumes (accounts:).
	Roles []string
	// PlanOnly leaves out what applying needs: a policy for a role that
	// only ever plans.
	PlanOnly bool
	// AllRegions (regions: all) adds ec2:DescribeRegions: the run asks
	// EC2 which regions are enabled for each account.
	AllRegions bool
	// ProtectTags are the config's protect tags ("*" any value): the
	// policy denies every action that removes or changes a resource by
	// its tags (the grants with RuleResourceTags) on a resource carrying
	// one, so protect holds in IAM too.
	ProtectTags map[string]string
	// Organization (accounts: organization) adds what finding the accounts
	// in AWS Organizations needs; Roles then holds the role pattern, its
	// {account} written *.
	Organization bool
}

// organizationActions are the calls that find an organization's accounts.
var organizationActions = []string{"organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren"}

// PolicyDocument is an IAM policy.
type PolicyDocument struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a PolicyDocument.
type Statement struct {
	Sid       string
	Effect    string
	Action    Values
	Resource  Values
	Condition Condition `json:",omitempty"`
}

// Policy returns the least-privilege IAM policy for uses: what the kinds
// need for their actions, sts:GetCallerIdentity (broom checks which
// account it is in), iam:ListAccountAliases (the report names the account
// by its alias; without the grant, by its id alone) and sts:AssumeRole on
// the account roles, and with regions: all ec2:DescribeRegions. Statements
// are sorted by Sid, and everything in them is sorted, so the same rules
// give the same text.
func Policy(uses []Use, o PolicyOptions) (PolicyDocument, error) {
	b := policyBuilder{}
	var denied []string // actions that act on a resource by its tags
	b.add(Grant{Sid: "Identity", Actions: identityActions, Resources: []string{"*"}}, Use{})
	if len(o.Roles) > 0 {
		b.add(Grant{Sid: "AssumeAccountRoles", Actions: []string{"sts:AssumeRole"}, Resources: o.Roles}, Use{})
	}
	if o.Organization {
		b.add(Grant{Sid: "DiscoverAccounts", Actions: organizationActions, Resources: []string{"*"}}, Use{})
	}
	if o.AllRegions {
		b.add(Grant{Sid: "EnabledRegions", Actions: []string{"ec2:DescribeRegions"}, Resources: []string{"*"}}, Use{})
	}
	for _, u := range uses {
		spec, err := Lookup(u.Kind)
		if err != nil {
			return PolicyDocument{}, err
		}
		acc, ok := spec.IAM[u.Action]
		if !ok {
			return PolicyDocument{}, fmt.Errorf("resource kind %s has no action %q", u.Kind, u.Action)
		}
		if u.Bucket == "" && needsBucket(acc) {
			return PolicyDocument{}, fmt.Errorf("%s %s names no bucket", u.Kind, u.Action)
		}
		parts := []Access{acc}
		for _, w := range u.With {
			if more, ok := acc.With[w]; ok {
				parts = append(parts, more)
			}
		}
		for _, p := range parts {
			grants := p.Plan
			if !o.PlanOnly {
				grants = append(slices.Clip(grants), p.Apply...)
			}
			for _, g := range grants {
				b.add(g, u)
				if g.RuleResourceTags {
					denied = append(denied, g.Actions...)
				}
			}
		}
	}
	b.denyProtected(o.ProtectTags, denied)
	return b.document(), nil
}

// denyProtected adds one Deny statement per protect tag (separate
// statements: a resource with any of the tags is protected) over the
// actions that act on a resource by its tags.
func (b policyBuilder) denyProtected(tags map[string]string, actions []string) {
	if len(actions) == 0 {
		return
	}
	for _, k := range sortedKeys(tags) {
		op, v, says := "StringEquals", tags[k], tags[k]
		if v == "*" {
			op, v, says = "Null", "false", "any"
		}
		s := &statementSet{effect: "Deny", actions: map[string]bool{}, resources: map[string]bool{"*": true},
			condition: map[string]map[string]map[string]bool{op: {"aws:ResourceTag/" + k: {v: true}}}}
		for _, a := range actions {
			s.actions[a] = true
		}
		b["DenyProtected"+pascal(k+" "+says)] = s
	}
}

func needsBucket(a Access) bool {
	for _, g := range slices.Concat(a.Plan, a.Apply) {
		if g.PerBucket {
			return true
		}
	}
	return false
}

// policyBuilder joins grants into statements by Sid.
type policyBuilder map[string]*statementSet

type statementSet struct {
	effect             string // "" is Allow
	actions, resources map[string]bool
	condition          map[string]map[string]map[string]bool
}

func (b policyBuilder) add(g Grant, u Use) {
	sid, resources := g.Sid, g.Resources
	if g.PerBucket {
		sid += pascal(u.Bucket)
		resources = []string{"arn:aws:s3:::" + u.Bucket}
	}
	var tagged Condition
	if g.RuleResourceTags && len(u.WhereTags) > 0 {
		tagged = Condition{}
		var name []string
		for _, k := range sortedKeys(u.WhereTags) {
			op, v, says := "StringEquals", u.WhereTags[k], u.WhereTags[k]
			if v == "*" {
				op, v, says = "Null", "false", "any" // the key, any value
			}
			if tagged[op] == nil {
				tagged[op] = map[string]Values{}
			}
			tagged[op]["aws:ResourceTag/"+k] = Values{v}
			name = append(name, k, says)
		}
		// Two sets of tags that spell the same Sid join into one statement
		// that requires both: safe, never wider.
		sid += "Tagged" + pascal(strings.Join(name, " "))
	}
	s := b[sid]
	if s == nil {
		s = &statementSet{actions: map[string]bool{}, resources: map[string]bool{}, condition: map[string]map[string]map[string]bool{}}
		b[sid] = s
	}
	cond := g.Condition
	if g.RuleTagKeys {
		cond = Condition{"ForAllValues:StringEquals": {"aws:TagKeys": append([]string{changeTag}, u.TagKeys...)}}
		for op, keys := range g.Condition {
			cond[op] = keys
		}
	}
	if tagged != nil {
		for op, keys := range cond { // key by key: both may use Null
			if tagged[op] == nil {
				tagged[op] = map[string]Values{}
			}
			for k, v := range keys {
				tagged[op][k] = v
			}
		}
		cond = tagged
	}
	for _, a := range g.Actions {
		s.actions[a] = true
	}
	for _, r := range resources {
		s.resources[r] = true
	}
	for op, keys := range cond {
		if s.condition[op] == nil {
			s.condition[op] = map[string]map[string]bool{}
		}
		for key, values := range keys {
			if s.condition[op][key] == nil {
				s.condition[op][key] = map[string]bool{}
			}
			for _, v := range values {
				s.condition[op][key][v] = true
			}
		}
	}
}

func (b policyBuilder) document() PolicyDocument {
	doc := PolicyDocument{Version: "2012-10-17"}
	for _, sid := range slices.Sorted(maps.Keys(b)) {
		s := b[sid]
		st := Statement{Sid: sid, Effect: cmp.Or(s.effect, "Allow"), Action: slices.Sorted(maps.Keys(s.actions)), Resource: slices.Sorted(maps.Keys(s.resources))}
		if len(s.condition) > 0 {
			st.Condition = Condition{}
			for op, keys := range s.condition {
				st.Condition[op] = map[string]Values{}
				for key, values := range keys {
					st.Condition[op][key] = slices.Sorted(maps.Keys(values))
				}
			}
		}
		doc.Statement = append(doc.Statement, st)
	}
	return doc
}

// pascal turns a bucket name into letters and digits for a Sid:
// "acme-ci-artifacts" → "AcmeCiArtifacts".
func pascal(s string) string {
	var out strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if up {
				r = unicode.ToUpper(r)
			}
			out.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return out.String()
}

// iamActions returns the IAM actions an API operation needs, the
// operation named "service:Operation" by its SigV4 signing name as broom
// calls it: what a kind's Spec.IAMNames says, or the action named alike.
// The tests map every call they record through it.
func iamActions(op string) []string {
	for _, s := range registry {
		if a, ok := s.IAMNames[op]; ok {
			return a
		}
	}
	return []string{op}
}
