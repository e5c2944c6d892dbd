package resource

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/plan"
)

// Kind is one resource kind in one region.
type Kind interface {
	// List returns every resource of the kind in its region that the
	// account owns, with facts filled in (tags, creation time, in-use).
	List(ctx context.Context) ([]plan.Resource, error)
	// Get re-reads one resource just before it is acted on; found is false
	// when it no longer exists.
	Get(ctx context.Context, id string) (r plan.Resource, found bool, err error)
	// Do carries out the action. A resource that is already gone returns
	// an error wrapping ErrGone.
	Do(ctx context.Context, a plan.Action) error
}

// ErrGone means the resource no longer exists: a delete is already done.
var ErrGone = errors.New("resource no longer exists")

// Spec describes a kind: its name, the actions it supports with the filters
// each accepts, and how to build it for a region.
type Spec struct {
	Name    string
	Actions map[string][]string // action → accepted where-filters
	New     func(cfg aws.Config) Kind
}

// Lookup returns the spec of the named kind.
func Lookup(name string) (Spec, error) {
	for _, s := range registry {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(registry))
	for i, s := range registry {
		names[i] = s.Name
	}
	sort.Strings(names)
	return Spec{}, fmt.Errorf("unknown resource kind %q, valid kinds are %s", name, strings.Join(names, ", "))
}

// Catalog is what the config loader needs to check rules: kind → action →
// accepted filters (a config.Catalog).
func Catalog() map[string]map[string][]string {
	c := map[string]map[string][]string{}
	for _, s := range registry {
		c[s.Name] = s.Actions
	}
	return c
}
