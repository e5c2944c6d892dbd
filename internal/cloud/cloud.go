// Package cloud builds AWS SDK configurations the same way for every region
// and account: the SDK's default credential chain and endpoint settings,
// its retryer with broom's limits, a per-attempt HTTP timeout, and a rate
// limiter shared by the run that keeps to EC2's request-rate limits.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
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
	// Logger receives the SDK's own log lines (see SDKLogger); nil: the
	// SDK's default, plain text on stderr.
	Logger *slog.Logger
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
	if o.Logger != nil {
		opts = append(opts, awsconfig.WithLogger(SDKLogger(o.Logger)))
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

// credentialChain is where the SDK's default chain looks for credentials,
// in its order, for an error that says none worked: the SDK's own error
// names only the last place it tried (usually the instance metadata).
const credentialChain = "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), " +
	"web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as GitHub OIDC sets them), " +
	"the shared config and credentials files (profile AWS_PROFILE, else default; with SSO or credential_process), " +
	"the container endpoint (ECS, EKS Pod Identity) and the EC2 instance metadata service"

// Credentials gets cfg's credentials from the SDK's default chain; its
// error names every place the chain looked. The configuration caches
// them, so the calls that follow do not look again.
func Credentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return fmt.Errorf("no AWS credentials: the SDK's default chain tried %s", credentialChain)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("no usable AWS credentials: the SDK's default chain tried %s: %w", credentialChain, err)
	}
	return nil
}

// SDKLogger is the AWS SDK's logger (aws.Config.Logger) writing into the
// run's logger, so that the SDK's own lines (a response without a
// checksum, a clock-skew retry) take the run's format, JSON included, and
// pass through its cleaning: the SDK's warnings at Warn, the rest at Debug.
func SDKLogger(logger *slog.Logger) logging.Logger {
	return sdkLogger{logger: logger.With("from", "aws-sdk"), ctx: context.Background()}
}

type sdkLogger struct {
	logger *slog.Logger
	ctx    context.Context
}

// Logf logs one SDK line.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.logger.Log(l.ctx, level, strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// WithContext is the logger for one operation (logging.ContextLogger).
func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	l.ctx = ctx
	return l
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

// EnabledRegions asks EC2 for the regions enabled for cfg's account (those
// that need no opt-in and those opted in to: DescribeRegions without
// AllRegions), sorted by name.
func EnabledRegions(ctx context.Context, cfg aws.Config) ([]string, error) {
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, err // the SDK's error names the call; the caller, the account
	}
	var names []string
	for _, r := range out.Regions {
		// Without AllRegions EC2 lists no other; a region not opted in to
		// would refuse every call, so it is never listed here either.
		if aws.ToString(r.OptInStatus) != "not-opted-in" && aws.ToString(r.RegionName) != "" {
			names = append(names, aws.ToString(r.RegionName))
		}
	}
	if len(names) == 0 {
		return nil, errors.New("EC2 DescribeRegions named no enabled region")
	}
	slices.Sort(names)
	return names, nil
}
