package engine

import (
	"context"
	"time"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// batch is a run of actions, actions[start:end], and, when they are
// deletions or tag changes of one kind that re-reads in batches, what one
// GetMany found for them. Reading the next batch while this one's actions
// run keeps the check off the actions' path: an apply of thousands of
// deletions spends a few calls per hundred on it, not one or more each.
type batch struct {
	start, end int
	k          resource.Rereader // nil: each action re-reads on its own
	found      map[string]plan.Resource
	at         time.Time // when the read was sent
	err        error     // the read failed: each action re-reads on its own
	// del, when set, deletes the batch's actions, all deletes of one
	// BatchKey (group), with one call once each is re-judged.
	del   resource.BatchDeleter
	group string
}

// reread is what a batch found for one action's resource.
type reread struct {
	r     plan.Resource
	found bool
}

// lookup returns the batch's re-read of id, or nil when the action must
// re-read on its own: no batching, no read made, or the read failed.
func (b *batch) lookup(id string) *reread {
	if b.k == nil || b.at.IsZero() || b.err != nil {
		return nil
	}
	r, ok := b.found[id]
	return &reread{r: r, found: ok}
}

// batches splits actions into runs of one (account, region, kind) of at
// most resource.RereadBatch distinct ids; actions that do not re-read in
// batches are runs of their own. For a kind that deletes in batches, a run
// of deletes is also of one BatchKey and at most resource.DeleteBatch ids,
// so that the ids read together are deleted together: ⌈n/100⌉ calls for n
// images of a repository, whatever the repositories around them.
func batches(actions []plan.Action, kinds map[string]resource.Kind, rules map[string]config.Rule) []batch {
	var out []batch
	var ids map[string]bool
	for i, a := range actions {
		k, _ := kinds[kindKey(a)].(resource.Rereader)
		del, group := deleteGroup(kinds[kindKey(a)], a)
		if (k == nil && del == nil) || !checksFirst(rules[a.Rule]) {
			out = append(out, batch{start: i, end: i + 1})
			continue
		}
		limit := resource.RereadBatch
		if del != nil {
			limit = min(limit, resource.DeleteBatch)
		}
		if n := len(out); n > 0 {
			last := &out[n-1]
			prev := actions[last.end-1]
			if (last.k != nil || last.del != nil) && last.end == i && sameKind(prev, a) && last.group == group &&
				(ids[a.ID] || len(ids) < limit) {
				last.end++
				ids[a.ID] = true
				continue
			}
		}
		out = append(out, batch{start: i, end: i + 1, k: k, del: del, group: group})
		ids = map[string]bool{a.ID: true}
	}
	return out
}

// deleteGroup is the kind's batch deleter and a's BatchKey when a is a
// delete that goes in a batch, else nil.
func deleteGroup(k resource.Kind, a plan.Action) (resource.BatchDeleter, string) {
	d, ok := k.(resource.BatchDeleter)
	if !ok || a.Op != plan.Delete {
		return nil, ""
	}
	if group := d.BatchKey(a); group != "" {
		return d, group
	}
	return nil, ""
}

func sameKind(a, b plan.Action) bool {
	return a.Account == b.Account && a.Region == b.Region && a.Kind == b.Kind
}

// checksFirst reports whether the actions of rule re-read their resource,
// and ask policy again, before they act: every rule over a listing (delete,
// tag, stop, update). An ensure rule names its resource, whose kind
// compares it with the desired state inside Do.
func checksFirst(rule config.Rule) bool { return rule.Action != "ensure" }

// read re-reads the resources of b's actions from actions[from] on.
func (e *Engine) read(ctx context.Context, actions []plan.Action, b *batch, from int) {
	if b.k == nil || ctx.Err() != nil {
		return
	}
	var ids []string
	seen := map[string]bool{}
	for _, a := range actions[from:b.end] {
		if !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, e.actionTimeout)
	defer cancel()
	b.at = e.now()
	b.found, b.err = getMany(rctx, b.k, ids)
	if b.err != nil && ctx.Err() == nil {
		a := actions[from]
		e.logger.Warn("batched re-read failed; each of its actions re-reads on its own",
			"kind", a.Kind, "region", a.Region, "ids", len(ids), "error", b.err.Error())
	}
}

// getMany is k.GetMany with a panic (a bug in the kind) turned into a
// failed read, after which each action re-reads on its own.
func getMany(ctx context.Context, k resource.Rereader, ids []string) (found map[string]plan.Resource, err error) {
	defer recovered(&err)
	return k.GetMany(ctx, ids)
}

// readAhead reads each batch in turn and hands it to Apply's dispatching
// loop, reading the next while the loop starts this one's actions.
func (e *Engine) readAhead(ctx context.Context, actions []plan.Action, bs []batch, out chan<- batch) {
	defer close(out)
	for _, b := range bs {
		e.read(ctx, actions, &b, b.start)
		out <- b
	}
}
