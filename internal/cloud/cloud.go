// Package cloud builds AWS SDK configurations the same way for every region
// and account: the SDK's default credential chain and endpoint settings,
// its standard retryer with broom's limits, and a per-attempt HTTP timeout.
package cloud

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options tune the SDK clients broom builds.
type Options struct {
	MaxAttempts int           // per call, including the first; default 5
	MaxBackoff  time.Duration // longest wait between attempts; default 20s
	CallTimeout time.Duration // per HTTP attempt; default 30s
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 20 * time.Second
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 30 * time.Second
	}
	return o
}

// Load returns the configuration for one region. Credentials, profile and
// endpoint (AWS_ENDPOINT_URL) come from the SDK's default chain.
func Load(ctx context.Context, region string, o Options) (aws.Config, error) {
	o = o.withDefaults()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		// The standard retryer retries throttling and transient errors with
		// exponential backoff and jitter, and fails fast on the rest.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
			})
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.CallTimeout)),
	)
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
