package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/report"
)

// exitError is an error that ends the command with its own exit code.
type exitError struct {
	code int
	err  error
}

// confirm decides whether broom apply may carry out p, already shown
// (SPEC §2: apply never deletes on its own say-so). It may when there is
// nothing to confirm: an empty plan, or one apply will refuse anyway
// (over max-actions); when the operator said so beforehand: --yes, or
// --expect-fingerprint naming the plan they reviewed; or, on a terminal,
// when the operator types the account id the plan acts in (or "yes" for a
// plan spanning several accounts). Without a terminal it is misuse (exit 2);
// any other answer declines: refused (exit 5), nothing applied.
func confirm(ctx context.Context, env IO, cfg config.Config, yes bool, p plan.Plan, ids []report.Account) *exitError {
	if len(p.Actions) == 0 || len(p.Actions) > cfg.MaxActions || yes || cfg.ExpectFingerprint != "" {
		return nil
	}
	if env.IsTerminal == nil || !env.IsTerminal() {
		return &exitError{action.ExitMisuse, errors.New("apply without a terminal needs --yes or --expect-fingerprint; nothing was changed")}
	}
	accounts := planAccounts(p)
	want, named := "yes", fmt.Sprintf("%d accounts (%s)", len(accounts), strings.Join(nameAll(accounts, ids), ", "))
	if len(accounts) == 1 {
		want, named = accounts[0], "account "+nameAll(accounts, ids)[0]
	}
	what := fmt.Sprintf("%d resources", len(p.Actions))
	if len(p.Actions) == 1 {
		what = "1 resource"
	}
	fmt.Fprintf(env.Stderr, "broom will change %s in %s.\nType %s to apply this plan, anything else to cancel: ", what, named, quoteAnswer(want))
	answer, err := readLine(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr)
		return &exitError{action.ExitRefused, fmt.Errorf("apply cancelled (%v); nothing was changed", err)}
	}
	if answer != want {
		return &exitError{action.ExitRefused, fmt.Errorf("apply cancelled: the answer was %q, not %q; nothing was changed", answer, want)}
	}
	return nil
}

// planAccounts are the accounts p acts in, sorted.
func planAccounts(p plan.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		if !slices.Contains(out, a.Account) {
			out = append(out, a.Account)
		}
	}
	slices.Sort(out)
	return out
}

// nameAll names each account by its id and, where known, its alias.
func nameAll(accounts []string, ids []report.Account) []string {
	out := make([]string, len(accounts))
	for i, id := range accounts {
		out[i] = id
		if j := slices.IndexFunc(ids, func(a report.Account) bool { return a.ID == id }); j >= 0 && ids[j].Alias != "" {
			out[i] = fmt.Sprintf("%s (%s)", id, ids[j].Alias)
		}
	}
	return out
}

func quoteAnswer(s string) string {
	if s == "yes" {
		return "yes"
	}
	return "the account id " + s
}

// readLine reads the operator's answer, without its surrounding blanks. A
// cancelled run (Ctrl-C, the deadline) stops waiting.
func readLine(ctx context.Context, env IO) (string, error) {
	if env.Stdin == nil {
		return "", nil
	}
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() { // left blocked on the terminal if ctx ends first; the process is ending
		s, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && s != "" {
			err = nil // an answer without a newline is an answer
		}
		got <- line{strings.TrimSpace(s), err}
	}()
	select {
	case l := <-got:
		if l.err != nil {
			return "", fmt.Errorf("no answer: %w", l.err)
		}
		return l.s, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
