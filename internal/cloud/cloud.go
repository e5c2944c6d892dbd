// Package cloud builds AWS SDK configurations the same way for every region
// and account: the SDK's default credential chain and endpoint settings,
// its retryer with broom's limits, a per-attempt HTTP timeout, and a rate
// limiter shared by the run that keeps to EC2's request-rate limits.
package cloud

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/broom-dev/broom/internal/config"
)

// Options tune the SDK clients broom builds: the aws block of the config
// (zero fields take the defaults below) and the run's rate limiter.
type Options struct {
	config.AWS
	// Limiter paces every call of every client built with these options;
	// nil: no client-side pacing.
	Limiter *Limiter
}

// Defaults of the aws block's settings.
const (
	DefaultRetryMode   = "standard"
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 20 * time.Second
	DefaultCallTimeout = 30 * time.Second
)

// NewOptions returns the options of one run: the config's aws settings and
// a fresh limiter with its rate limits. Build them once per run and pass
// them to every Load, so that all clients of a region share the buckets.
func NewOptions(a config.AWS) Options {
	return Options{AWS: a, Limiter: NewLimiter(a.RateLimits)}
}

func (o Options) withDefaults() Options {
	if o.RetryMode == "" {
		o.RetryMode = DefaultRetryMode
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// retryer builds the SDK retryer o asks for. Both modes retry throttling
// and transient errors (5xx, connection errors, timeouts) with exponential
// backoff and full jitter, capped at MaxBackoff, and fail fast on the rest
// (InvalidSnapshot.InUse, UnauthorizedOperation, …). The SDK's retry quota
// is off: the limiter paces the calls instead, and a quota drained by a
// throttling spell would fail actions that a wait would have saved.
func (o Options) retryer() aws.Retryer {
	standard := func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.RateLimiter = ratelimit.None
	}
	if o.RetryMode == "adaptive" {
		return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
			ao.StandardOptions = append(ao.StandardOptions, standard)
		})
	}
	return retry.NewStandard(standard)
}

// Load returns the configuration for one region. Credentials, profile and
// endpoint (AWS_ENDPOINT_URL) come from the SDK's default chain; retries,
// the per-attempt HTTP timeout and the rate limiter from o.
func Load(ctx context.Context, region string, o Options) (aws.Config, error) {
	o = o.withDefaults()
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithRetryer(o.retryer),
		// Every attempt of every call, reading the body included, ends
		// within CallTimeout; the retryer treats a timeout as transient.
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.CallTimeout)),
	}
	if o.Limiter != nil {
		opts = append(opts, awsconfig.WithAPIOptions([]func(*middleware.Stack) error{o.Limiter.addTo(region)}))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration for %s: %w", region, err)
	}
	return cfg, nil
}

// AssumeRole returns cfg with credentials of role, assumed through STS with
// cfg's own credentials and refreshed before they expire.
func AssumeRole(cfg aws.Config, role, session string) aws.Config {
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session }))
	return out
}

// AccountID asks STS which account the configuration's credentials belong to.
func AccountID(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	return aws.ToString(out.Account), nil
}

// AccountAlias returns the account's alias (iam:ListAccountAliases), or ""
// when it has none. An account has at most one alias. The alias only names
// the account in reports, so callers treat an error (AccessDenied for a
// role without the grant) as no alias.
func AccountAlias(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := iam.NewFromConfig(cfg).ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		return "", fmt.Errorf("list account aliases: %w", err)
	}
	if len(out.AccountAliases) == 0 {
		return "", nil
	}
	return out.AccountAliases[0], nil
}
