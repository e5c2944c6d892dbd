// The JSON Schema in schema/broom.schema.json is what editors use to
// complete and check .github/broom.yml. These tests keep it in step with the
// loader: the same keys at every level, the same resource kinds, actions and
// filters as the catalog, and the same verdict on valid and invalid files.
//
// They are an external test package so that importing internal/resource
// (for its catalog) can never become an import cycle.
package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/resource"
)

const schemaFile = "../../schema/broom.schema.json"

// brSchema is the schema, both compiled (to validate) and as plain JSON
// (to read its structure).
type brSchema struct {
	compiled *jsonschema.Schema
	root     map[string]any
}

func loadSchema(t *testing.T) brSchema {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("%s: want an object", schemaFile)
	}
	if got, want := root["$schema"], "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema = %v, want %s", got, want)
	}
	id, _ := root["$id"].(string)
	if id == "" {
		t.Fatalf("%s: no $id", schemaFile)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	compiled, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return brSchema{compiled: compiled, root: root}
}

// validate checks a YAML document against the schema, the way an editor
// does: YAML → JSON values.
func (s brSchema) validate(t *testing.T, doc string) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("test document is not YAML: %v\n%s", err, doc)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("test document has no JSON form: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.compiled.Validate(inst)
}

// node returns the object at a local JSON pointer such as "#/$defs/rule".
func (s brSchema) node(t *testing.T, ptr string) map[string]any {
	t.Helper()
	if !strings.HasPrefix(ptr, "#/") {
		t.Fatalf("only local references are supported, got %q", ptr)
	}
	var cur any = s.root
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %q is not inside an object", ptr, tok)
		}
		if cur, ok = m[tok]; !ok {
			t.Fatalf("%s: no %q", ptr, tok)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object", ptr)
	}
	return m
}

// deref follows a node's $ref chain to the node that holds the keywords.
func (s brSchema) deref(t *testing.T, n map[string]any) map[string]any {
	t.Helper()
	for i := 0; i < 10; i++ {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		n = s.node(t, ref)
	}
	t.Fatalf("$ref chain too long at %v", n)
	return nil
}

// keyword finds a keyword on a node or along its $ref chain: in 2020-12 a
// $ref sits beside other keywords, such as a description or examples.
func (s brSchema) keyword(t *testing.T, n map[string]any, key string) (any, bool) {
	t.Helper()
	for i := 0; i < 10; i++ {
		if v, ok := n[key]; ok {
			return v, true
		}
		ref, ok := n["$ref"].(string)
		if !ok {
			return nil, false
		}
		n = s.node(t, ref)
	}
	t.Fatalf("$ref chain too long at %v", n)
	return nil, false
}

func child(t *testing.T, n map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, p := range path {
		m, ok := n[p].(map[string]any)
		if !ok {
			t.Fatalf("schema: no object %q in %v", strings.Join(path, "."), n)
		}
		n = m
	}
	return n
}

