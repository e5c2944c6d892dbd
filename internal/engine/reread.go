package engine

import (
	"context"
	"time"

	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// reread is what a batched re-read found for one action's resource.
type reread struct {
	r     plan.Resource
	found bool
	at    time.Time
	err   error // the batch failed: the action re-reads on its own
}

// rereadKey names one resource of one kind, account and region.
type rereadKey struct{ account, region, kind, id string }

func keyOf(a plan.Action) rereadKey { return rereadKey{a.Account, a.Region, a.Kind, a.ID} }

// rereads holds batched re-reads. Only Apply's dispatching loop touches it;
// each worker gets a copy of its entry.
type rereads map[rereadKey]reread

// prefetch returns the re-read for actions[i] when its kind re-reads in
// batches, or nil for the action to re-read on its own. When actions[i] has
// no re-read yet, or one older than e.fresh, it re-reads actions[i] and the
// next actions of its kind in the same state with one GetMany: an apply of
// thousands of deletions then spends a few calls per batch on the check,
// not one or more per deletion.
func (e *Engine) prefetch(ctx context.Context, kinds map[string]resource.Kind, actions []plan.Action, i int, reads rereads) *reread {
	a := actions[i]
	batcher, ok := kinds[kindKey(a)].(resource.Rereader)
	if !ok || !checksFirst(a) {
		return nil
	}
	fresh := func(b plan.Action) bool {
		got, ok := reads[keyOf(b)]
		return ok && time.Since(got.at) <= e.fresh
	}
	if fresh(a) {
		return usable(reads[keyOf(a)])
	}
	var ids []string
	seen := map[string]bool{}
	for _, b := range actions[i:] {
		if len(ids) == resource.RereadBatch {
			break
		}
		if b.Account != a.Account || b.Region != a.Region || b.Kind != a.Kind || !checksFirst(b) || seen[b.ID] || fresh(b) {
			continue
		}
		seen[b.ID] = true
		ids = append(ids, b.ID)
	}
	rctx, cancel := context.WithTimeout(ctx, e.actionTimeout)
	defer cancel()
	at := time.Now()
	found, err := batcher.GetMany(rctx, ids)
	if err != nil {
		e.logger.Warn("batched re-read failed; each of its actions re-reads on its own",
			"kind", a.Kind, "region", a.Region, "ids", len(ids), "error", err.Error())
	}
	for _, id := range ids {
		r, ok := found[id]
		k := keyOf(a)
		k.id = id
		reads[k] = reread{r: r, found: ok, at: at, err: err}
	}
	return usable(reads[keyOf(a)])
}

// checksFirst reports whether an action re-reads its resource before it
// acts: deletions and tag changes. Ensure actions compare inside Do.
func checksFirst(a plan.Action) bool { return a.Op == plan.Delete || a.Op == plan.Tag }

// usable is r for the action to use, or nil when the batch failed.
func usable(r reread) *reread {
	if r.err != nil {
		return nil
	}
	return &r
}
