package cli

import (
	"encoding/json"
	"slices"

	"github.com/broom-dev/broom/internal/action"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/resource"
)

// runIAMPolicy prints the least-privilege IAM policy for the config's rules
// (or those --rules names). It reads the file and calls nothing.
func runIAMPolicy(args []string, env IO) (code int) {
	s := newRunner(env, args)
	defer s.recovered(&code)
	c, _ := lookupCommand("iam-policy")
	p, err := s.flags(c, args)
	if err != nil {
		return s.fail(action.ExitMisuse, err)
	}
	cfg, err := config.Load(p.layer, env.Getenv, resource.Catalog())
	if err != nil {
		return s.failConfig(err)
	}
	doc, err := resource.Policy(iamUses(cfg.Selected()), resource.PolicyOptions{Roles: accountRoles(cfg.File, p.switches["plan-only"]), PlanOnly: p.switches["plan-only"],
		AllRegions: cfg.AllRegions, ProtectTags: cfg.File.Protect.Tags, Organization: cfg.Organization != nil})
	if err != nil {
		return s.fail(action.ExitFailure, err)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return s.fail(action.ExitFailure, err)
	}
	return action.ExitOK
}

// iamUses says how each rule uses its kind, as far as IAM is concerned.
func iamUses(rules []config.Rule) []resource.Use {
	out := make([]resource.Use, 0, len(rules))
	for _, r := range rules {
		u := resource.Use{Kind: r.Resource, Action: r.Action, Bucket: r.Bucket, WhereTags: r.Where.Tags}
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

// accountRoles are the roles a run assumes: each listed account's, or
// the organization's in any account. A run that only plans (planOnly)
// assumes the plan-role where one is set, and never role: its policy must
// not let a changed workflow assume the role that deletes. A run that may
// apply assumes role, and plan-role too when an approval it refuses plans
// again.
func accountRoles(f config.File, planOnly bool) []string {
	accounts := f.Accounts
	if o := f.Organization; o != nil {
		accounts = []config.Account{o.Account("*")}
	}
	var out []string
	for _, a := range accounts {
		out = append(out, a.RoleFor(!planOnly))
		if !planOnly && a.PlanRole != "" {
			out = append(out, a.PlanRole)
		}
	}
	return out
}
