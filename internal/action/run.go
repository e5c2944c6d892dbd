// Package action is broom's driver: it turns a run (from the command line or
// a GitHub event) into plan, gate, apply, report and outputs, and decides the
// run's result and exit code (SPEC §4, §8).
package action

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/config"
	"github.com/broom-dev/broom/internal/engine"
	"github.com/broom-dev/broom/internal/plan"
	"github.com/broom-dev/broom/internal/report"
	"github.com/broom-dev/broom/internal/shard"
)

// Result is the run's `result` output.
type Result string

// The results of SPEC §4.
const (
	Planned     Result = "planned"
	NothingToDo Result = "nothing-to-do"
	Applied     Result = "applied"
	Partial     Result = "partial"
	Drift       Result = "drift"
	Refused     Result = "refused"
	OverLimit   Result = "over-limit"
	Approved    Result = "approved" // mode gate: the approval passed the gate
	Ignored     Result = "ignored"
	Error       Result = "error"
)

// Exit codes of SPEC §8.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitMisuse    = 2
	ExitPartial   = 3
	ExitDrift     = 4
	ExitRefused   = 5
	ExitOverLimit = 6
)

// Outcome is everything a run ends with: what it did, its plan (with
// results after apply) and its exit code.
type Outcome struct {
	Mode      string // "plan" or "apply": what actually ran
	Result    Result
	Code      int
	Plan      plan.Plan
	Protected []plan.Action
	Notes     []string
	// CommentURL is the sticky comment's URL, when one was written.
	CommentURL string
	Err        error
	// Shards, when set, is written as the shards line after the marker of
	// the comment or tracking issue: the plan shown is a merge of shards.
	Shards *shard.Shards
	// File, when set, is what the plan-file holds instead of Plan: a
	// shard's file, or a merged plan with its shards.
	File any
	// ApprovedFile is the approved plan the gate job wrote, for its output.
	ApprovedFile string
	// Headline replaces the plan's summary line in the reports: the gate
	// job has no plan rows to count.
	Headline string
}

func failed(mode string, code int, err error) Outcome {
	return Outcome{Mode: mode, Result: Error, Code: code, Err: err}
}

// MisuseError marks an error as the user's to fix (exit 2).
type MisuseError struct{ Err error }

func (e *MisuseError) Error() string { return e.Err.Error() }
func (e *MisuseError) Unwrap() error { return e.Err }

// Cloud is the AWS side of a run: an engine and the accounts it acts in.
type Cloud struct {
	Engine   *engine.Engine
	Accounts []string
	// Aliases are the accounts' aliases, by id, where an account has one
	// and broom may read it (iam:ListAccountAliases).
	Aliases map[string]string
}

// Identities names the accounts the run acts in, for a report's heading.
func (c Cloud) Identities() []report.Account {
	out := make([]report.Account, 0, len(c.Accounts))
	for _, id := range c.Accounts {
		out = append(out, report.Account{ID: id, Alias: c.Aliases[id]})
	}
	return out
}

// Connect builds the engine for cfg. Without accounts in the config it
// works in the current credentials' account; with them (listed, or found
// in AWS Organizations with the current credentials), it assumes each
// role and checks that STS names the account the config says. With
// allowed-accounts, the credentials' own account and each of accounts must
// be in it (SPEC §9): any other is a *MisuseError, before anything is
// listed.
func Connect(ctx context.Context, logger *slog.Logger, cfg config.Config, engineOpts ...engine.Option) (Cloud, error) {
	opts := cloud.NewOptions(cfg.AWS) // one rate limiter for the whole run
	opts.Logger = logger              // the SDK's own lines too
	return connect(ctx, logger, cfg, func(ctx context.Context, region string) (aws.Config, error) {
		return cloud.Load(ctx, region, opts)
	}, engineOpts...)
}

