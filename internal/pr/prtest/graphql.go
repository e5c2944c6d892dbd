package prtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// The GraphQL endpoint. Every request is parsed and validated against
// GitHub's published schema (npm package @octokit/graphql-schema, pinned in
// test/npm and installed by scripts/test-deps.sh); a request that does not
// parse or validate is answered as GitHub answers it (200 with "errors") and
// recorded as a violation. Of the valid requests the fake answers queries
// whose top-level fields are viewer { login } and node(id:) on the objects it
// keeps (IssueComment, Issue, PullRequest); anything else (a mutation, a
// subscription, another top-level field, a field of those objects that the
// fake does not keep) is a violation too, answered 400.

// graphQLSchemaFile is where scripts/test-deps.sh installs GitHub's schema,
// relative to the repository root.
const graphQLSchemaFile = ".cache/npm/node_modules/@octokit/graphql-schema/schema.graphql"

var (
	schemaOnce sync.Once
	schemaVal  *ast.Schema
	schemaErr  error
	// schemaLoadTime is how long loading took (about 0.1 s), for tests.
	schemaLoadTime time.Duration
)

// loadGraphQLSchema reads, parses and checks GitHub's schema once per
// process: it is 1.2 MB of SDL, about a tenth of a second to load.
//
// The published schema.graphql defines a few fields twice (15.26.1:
// EnterpriseOwnerInfo.repositoryDeployKeySetting and
// repositoryDeployKeySettingOrganizations, with identical definitions),
// which a strict loader refuses ("can only be defined once"), as
// graphql-js's buildSchema does without assumeValidSDL. So the schema is
// parsed first, the second and later definitions of a field (or enum value)
// dropped, and the rest checked as usual.
func loadGraphQLSchema() (*ast.Schema, error) {
	schemaOnce.Do(func() {
		start := time.Now()
		schemaVal, schemaErr = readGraphQLSchema()
		schemaLoadTime = time.Since(start)
	})
	return schemaVal, schemaErr
}

func readGraphQLSchema() (*ast.Schema, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	file := filepath.Join(root, filepath.FromSlash(graphQLSchemaFile))
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("GitHub's GraphQL schema is not installed (%s): run scripts/test-deps.sh", file)
	}
	if err != nil {
		return nil, fmt.Errorf("read GitHub's GraphQL schema: %w", err)
	}
	doc, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: file, Input: string(data)})
	if err != nil {
		return nil, fmt.Errorf("parse GitHub's GraphQL schema: %w", err)
	}
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, d := range defs {
			d.Fields = dedupeFields(d.Fields)
			d.EnumValues = dedupeEnumValues(d.EnumValues)
		}
	}
	schema, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("load GitHub's GraphQL schema: %w", err)
	}
	return schema, nil
}

