package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/resource"
)

// runIAMPolicy prints the least-privilege IAM policy for the config's rules
// (or those --rules names). It reads the file and calls nothing.
func runIAMPolicy(args []string, env IO) int {
	fs := flag.NewFlagSet("broom iam-policy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.String("config", config.DefaultFile, "policy file")
	fs.String("rules", "", "only these rules (comma-separated)")
	planOnly := fs.Bool("plan-only", false, "only what planning needs: for a role that never applies")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, "usage: broom iam-policy [--config FILE] [--rules a,b] [--plan-only]")
			fs.SetOutput(env.Stderr)
			fs.PrintDefaults()
		}
		return misuse(env, err)
	}
	if fs.NArg() > 0 {
		return misuse(env, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	layer := config.Layer{Name: "flag --", Values: map[string]string{}}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "plan-only" {
			layer.Values[f.Name] = f.Value.String()
		}
	})
	cfg, err := config.Load(layer, env.Getenv, resource.Catalog())
	if err != nil {
		printProblems(env, err)
		return action.ExitMisuse
	}
	doc, err := resource.Policy(iamUses(cfg.Selected()), resource.PolicyOptions{Roles: accountRoles(cfg.Accounts), PlanOnly: *planOnly})
	if err != nil {
		fmt.Fprintln(env.Stderr, "broom:", err)
		return action.ExitFailure
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		fmt.Fprintln(env.Stderr, "broom:", err)
		return action.ExitFailure
	}
	return action.ExitOK
}

// iamUses says how each rule uses its kind, as far as IAM is concerned.
func iamUses(rules []config.Rule) []resource.Use {
	out := make([]resource.Use, 0, len(rules))
	for _, r := range rules {
		u := resource.Use{Kind: r.Resource, Action: r.Action, Bucket: r.Bucket}
		if r.SnapshotFirst {
			u.With = append(u.With, "snapshot-first")
		}
		for s := range r.Settings {
			u.With = append(u.With, s)
		}
		slices.Sort(u.With)
		for k := range r.Set {
			u.TagKeys = append(u.TagKeys, k)
		}
		slices.Sort(u.TagKeys)
		out = append(out, u)
	}
	return out
}

func accountRoles(accounts []config.Account) []string {
	var out []string
	for _, a := range accounts {
		out = append(out, a.Role)
	}
	return out
}
