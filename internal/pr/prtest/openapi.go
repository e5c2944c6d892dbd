package prtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// apiDescription is GitHub's official REST description (npm package
// @octokit/openapi), trimmed by scripts/openapi/trim.mjs to the operations
// broom uses.
//
//go:embed testdata/api.github.com.json
var apiDescription []byte

// contract is the loaded description and its router, shared by every Fake in
// the process.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	contractOnce sync.Once
	contractVal  *contract
	contractErr  error

	// validateMu serializes kin-openapi validation: the document is shared by
	// all fakes, and this keeps its lazily built caches out of any race.
	validateMu sync.Mutex
)

// loadContract parses the embedded description once per process.
func loadContract() (*contract, error) {
	contractOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(apiDescription)
		if err != nil {
			contractErr = fmt.Errorf("load GitHub's OpenAPI description: %w", err)
			return
		}
		// The description's server is https://api.github.com. The fake
		// strips its own prefix (/api/v3) before routing, so route on bare
		// paths whatever host and port the fake listens on.
		doc.Servers = nil
		router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
		if err != nil {
			contractErr = fmt.Errorf("route GitHub's OpenAPI description: %w", err)
			return
		}
		contractVal = &contract{doc: doc, router: router}
	})
	return contractVal, contractErr
}

// errUnknownRoute means that no operation of the description matches.
var errUnknownRoute = errors.New("no such operation in the trimmed OpenAPI description (scripts/openapi/trim.mjs lists the operations kept)")

// validated is a request that matches an operation of the description.
type validated struct {
	route      *routers.Route
	pathParams map[string]string
	input      *openapi3filter.RequestValidationInput
}

// validationOptions are shared by request and response validation.
func validationOptions() *openapi3filter.Options {
	opts := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		MultiError:                        true,
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
	}
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return fmt.Sprintf("at %q: %s", "/"+strings.Join(err.JSONPointer(), "/"), err.Reason)
	})
	return opts
}

// validateRequest finds the operation that r (whose path has no /api/v3
// prefix) calls and checks r against it: path and query parameters, unknown
// query parameters, Content-Type and body. body is r's body, already read.
// It returns errUnknownRoute (wrapped) when no operation matches.
func (c *contract) validateRequest(r *http.Request, body []byte) (*validated, error) {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))

	validateMu.Lock()
	defer validateMu.Unlock()

	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		return nil, errUnknownRoute
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      route,
		Options:    validationOptions(),
	}
	v := &validated{route: route, pathParams: pathParams, input: input}

	var problems []string
	if unknown := unknownQueryParams(route, req.URL.Query()); len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("query parameters not in the description: %s", strings.Join(unknown, ", ")))
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		problems = append(problems, flatten(err)...)
	}
	if len(problems) > 0 {
		return v, errors.New(strings.Join(problems, "; "))
	}
	return v, nil
}

// validateResponse checks a response of the fake itself against the
// operation's documented response for that status, if any.
func (c *contract) validateResponse(v *validated, status int, header http.Header, body []byte) error {
	validateMu.Lock()
	defer validateMu.Unlock()

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: v.input,
		Status:                 status,
		Header:                 header,
		Options:                validationOptions(),
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return errors.New(strings.Join(flatten(err), "; "))
	}
	return nil
}

// unknownQueryParams lists the names in query that the operation does not
// declare. GitHub ignores them silently, which hides client bugs.
func unknownQueryParams(route *routers.Route, query url.Values) []string {
	known := map[string]bool{}
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				known[p.Value.Name] = true
			}
		}
	}
	var unknown []string
	for name := range query {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// flatten turns kin-openapi's (multi-)errors into one line each, each
// saying which parameter or body it is about.
func flatten(err error) []string {
	if re, ok := err.(*openapi3filter.RequestError); ok && re.Err != nil {
		prefix := "request body"
		if p := re.Parameter; p != nil {
			prefix = fmt.Sprintf("parameter %q in %s", p.Name, p.In)
		} else if re.RequestBody == nil {
			prefix = "request"
		}
		if re.Reason != "" && re.Reason != re.Err.Error() {
			prefix += ": " + re.Reason
		}
		var out []string
		for _, line := range flatten(re.Err) {
			out = append(out, prefix+": "+line)
		}
		return out
	}
	if re, ok := err.(*openapi3filter.ResponseError); ok && re.Err != nil {
		prefix := "response"
		if re.Reason != "" {
			prefix += ": " + re.Reason
		}
		var out []string
		for _, line := range flatten(re.Err) {
			out = append(out, prefix+": "+line)
		}
		return out
	}
	if multi, ok := err.(openapi3.MultiError); ok {
		var out []string
		for _, e := range multi {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []string{strings.Join(strings.Fields(err.Error()), " ")}
}