// connect is Connect with the loading of a region's base configuration
// (the SDK's default chain, in Connect) given: tests point it at moto.
func connect(ctx context.Context, logger *slog.Logger, cfg config.Config, base func(context.Context, string) (aws.Config, error), engineOpts ...engine.Option) (Cloud, error) {
	roles := map[string]string{} // filled before load is first called
	var mu sync.Mutex
	cache := map[string]aws.Config{}
	load := func(ctx context.Context, account, region string) (aws.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[account+"/"+region]; ok {
			return c, nil
		}
		c, err := base(ctx, region)
		if err != nil {
			return c, err
		}
		if role := roles[account]; role != "" {
			c = cloud.AssumeRole(c, role, "broom")
		}
		cache[account+"/"+region] = c
		return c, nil
	}
	allowed := func(account, which string) error {
		if len(cfg.AllowedAccounts) == 0 || slices.Contains(cfg.AllowedAccounts, account) {
			return nil
		}
		return &MisuseError{fmt.Errorf("account %s is not in allowed-accounts (%s): %s",
			account, strings.Join(cfg.AllowedAccounts, ", "), which)}
	}
	first, err := base(ctx, cfg.Regions[0])
	if err != nil {
		return Cloud{}, err
	}
	if err := cloud.Credentials(ctx, first); err != nil {
		return Cloud{}, err
	}
	current, err := cloud.AccountID(ctx, first)
	if err != nil {
		return Cloud{}, err
	}
	if err := allowed(current, "it is the credentials' own account"); err != nil {
		return Cloud{}, err
	}
	listed, which := cfg.Accounts, "accounts: names it"
	if org := cfg.Organization; org != nil {
		// With the run's own credentials: the management account's or a
		// delegated administrator's.
		ids, err := cloud.OrganizationAccounts(ctx, first, org.OUs, org.Exclude)
		if err != nil {
			return Cloud{}, err
		}
		logger.Info("organization", "accounts", len(ids), "ous", strings.Join(org.OUs, ","))
		listed, which = make([]config.Account, len(ids)), "accounts: organization has it"
		for i, id := range ids {
			listed[i] = config.Account{ID: id, Role: org.RoleFor(id)}
		}
	}
	for _, a := range listed {
		roles[a.ID] = a.Role
	}
	accounts, configs := []string{current}, []aws.Config{first}
	if len(listed) > 0 {
		accounts, configs = accounts[:0], configs[:0]
		for _, a := range listed {
			if err := allowed(a.ID, which); err != nil {
				return Cloud{}, err // before assuming any role
			}
		}
		for _, a := range listed {
			c, err := load(ctx, a.ID, cfg.Regions[0])
			if err != nil {
				return Cloud{}, err
			}
			got, err := cloud.AccountID(ctx, c)
			if err != nil {
				return Cloud{}, fmt.Errorf("assume %s: %w", a.Role, err)
			}
			if got != a.ID { // never act in an account the config does not name
				return Cloud{}, fmt.Errorf("assume %s: credentials are for account %s, not %s", a.Role, got, a.ID)
			}
			accounts, configs = append(accounts, a.ID), append(configs, c)
		}
	}
	aliases := map[string]string{}
	for i, id := range accounts {
		// The alias only names the account in reports: without it (no
		// alias, or a role not granted iam:ListAccountAliases) the id does.
		alias, err := cloud.AccountAlias(ctx, configs[i])
		if err != nil {
			logger.Debug("no account alias", "account", id, "error", err)
			continue
		}
		if alias != "" {
			aliases[id] = alias
		}
	}
	regions := strings.Join(cfg.Regions, ",")
	if cfg.AllRegions {
		regions = config.AllRegions // the engine asks each account which
	}
	logger.Info("connected", "accounts", strings.Join(accounts, ","), "regions", regions)
	return Cloud{Engine: engine.New(logger, load, engineOpts...), Accounts: accounts, Aliases: aliases}, nil
}

// Plan computes the plan; nothing is changed.
func (c Cloud) Plan(ctx context.Context, cfg config.Config) (engine.Result, error) {
	return c.Engine.Plan(ctx, cfg, c.Accounts...)
}

// PlanOutcome is the outcome of a run that only plans.
func PlanOutcome(res engine.Result, cfg config.Config) Outcome {
	o := Outcome{Mode: "plan", Result: Planned, Plan: res.Plan, Protected: res.Protected}
	if len(res.Plan.Actions) == 0 {
		o.Result = NothingToDo
	}
	if n := len(res.Plan.Actions); n > cfg.MaxActions {
		o.Notes = append(o.Notes, fmt.Sprintf("This plan has %d actions, more than max-actions (%d): apply would refuse it.", n, cfg.MaxActions))
	}
	return o
}

// Apply checks a freshly computed plan against the limit and, if given, the
// expected fingerprint, then carries it out.
func (c Cloud) Apply(ctx context.Context, cfg config.Config, res engine.Result, expect string) Outcome {
	o := Outcome{Mode: "apply", Plan: res.Plan, Protected: res.Protected}
	p := res.Plan
	switch {
	case expect != "" && p.Fingerprint != expect:
		o.Mode, o.Result, o.Code = "plan", Drift, ExitDrift
		o.Notes = append(o.Notes, fmt.Sprintf("Drift: the plan's fingerprint is %s, not the expected %s. Nothing was applied.", p.Fingerprint, expect))
		return o
	case len(p.Actions) == 0:
		o.Result = NothingToDo
		return o
	case len(p.Actions) > cfg.MaxActions:
		o.Mode, o.Result, o.Code = "plan", OverLimit, ExitOverLimit
		o.Notes = append(o.Notes, fmt.Sprintf("The plan has %d actions, more than max-actions (%d). Nothing was applied.", len(p.Actions), cfg.MaxActions))
		return o
	}
	o.Plan = c.Engine.Apply(ctx, cfg, p)
	cnt := o.Plan.Count()
	switch {
	case cnt.Failed > 0 || cnt.Skipped > 0:
		o.Result, o.Code = Partial, ExitPartial
	default:
		o.Result = Applied
	}
	if ctx.Err() != nil {
		o.Notes = append(o.Notes, "The run was cancelled: actions not started were skipped.")
		if o.Code == ExitOK {
			o.Code = ExitFailure
		}
	}
	return o
}
