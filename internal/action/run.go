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
	"golang.org/x/sync/errgroup"

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

// Access is what a run may do in the accounts it works in. It decides the
// role assumed in each: a run that can only plan assumes the account's
// plan-role where the config sets one, so that a workflow changed to misuse
// a plan job's credentials cannot delete in a member account. The caller
// decides it where the run's route is known, never later.
type Access int

const (
	// PlanOnly is a run that changes nothing: plan-role, else role;
	// session name broom-plan.
	PlanOnly Access = iota
	// MayChange is a run that may apply: role; session name broom-apply.
	MayChange
)

// session is the role session name: CloudTrail shows it, and a member
// role's trust policy can require it (sts:RoleSessionName).
func (a Access) session() string {
	if a == MayChange {
		return "broom-apply"
	}
	return "broom-plan"
}

func (a Access) String() string {
	if a == MayChange {
		return "may-change"
	}
	return "plan-only"
}

// Connect builds the engine for cfg. Without accounts in the config it
// works in the current credentials' account; with them (listed, or found
// in AWS Organizations with the current credentials), it assumes each
// account's role (its plan-role, when set, if access is PlanOnly) and
// checks that STS names the account the config says. With
// allowed-accounts, the credentials' own account and each of accounts must
// be in it (SPEC §9): any other is a *MisuseError, before anything is
// listed.
func Connect(ctx context.Context, logger *slog.Logger, cfg config.Config, access Access, engineOpts ...engine.Option) (Cloud, error) {
	opts := cloud.NewOptions(cfg.AWS) // one rate limiter for the whole run
	opts.Logger = logger              // the SDK's own lines too
	return connect(ctx, logger, cfg, access, func(ctx context.Context, region string) (aws.Config, error) {
		return cloud.Load(ctx, region, opts)
	}, engineOpts...)
}

// connect is Connect with the loading of a region's base configuration
// (the SDK's default chain, in Connect) given: tests point it at moto.
func connect(ctx context.Context, logger *slog.Logger, cfg config.Config, access Access, base func(context.Context, string) (aws.Config, error), engineOpts ...engine.Option) (Cloud, error) {
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
			c = cloud.AssumeRole(c, role, access.session())
		}
		c = cloud.ForAccount(c, account) // its own rate-limit buckets
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
			listed[i] = org.Account(id)
		}
	}
	for _, a := range listed {
		roles[a.ID] = a.RoleFor(access == MayChange)
	}
	accounts, configs := []string{current}, []aws.Config{first}
	// The accounts are checked, then their aliases read, up to
	// aws.max-listings at a time: one after another, an organization of
	// hundreds of accounts waited minutes before its first listing.
	bound := cfg.AWS.MaxListings
	if bound == 0 {
		bound = config.DefaultMaxListings
	}
	if len(listed) > 0 {
		for _, a := range listed {
			if err := allowed(a.ID, which); err != nil {
				return Cloud{}, err // before assuming any role
			}
		}
		accounts, configs = make([]string, len(listed)), make([]aws.Config, len(listed))
		errs := make([]error, len(listed))
		var g errgroup.Group
		g.SetLimit(bound)
		for i, a := range listed {
			accounts[i] = a.ID
			g.Go(func() error {
				configs[i], errs[i] = checked(ctx, load, a.ID, roles[a.ID], cfg.Regions[0])
				return nil
			})
		}
		_ = g.Wait() // the goroutines return nil: errs holds each account's
		for _, err := range errs {
			if err != nil {
				return Cloud{}, err // the first account's in the config's order, as when checked in turn
			}
		}
	}
	aliases := map[string]string{}
	var amu sync.Mutex
	var g errgroup.Group
	g.SetLimit(bound)
	for i, id := range accounts {
		g.Go(func() error {
			// The alias only names the account in reports: without it (no
			// alias, or a role not granted iam:ListAccountAliases) the id
			// does.
			alias, err := cloud.AccountAlias(ctx, configs[i])
			amu.Lock()
			defer amu.Unlock()
			if err != nil {
				logger.Debug("no account alias", "account", id, "error", err)
			} else if alias != "" {
				aliases[id] = alias
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil
	regions := strings.Join(cfg.Regions, ",")
	if cfg.AllRegions {
		regions = config.AllRegions // the engine asks each account which
	}
	logger.Info("connected", "accounts", strings.Join(accounts, ","), "regions", regions, "access", access.String())
	return Cloud{Engine: engine.New(logger, load, engineOpts...), Accounts: accounts, Aliases: aliases}, nil
}

// checked is the configuration of account, whose role is assumed, after
// STS has said that the credentials are that account's.
func checked(ctx context.Context, load engine.Loader, account, role, region string) (aws.Config, error) {
	c, err := load(ctx, account, region)
	if err != nil {
		return c, err
	}
	got, err := cloud.AccountID(ctx, c)
	if err != nil {
		return c, fmt.Errorf("assume %s: %w", role, err)
	}
	if got != account { // never act in an account the config does not name
		return c, fmt.Errorf("assume %s: credentials are for account %s, not %s", role, got, account)
	}
	return c, nil
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
