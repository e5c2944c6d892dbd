package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/resource"
)

// notStarted is the error of an action skipped because the run was
// cancelled before it began.
const notStarted = "run cancelled before this action started"

// dispatchDeletes takes one worker slot for b, a run of deletes that the
// kind deletes with one call (b.del), and carries them out in that worker.
// It runs on Apply's dispatching loop, as start does for single actions.
func (e *Engine) dispatchDeletes(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}, k resource.Kind, rules map[string]config.Rule,
	protect config.Protect, actions []plan.Action, b batch, prog *progress) {
	skip := func() {
		for i := b.start; i < b.end; i++ {
			actions[i].Status, actions[i].Error = plan.Skipped, notStarted
		}
	}
	select {
	case <-ctx.Done():
		skip()
		return
	case sem <- struct{}{}:
	}
	if b.k != nil && e.now().Sub(b.at) > e.fresh {
		e.read(ctx, actions, &b, b.start)
	}
	if ctx.Err() != nil { // cancelled while waiting or re-reading: prefer not starting
		<-sem
		skip()
		return
	}
	wg.Add(1)
	go func() {
		defer func() { <-sem; wg.Done() }()
		e.deleteBatch(ctx, k, rules, protect, actions[b.start:b.end], &b, prog)
	}()
}

// deleteBatch re-judges each of actions as a single action is judged
// (protect, vetoes, gone, changed since the plan), then deletes those
// still approved with one DeleteMany, and records each one's own outcome.
// The call gets what a single action gets: actionTimeout, and cancelGrace
// after a cancellation. A cancellation before the call skips them all:
// nothing of theirs has started.
func (e *Engine) deleteBatch(ctx context.Context, k resource.Kind, rules map[string]config.Rule, protect config.Protect,
	actions []plan.Action, b *batch, prog *progress) {
	var send []*plan.Action
	for i := range actions {
		a := &actions[i]
		if ctx.Err() != nil {
			a.Status, a.Error = plan.Skipped, notStarted
			continue
		}
		cut, bug := e.guarded(ctx, func(actx context.Context) {
			if e.approved(actx, k, rules[a.Rule], protect, a, b.lookup(a.ID)) {
				send = append(send, a)
			}
		})
		settle(a, cut, bug)
		if a.Status != "" {
			prog.logged(actionLogger(e.logger, a), a)
		}
	}
	if len(send) == 0 {
		return
	}
	if ctx.Err() != nil {
		for _, a := range send {
			a.Status, a.Error = plan.Skipped, notStarted
		}
		return
	}
	del := make([]plan.Action, len(send))
	for i, a := range send {
		del[i] = *a
	}
	var errs map[string]error
	cut, bug := e.guarded(ctx, func(actx context.Context) { errs = b.del.DeleteMany(actx, del) })
	for _, a := range send {
		err, ok := errs[a.ID]
		if !ok && bug == nil {
			err = fmt.Errorf("internal error (a bug in broom, please report it): no outcome for %s from the batch delete", a.ID)
		}
		finish(a, err)
		settle(a, cut, bug)
		prog.logged(actionLogger(e.logger, a), a)
	}
}