func propertyNames(n map[string]any) []string {
	props, _ := n["properties"].(map[string]any)
	out := make([]string, 0, len(props))
	for k := range props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func enumStrings(t *testing.T, n map[string]any) []string {
	t.Helper()
	list, ok := n["enum"].([]any)
	if !ok {
		t.Fatalf("schema: want an enum in %v", n)
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	sort.Strings(out)
	return out
}

// branches reads an allOf of {if: {properties: {<key>: {const: X}}}, then: …}
// into X → then.
func branches(t *testing.T, n map[string]any, key string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	all, _ := n["allOf"].([]any)
	for _, b := range all {
		bm, _ := b.(map[string]any)
		ifNode, _ := bm["if"].(map[string]any)
		then, _ := bm["then"].(map[string]any)
		cond := child(t, ifNode, "properties", key)
		x, ok := cond["const"].(string)
		if !ok || then == nil {
			t.Fatalf("schema: allOf branch %v: want if.properties.%s.const and then", bm, key)
		}
		if req, _ := ifNode["required"].([]any); !slices.Contains(req, any(key)) {
			// Without required, a rule lacking the key would match every branch.
			t.Errorf("schema: allOf branch for %s %q: if must require %q", key, x, key)
		}
		if _, dup := out[x]; dup {
			t.Errorf("schema: two allOf branches for %s %q", key, x)
		}
		out[x] = then
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var validKeys = regexp.MustCompile(`unknown key "x-probe" \(valid: ([^)]*)\)`)

// loaderKeys asks the loader which keys it accepts where doc puts the
// unknown key x-probe: its message lists the valid ones. That reads the
// loader's own lists (topKeys, ruleKeys, protect's, the catalog's filters)
// without reaching into the package.
func loaderKeys(t *testing.T, doc string) []string {
	t.Helper()
	_, err := config.Parse("probe.yml", []byte(doc), resource.Catalog())
	for _, p := range config.AsProblems(err) {
		if m := validKeys.FindStringSubmatch(p.Msg); m != nil {
			keys := strings.Split(m[1], ", ")
			sort.Strings(keys)
			return keys
		}
	}
	t.Fatalf("the loader did not reject x-probe with a list of valid keys; problems: %v\n%s", err, doc)
	return nil
}

func probeRule(kind, action, where string) string {
	return fmt.Sprintf("rules:\n  - name: probe\n    resource: %s\n    action: %s\n    where: %s\n", kind, action, where)
}

// anyAction returns an action the kind accepts, for probing rule keys.
func anyAction(cat map[string]map[string][]string) (string, string) {
	for _, k := range sortedKeys(cat) {
		for _, a := range sortedKeys(cat[k]) {
			return k, a
		}
	}
	return "", ""
}

func TestSchemaKeysMatchLoader(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	cat := resource.Catalog()
	kind, action := anyAction(cat)
	if kind == "" {
		t.Fatal("resource.Catalog() is empty")
	}
	rule := child(t, s.root, "$defs", "rule")
	for _, tc := range []struct {
		where  string
		loader string         // a document with x-probe where the keys are asked
		schema map[string]any // the schema object that lists them
	}{
		{"top level", "version: 1\nx-probe: 1\n", s.root},
		{"protect", "protect: {x-probe: 1}\n", s.deref(t, child(t, s.root, "properties", "protect"))},
		{"accounts", "accounts: [{x-probe: 1}]\n", s.deref(t, child(t, s.root, "properties", "accounts", "items"))},
		{"rule", fmt.Sprintf("rules:\n  - {name: probe, resource: %s, action: %s, x-probe: 1}\n", kind, action), rule},
	} {
		if diff := cmp.Diff(loaderKeys(t, tc.loader), propertyNames(tc.schema)); diff != "" {
			t.Errorf("%s: keys the loader accepts (-) and the schema lists (+):\n%s", tc.where, diff)
		}
		if tc.schema["additionalProperties"] != false {
			t.Errorf("%s: the schema must set additionalProperties: false, as the loader refuses unknown keys", tc.where)
		}
	}

	// settings are read only for a pair that takes them.
	for _, k := range sortedKeys(cat) {
		for _, a := range sortedKeys(cat[k]) {
			if !slices.Contains(cat[k][a], "settings") {
				continue
			}
			doc := fmt.Sprintf("rules:\n  - {name: probe, resource: %s, action: %s, settings: {x-probe: 1}}\n", k, a)
			if diff := cmp.Diff(loaderKeys(t, doc), propertyNames(child(t, rule, "properties", "settings"))); diff != "" {
				t.Errorf("settings of %s %s: keys the loader accepts (-) and the schema lists (+):\n%s", k, a, diff)
			}
		}
	}

	var actions []string
	for _, a := range cat {
		for name := range a {
			if !slices.Contains(actions, name) {
				actions = append(actions, name)
			}
		}
	}
	sort.Strings(actions)
	if diff := cmp.Diff(sortedKeys(cat), enumStrings(t, s.deref(t, child(t, rule, "properties", "resource")))); diff != "" {
		t.Errorf("rule.resource: catalog kinds (-) and schema enum (+):\n%s", diff)
	}
	if diff := cmp.Diff(actions, enumStrings(t, s.deref(t, child(t, rule, "properties", "action")))); diff != "" {
		t.Errorf("rule.action: every catalog action (-) and schema enum (+):\n%s", diff)
	}
}

// TestSchemaFiltersMatchCatalog walks the schema's per-kind branches: rule
// → if resource = K → kind-K (its actions) → if action = A → rule-K-A (the
// rule keys the pair takes) → where-K-A (its filters), and compares each with
// the catalog and the loader. A rule of each pair using every filter and
// option it takes, with the schema's examples as values, must pass both.
func TestSchemaFiltersMatchCatalog(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	cat := resource.Catalog()
	ruleNode := child(t, s.root, "$defs", "rule")
	kinds := branches(t, ruleNode, "resource")
	if diff := cmp.Diff(sortedKeys(cat), sortedKeys(kinds)); diff != "" {
		t.Errorf("rule.allOf: catalog kinds (-) and kinds with a schema branch (+):\n%s", diff)
	}
	kind, action := anyAction(cat)
	var baseKeys []string // the rule keys every pair takes: name, resource, action, where
	for _, k := range loaderKeys(t, fmt.Sprintf("rules:\n  - {name: probe, resource: %s, action: %s, x-probe: 1}\n", kind, action)) {
		if !slices.Contains(config.OptionKeys, k) {
			baseKeys = append(baseKeys, k)
		}
	}
	for _, kind := range sortedKeys(cat) {
		then, ok := kinds[kind]
		if !ok {
			continue
		}
		kn := s.deref(t, then)
		if diff := cmp.Diff(sortedKeys(cat[kind]), enumStrings(t, s.deref(t, child(t, kn, "properties", "action")))); diff != "" {
			t.Errorf("%s: catalog actions (-) and schema action enum (+):\n%s", kind, diff)
		}
		acts := branches(t, kn, "action")
		if diff := cmp.Diff(sortedKeys(cat[kind]), sortedKeys(acts)); diff != "" {
			t.Errorf("%s: catalog actions (-) and actions with a schema branch (+):\n%s", kind, diff)
		}
		for _, action := range sortedKeys(cat[kind]) {
			then, ok := acts[action]
			if !ok {
				continue
			}
			name := kind + " " + action
			var filters, options []string
			for _, k := range cat[kind][action] {
				if config.IsSetting(k) { // an update's set: the pair's own set schema
					continue
				}
				if slices.Contains(config.OptionKeys, k) {
					options = append(options, k)
				} else {
					filters = append(filters, k)
				}
			}
			sort.Strings(filters)
			pair := s.deref(t, then)
			wantKeys := append(slices.Clone(baseKeys), options...)
			sort.Strings(wantKeys)
			if diff := cmp.Diff(wantKeys, enumStrings(t, child(t, pair, "propertyNames"))); diff != "" {
				t.Errorf("%s: rule keys the catalog allows (-) and the schema's propertyNames (+):\n%s", name, diff)
			}
			where := s.deref(t, child(t, pair, "properties", "where"))
			if diff := cmp.Diff(filters, propertyNames(where), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: catalog filters (-) and schema where properties (+):\n%s", name, diff)
			}
			if len(filters) > 0 {
				if diff := cmp.Diff(filters, loaderKeys(t, probeRule(kind, action, "{x-probe: 1}"))); diff != "" {
					t.Errorf("%s: catalog filters (-) and filters the loader accepts (+):\n%s", name, diff)
				}
			} else {
				// A pair without filters: the schema allows only an empty
				// where, so the loader must refuse every filter there too.
				lib := child(t, s.root, "$defs", "filters", "properties")
				for _, f := range sortedKeys(lib) {
					ex, _ := s.keyword(t, lib[f].(map[string]any), "examples")
					exs, _ := ex.([]any)
					if len(exs) == 0 {
						t.Errorf("filter %s has no examples", f)
						continue
					}
					w, _ := json.Marshal(map[string]any{f: exs[0]})
					_, err := config.Parse("probe.yml", []byte(probeRule(kind, action, string(w))), resource.Catalog())
					if !slices.ContainsFunc(config.AsProblems(err), func(p *config.Error) bool { return strings.Contains(p.Msg, "where") }) {
						t.Errorf("%s takes no filters, but the loader accepts where: %s (the schema refuses it)", name, w)
					}
				}
			}
			if where["additionalProperties"] != false {
				t.Errorf("%s: where must set additionalProperties: false", name)
			}

			rule := map[string]any{"name": "probe", "resource": kind, "action": action}
			example := func(what string, n any) any {
				nm, _ := n.(map[string]any)
				v, _ := s.keyword(t, nm, "examples")
				examples, _ := v.([]any)
				if len(examples) == 0 {
					t.Errorf("%s: %s has no examples", name, what)
					return nil
				}
				return examples[0]
			}
			if len(filters) > 0 {
				w := map[string]any{}
				props, _ := where["properties"].(map[string]any)
				for _, f := range filters {
					w[f] = example("filter "+f, props[f])
				}
				rule["where"] = w
			}
			pairProps, _ := pair["properties"].(map[string]any)
			for _, o := range options {
				if own, ok := pairProps[o]; ok { // the pair's own schema of the option (an update's set)
					rule[o] = example("option "+o, own)
					continue
				}
				rule[o] = example("option "+o, child(t, ruleNode, "properties", o))
			}
			data, err := json.Marshal(map[string]any{"version": 1, "rules": []any{rule}})
			if err != nil {
				t.Fatal(err)
			}
			doc := string(data) // JSON is YAML
			if err := s.validate(t, doc); err != nil {
				t.Errorf("%s: the schema rejects a rule made of its own examples: %v\n%s", name, err, doc)
			}
			if _, err := config.Parse("example.yml", data, resource.Catalog()); err != nil {
				t.Errorf("%s: the loader rejects a rule made of the schema's examples: %v\n%s", name, err, doc)
			}
		}
	}
}

// TestSchemaDescribesEveryKey: editors show a key's description as help.
func TestSchemaDescribesEveryKey(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch n := n.(type) {
		case []any:
			for i, c := range n {
				walk(fmt.Sprintf("%s/%d", path, i), c)
			}
		case map[string]any:
			for k, c := range n {
				switch k {
				case "if", "examples", "enum", "const":
					continue // conditions and values, not keys a user writes
				case "properties":
					props, _ := c.(map[string]any)
					for name, p := range props {
						pm, _ := p.(map[string]any)
						if d, _ := s.keyword(t, pm, "description"); d == nil || d == "" {
							t.Errorf("%s/properties/%s: no description", path, name)
						}
					}
				}
				walk(path+"/"+k, c)
			}
		}
	}
	walk("#", s.root)
}

// keepKnownRules drops the rules whose resource and action the catalog does
// not know yet, and says which.
func keepKnownRules(t *testing.T, doc string) string {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	cat := resource.Catalog()
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "rules" {
			continue
		}
		rules := top.Content[i+1]
		var kept []*yaml.Node
		for _, r := range rules.Content {
			var rr struct{ Name, Resource, Action string }
			if err := r.Decode(&rr); err != nil {
				t.Fatal(err)
			}
			if _, ok := cat[rr.Resource][rr.Action]; ok {
				kept = append(kept, r)
			} else {
				t.Logf("SPEC §3 rule %s left out: the catalog has no %s %s yet", rr.Name, rr.Resource, rr.Action)
			}
		}
		if len(kept) == 0 {
			t.Fatal("no rule of the SPEC §3 example is in the catalog")
		}
		rules.Content = kept
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSchemaSpecExample(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	doc := keepKnownRules(t, config.SpecExample(t))
	if err := s.validate(t, doc); err != nil {
		t.Errorf("schema rejects the SPEC §3 example: %v\n%s", err, doc)
	}
	f, err := config.Parse("broom.yml", []byte(doc), resource.Catalog())
	if err != nil {
		t.Fatalf("config.Parse rejects the SPEC §3 example: %v\n%s", err, doc)
	}
	if f.ID != "prod" || len(f.Rules) == 0 {
		t.Errorf("parsed id %q with %d rules, want id prod and rules", f.ID, len(f.Rules))
	}
}

// TestSchemaExampleConfigs: every examples/*.yml policy file passes both.
func TestSchemaExampleConfigs(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	files, err := filepath.Glob("../../examples/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no examples/*.yml")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "# yaml-language-server: $schema=") {
			t.Errorf("%s: no yaml-language-server $schema line for editors", file)
		}
		if err := s.validate(t, string(data)); err != nil {
			t.Errorf("%s: schema: %v", file, err)
		}
		if _, err := config.Parse(file, data, resource.Catalog()); err != nil {
			t.Errorf("%s: loader: %v", file, err)
		}
	}
}

// TestSchemaAgreesWithLoader: the schema and the loader give the same
// verdict, document by document.
func TestSchemaAgreesWithLoader(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	kind, action := anyAction(resource.Catalog())
	rule := func(extra string) string {
		return fmt.Sprintf("rules:\n  - name: r1\n    resource: %s\n    action: %s\n%s", kind, action, extra)
	}
	for name, tc := range map[string]struct {
		doc   string
		valid bool
	}{
		"minimal file":                  {doc: "version: 1\n", valid: true},
		"quoted version":                {doc: "version: \"1\"\n", valid: true},
		"full top level":                {doc: "version: 1\nid: ci.nightly\nregions: [us-east-1]\nmax-actions: 5\ntimeout: 90s\nprotect: {ids: [i-1], tags: {keep: \"*\"}}\ntags: {Owner: me}\n", valid: true},
		"rule without where":            {doc: rule(""), valid: true},
		"accounts":                      {doc: "accounts:\n  - {id: \"123456789012\", role: \"arn:aws:iam::123456789012:role/broom\"}\n", valid: true},
		"account id too short":          {doc: "accounts:\n  - {id: \"12345\", role: \"arn:aws:iam::123456789012:role/broom\"}\n"},
		"account role not an ARN":       {doc: "accounts:\n  - {id: \"123456789012\", role: broom}\n"},
		"account without role":          {doc: "accounts:\n  - {id: \"123456789012\"}\n"},
		"unknown account key":           {doc: "accounts:\n  - {id: \"123456789012\", role: \"arn:aws:iam::123456789012:role/broom\", external-id: x}\n"},
		"allowed-accounts":              {doc: "allowed-accounts: [\"123456789012\", 210987654321]\n", valid: true},
		"allowed-accounts short id":     {doc: "allowed-accounts: [\"12345\"]\n"},
		"allowed-accounts alias":        {doc: "allowed-accounts: [acme-prod]\n"},
		"allowed-accounts empty":        {doc: "allowed-accounts: []\n"},
		"allowed-accounts not a list":   {doc: "allowed-accounts: \"123456789012\"\n"},
		"option the pair does not take": {doc: rule("    snapshot-first: true\n")},
		"tag rule":                      {doc: "rules:\n  - {name: r1, resource: ebs-volume, action: tag, where: {missing-tags: [Owner], unattached: false}, set: {Owner: me}}\n", valid: true},
		"tag rule without set":          {doc: "rules:\n  - {name: r1, resource: ebs-volume, action: tag, where: {missing-tags: [Owner]}}\n"},
		"tag rule with empty set":       {doc: "rules:\n  - {name: r1, resource: ami, action: tag, set: {}}\n"},
		"empty missing-tags":            {doc: "rules:\n  - {name: r1, resource: ami, action: tag, where: {missing-tags: []}, set: {Owner: me}}\n"},
		"quoted yes/no filter":          {doc: "rules:\n  - {name: r1, resource: elastic-ip, action: delete, where: {unassociated: \"true\"}}\n"},
		"filter of another kind":        {doc: "rules:\n  - {name: r1, resource: elastic-ip, action: delete, where: {unattached: true}}\n"},
		"ensure rule":                   {doc: "rules:\n  - {name: r1, resource: s3-bucket, action: ensure, bucket: acme-logs, region: eu-west-1, settings: {versioning: true, encryption: \"aws:kms\"}}\n", valid: true},
		"ensure rule without bucket":    {doc: "rules:\n  - {name: r1, resource: s3-bucket, action: ensure, settings: {versioning: true}}\n"},
		"bad bucket name":               {doc: "rules:\n  - {name: r1, resource: s3-bucket, action: ensure, bucket: Acme_Logs}\n"},
		"unknown bucket setting":        {doc: "rules:\n  - {name: r1, resource: s3-bucket, action: ensure, bucket: acme-logs, settings: {lifecycle: 30d}}\n"},
		"bad encryption setting":        {doc: "rules:\n  - {name: r1, resource: s3-bucket, action: ensure, bucket: acme-logs, settings: {encryption: DES}}\n"},
		"unknown top-level key":         {doc: "version: 1\nregion: us-east-1\n"},
		"unknown protect key":           {doc: "protect: {names: [x]}\n"},
		"unknown rule key":              {doc: rule("    when: always\n")},
		"unknown filter":                {doc: rule("    where: {older: 30d}\n")},
		"older-than in minutes":         {doc: rule("    where: {older-than: 6m}\n")},
		"older-than without unit":       {doc: rule("    where: {older-than: 30}\n")},
		"older-than with two units":     {doc: rule("    where: {older-than: 1d12h}\n")},
		"timeout in days":               {doc: "timeout: 1d\n"},
		"zero timeout":                  {doc: "timeout: 0m\n"},
		"timeout without unit":          {doc: "timeout: 900\n"},
		"unsupported version":           {doc: "version: 2\n"},
		"bad id":                        {doc: "id: -prod\n"},
		"bad region":                    {doc: "regions: [US-EAST-1]\n"},
		"regions not a list":            {doc: "regions: us-east-1\n"},
		"zero max-actions":              {doc: "max-actions: 0\n"},
		"reserved aws: tag":             {doc: "tags: {aws:owner: me}\n"},
		"tag without value":             {doc: "tags: {Owner: }\n"},
		"unknown resource":              {doc: "rules:\n  - {name: r1, resource: lambda-function, action: delete}\n"},
		"unknown action for the kind":   {doc: fmt.Sprintf("rules:\n  - {name: r1, resource: %s, action: explode}\n", kind)},
		"rule without name":             {doc: fmt.Sprintf("rules:\n  - {resource: %s, action: %s}\n", kind, action)},
		"rule without action":           {doc: fmt.Sprintf("rules:\n  - {name: r1, resource: %s}\n", kind)},
		"rule name with a space":        {doc: fmt.Sprintf("rules:\n  - {name: my rule, resource: %s, action: %s}\n", kind, action)},
		"rules not a list":              {doc: "rules: {name: r1}\n"},
		"where not a mapping":           {doc: rule("    where: [older-than]\n")},
		"protect ids not a list":        {doc: "protect: {ids: snap-1}\n"},
		"empty rule list item":          {doc: "rules: [~]\n"},
		"protect tags with empty key":   {doc: "protect: {tags: {\"\": x}}\n"},
		"tags not a mapping":            {doc: "tags: [Owner]\n"},
		"older-than not a string/list":  {doc: rule("    where: {older-than: [30d]}\n")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			judgeAlike(t, s, tc.doc, tc.valid)
		})
	}
}

// judgeAlike checks that the schema and the loader both accept doc (valid)
// or both reject it: an editor must never pass what broom refuses.
func judgeAlike(t *testing.T, s brSchema, doc string, valid bool) {
	t.Helper()
	schemaErr := s.validate(t, doc)
	_, loadErr := config.Parse("broom.yml", []byte(doc), resource.Catalog())
	if valid {
		if schemaErr != nil {
			t.Errorf("schema rejects it: %v", schemaErr)
		}
		if loadErr != nil {
			t.Errorf("loader rejects it: %v", loadErr)
		}
		return
	}
	if schemaErr == nil {
		t.Errorf("schema accepts it; the loader says: %v", loadErr)
	}
	if loadErr == nil {
		t.Errorf("loader accepts it; the schema says: %v", schemaErr)
	}
}