func dedupeFields(fields ast.FieldList) ast.FieldList {
	seen := map[string]bool{}
	out := fields[:0:0]
	for _, f := range fields {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	return out
}

func dedupeEnumValues(values ast.EnumValueList) ast.EnumValueList {
	seen := map[string]bool{}
	out := values[:0:0]
	for _, v := range values {
		if !seen[v.Name] {
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	return out
}

// graphQLRequest is the body of a GraphQL request.
type graphQLRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlError is one entry of a GraphQL response's "errors".
type gqlError struct {
	Type      string        `json:"type,omitempty"`
	Path      []any         `json:"path,omitempty"`
	Locations []gqlLocation `json:"locations,omitempty"`
	Message   string        `json:"message"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// gqlResponse is a GraphQL response body: data (absent when the request
// never ran) and errors.
type gqlResponse struct {
	Data   *ordered   `json:"data,omitempty"`
	Errors []gqlError `json:"errors,omitempty"`
}

// fromGQLErrors converts gqlparser's errors to GitHub's form.
func fromGQLErrors(list gqlerror.List) []gqlError {
	var out []gqlError
	for _, e := range list {
		ge := gqlError{Message: e.Message}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLocation{Line: l.Line, Column: l.Column})
		}
		for _, p := range e.Path {
			ge.Path = append(ge.Path, p)
		}
		out = append(out, ge)
	}
	return out
}

func messages(errs []gqlError) string {
	var ms []string
	for _, e := range errs {
		ms = append(ms, e.Message)
	}
	return strings.Join(ms, "; ")
}

// oneLine shortens a query for a violation message.
func oneLine(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 200 {
		q = q[:200] + "…"
	}
	return q
}

// serveGraphQL answers a GraphQL request.
func (f *Fake) serveGraphQL(w http.ResponseWriter, r *http.Request, body []byte) {
	where := r.Method + " " + graphQLPath
	if r.Method != http.MethodPost {
		f.mu.Lock()
		f.violate("%s: GraphQL takes POST only", where)
		f.mu.Unlock()
		write(w, notFound())
		return
	}
	req, problem := checkGraphQL(r, body)
	if problem != "" {
		f.mu.Lock()
		f.violate("%s: %s", where, problem)
		f.mu.Unlock()
		write(w, errorReply(http.StatusBadRequest, "prtest: "+problem))
		return
	}
	where += " " + oneLine(req.Query)

	f.mu.Lock()
	login, rp := f.authenticate(r)
	f.mu.Unlock()
	if rp != nil {
		write(w, *rp)
		return
	}

	// Parse and validate outside f.mu: they only read the shared schema.
	schema, err := loadGraphQLSchema()
	if err != nil {
		f.mu.Lock()
		f.violate("%s: %v", where, err)
		f.mu.Unlock()
		write(w, jsonReply(http.StatusBadRequest, gqlResponse{Errors: []gqlError{{Message: "prtest: " + err.Error()}}}))
		return
	}
	op, doc, vars, errs := prepare(schema, req)
	if len(errs) > 0 {
		// GitHub answers a query that does not parse or validate, or whose
		// variables do not fit, with 200 and the errors.
		f.mu.Lock()
		f.violate("%s: not a valid request for GitHub's GraphQL schema: %s", where, messages(errs))
		f.mu.Unlock()
		write(w, jsonReply(http.StatusOK, gqlResponse{Errors: errs}))
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if ft := f.takeFault(r.Method, "/graphql"); ft != nil {
		ft.write(w)
		return
	}
	ex := &executor{f: f, schema: schema, doc: doc, vars: vars, login: login}
	data := ex.run(op)
	if len(ex.unsupported) > 0 {
		f.violate("%s: %s", where, strings.Join(ex.unsupported, "; "))
		write(w, jsonReply(http.StatusBadRequest, gqlResponse{Errors: []gqlError{{Message: "prtest: " + strings.Join(ex.unsupported, "; ")}}}))
		return
	}
	write(w, jsonReply(http.StatusOK, gqlResponse{Data: data, Errors: ex.errors}))
}

// checkGraphQL checks the shape of a GraphQL request's body, which is not
// in the REST description, and decodes it.
func checkGraphQL(r *http.Request, body []byte) (graphQLRequest, string) {
	var req graphQLRequest
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return req, fmt.Sprintf("Content-Type %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return req, fmt.Sprintf("body is not a JSON object: %v", err)
	}
	for k := range raw {
		if k != "query" && k != "variables" && k != "operationName" {
			return req, fmt.Sprintf("unknown key %q in the request body", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // variables keep their numbers exact
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Sprintf("bad request body: %v", err)
	}
	if req.Query == "" {
		return req, `the body has no "query" string`
	}
	return req, ""
}

// prepare parses and validates req against schema, picks its operation and
// coerces its variables.
func prepare(schema *ast.Schema, req graphQLRequest) (*ast.OperationDefinition, *ast.QueryDocument, map[string]any, []gqlError) {
	doc, err := parser.ParseQuery(&ast.Source{Name: "query", Input: req.Query})
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, nil, nil, fromGQLErrors(gqlerror.List{ge})
		}
		return nil, nil, nil, []gqlError{{Message: err.Error()}}
	}
	if list := validator.ValidateWithRules(schema, doc, nil); len(list) > 0 { // nil: the default rules
		return nil, nil, nil, fromGQLErrors(list)
	}
	var op *ast.OperationDefinition
	switch {
	case req.OperationName != "":
		op = doc.Operations.ForName(req.OperationName)
		if op == nil {
			return nil, nil, nil, []gqlError{{Message: fmt.Sprintf("No operation named %q", req.OperationName)}}
		}
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	default:
		return nil, nil, nil, []gqlError{{Message: "An operation name is required"}}
	}
	vars, err := validator.VariableValues(schema, op, normalizeNumbers(req.Variables).(map[string]any))
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, nil, nil, fromGQLErrors(gqlerror.List{ge})
		}
		return nil, nil, nil, []gqlError{{Message: err.Error()}}
	}
	return op, doc, vars, nil
}

// normalizeNumbers turns json.Numbers into int64 or float64, which
// gqlparser's variable coercion understands.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case nil:
		return map[string]any{}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e == nil {
				out[k] = nil
				continue
			}
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			if e != nil {
				out[i] = normalizeNumbers(e)
			}
		}
		return out
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		fl, _ := t.Float64()
		return fl
	}
	return v
}

// ordered is a JSON object that keeps its keys in the order of the query,
// as GraphQL responses do.
type ordered struct {
	keys []string
	vals map[string]any
}

func newOrdered() *ordered { return &ordered{vals: map[string]any{}} }

func (o *ordered) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// MarshalJSON writes the keys in order.
func (o *ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vj, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// object is a GraphQL object the fake can answer fields of: a scalar value
// (string, int, bool or nil for null) or *object per field name. A field
// absent from fields is one the fake does not serve.
type object struct {
	typename string
	fields   map[string]any
}

// executor runs one validated operation against the fake's state. f.mu is
// held.
type executor struct {
	f           *Fake
	schema      *ast.Schema
	doc         *ast.QueryDocument
	vars        map[string]any
	login       string
	errors      []gqlError
	unsupported []string
}

// run executes op and returns its data.
func (ex *executor) run(op *ast.OperationDefinition) *ordered {
	if op.Operation != ast.Query {
		ex.unsupported = append(ex.unsupported, fmt.Sprintf("the fake answers queries only, not a %s (broom sends none)", op.Operation))
		return nil
	}
	data := newOrdered()
	keys, groups := ex.collect("Query", op.SelectionSet, map[string]bool{})
	for _, key := range keys {
		fields := groups[key]
		field := fields[0]
		switch field.Name {
		case "__typename":
			data.set(key, "Query")
		case "viewer":
			// viewer is the token's user as REST names it
			// (github-actions[bot] for the workflow's token).
			viewer := &object{typename: "User", fields: map[string]any{"login": ex.login}}
			data.set(key, ex.complete(viewer, fields, []any{key}))
		case "node":
			id := fmt.Sprint(field.ArgumentMap(ex.vars)["id"])
			obj := ex.f.node(id)
			if obj == nil {
				data.set(key, nil)
				ex.errors = append(ex.errors, gqlError{
					Type:      "NOT_FOUND",
					Path:      []any{key},
					Locations: []gqlLocation{{Line: field.Position.Line, Column: field.Position.Column}},
					Message:   fmt.Sprintf("Could not resolve to a node with the global id of '%s'.", id),
				})
				continue
			}
			data.set(key, ex.complete(obj, fields, []any{key}))
		default:
			ex.unsupported = append(ex.unsupported, fmt.Sprintf("the fake does not serve Query.%s (only viewer and node)", field.Name))
		}
	}
	return data
}

// complete answers the merged selection sets of fields on obj.
func (ex *executor) complete(obj *object, fields []*ast.Field, path []any) *ordered {
	var set ast.SelectionSet
	for _, fd := range fields {
		set = append(set, fd.SelectionSet...)
	}
	out := newOrdered()
	keys, groups := ex.collect(obj.typename, set, map[string]bool{})
	for _, key := range keys {
		sub := groups[key]
		name := sub[0].Name
		if name == "__typename" {
			out.set(key, obj.typename)
			continue
		}
		v, ok := obj.fields[name]
		if !ok || len(sub[0].Arguments) > 0 {
			ex.unsupported = append(ex.unsupported, fmt.Sprintf("the fake does not serve %s.%s (at %v)", obj.typename, name, append(path, key)))
			continue
		}
		if child, ok := v.(*object); ok {
			if child == nil {
				out.set(key, nil)
				continue
			}
			out.set(key, ex.complete(child, sub, append(append([]any(nil), path...), key)))
			continue
		}
		out.set(key, v)
	}
	return out
}

// collect groups the fields of set that apply to an object of type
// typename by response key (alias or name), in order, following fragments
// and @skip/@include, as GraphQL's CollectFields does.
func (ex *executor) collect(typename string, set ast.SelectionSet, visited map[string]bool) ([]string, map[string][]*ast.Field) {
	var keys []string
	groups := map[string][]*ast.Field{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !ex.included(s.Directives) {
					continue
				}
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				if _, ok := groups[key]; !ok {
					keys = append(keys, key)
				}
				groups[key] = append(groups[key], s)
			case *ast.InlineFragment:
				if ex.included(s.Directives) && ex.applies(typename, s.TypeCondition) {
					walk(s.SelectionSet)
				}
			case *ast.FragmentSpread:
				if !ex.included(s.Directives) || visited[s.Name] {
					continue
				}
				visited[s.Name] = true
				frag := s.Definition
				if frag == nil {
					frag = ex.doc.Fragments.ForName(s.Name)
				}
				if frag != nil && ex.applies(typename, frag.TypeCondition) {
					walk(frag.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return keys, groups
}

// applies reports whether a fragment on cond applies to typename: the same
// type, or an interface or union typename belongs to.
func (ex *executor) applies(typename, cond string) bool {
	if cond == "" || cond == typename {
		return true
	}
	for _, d := range ex.schema.PossibleTypes[cond] {
		if d.Name == typename {
			return true
		}
	}
	return false
}

// included evaluates @skip(if:) and @include(if:).
func (ex *executor) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		cond, _ := d.ArgumentMap(ex.vars)["if"].(bool)
		switch d.Name {
		case "skip":
			if cond {
				return false
			}
		case "include":
			if !cond {
				return false
			}
		}
	}
	return true
}

// graphQLLogin is how GraphQL names an actor: a GitHub App's bot by its bare
// slug (github-actions, typename Bot), where REST says github-actions[bot];
// a user by the login (typename User).
func graphQLActor(login string) *object {
	if slug, ok := strings.CutSuffix(login, "[bot]"); ok {
		return &object{typename: "Bot", fields: map[string]any{"login": slug}}
	}
	return &object{typename: "User", fields: map[string]any{"login": login}}
}

// editFields adds the fields of GraphQL's Comment interface the fake keeps.
func editFields(fields map[string]any, author, body string, created, updated time.Time, e edit) {
	fields["author"] = graphQLActor(author)
	fields["body"] = body
	fields["createdAt"] = timestamp(created)
	fields["updatedAt"] = timestamp(updated)
	fields["lastEditedAt"] = nil
	fields["editor"] = (*object)(nil)
	if !e.at.IsZero() {
		fields["lastEditedAt"] = timestamp(e.at)
		fields["editor"] = graphQLActor(e.editor)
	}
}

// node resolves a node ID the fake handed out in REST (node_id) to the
// object GraphQL answers for it, or nil. f.mu is held.
func (f *Fake) node(id string) *object {
	for _, c := range f.comments {
		if commentNodeID(c) == id {
			obj := &object{typename: "IssueComment", fields: map[string]any{"id": id}}
			editFields(obj.fields, c.author, c.body, c.created, c.updated, c.edit)
			return obj
		}
	}
	for _, n := range sortedKeys(f.items) {
		it := f.items[n]
		if itemNodeID(it) != id {
			continue
		}
		typename := "Issue"
		if it.pr {
			typename = "PullRequest"
		}
		obj := &object{typename: typename, fields: map[string]any{"id": id, "number": it.number, "title": it.title}}
		editFields(obj.fields, it.author, it.body, it.created, it.updated, it.edit)
		return obj
	}
	return nil
}
