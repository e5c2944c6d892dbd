package cloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/logging"

	"github.com/broom-dev/broom/internal/cloud"
	"github.com/broom-dev/broom/internal/faults"
)

// lockedBuffer is a bytes.Buffer safe for the SDK's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

// The SDK's own lines become records of the run's logger: its warnings
// at Warn, the rest at Debug, marked as the SDK's.
func TestSDKLoggerWritesToSlog(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	l := cloud.SDKLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload.\n")
	l.(logging.ContextLogger).WithContext(t.Context()).Logf(logging.Debug, "retrying request %s/%s, attempt %d", "EC2", "DeleteSnapshot", 2)
	got := buf.records(t)
	want := []struct{ level, msg string }{
		{"WARN", "Response has no supported checksum. Not validating response payload."},
		{"DEBUG", "retrying request EC2/DeleteSnapshot, attempt 2"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i]["level"] != w.level || got[i]["msg"] != w.msg || got[i]["from"] != "aws-sdk" {
			t.Errorf("record %d: %v, want level %s, msg %q, from aws-sdk", i, got[i], w.level, w.msg)
		}
	}
}

// A client built by Load with a logger logs through it: here the retry
// the SDK logs when asked to (aws.LogRetries), which would otherwise be a
// plain-text line on stderr.
func TestLoadRoutesTheSDKLogThroughSlog(t *testing.T) {
	t.Parallel()
	w := newWorld(t, faults.Rule{Op: "DeleteSnapshot", Limit: 1, Fault: faults.Throttle()})
	var buf lockedBuffer
	o := cloud.NewOptions(fast)
	o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := w.client(t, "us-east-1", o)
	_, err := c.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-1")},
		func(eo *ec2.Options) { eo.ClientLogMode = aws.LogRetries })
	if err != nil {
		t.Fatal(err)
	}
	var retries int
	for _, r := range buf.records(t) {
		if r["from"] == "aws-sdk" && strings.Contains(r["msg"].(string), "retrying request") {
			retries++
		}
	}
	if retries != 1 {
		t.Errorf("%d SDK retry records in the log, want 1:\n%s", retries, buf.buf.String())
	}
}

// Without credentials, the error names every place the SDK's chain looked
// (its own names only the last) and keeps the SDK's error.
func TestCredentialsErrorNamesTheChain(t *testing.T) {
	t.Parallel()
	cause := errors.New("no EC2 IMDS role found")
	cfg := aws.Config{Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, cause
	}))}
	err := cloud.Credentials(t.Context(), cfg)
	if !errors.Is(err, cause) {
		t.Fatalf("error %v does not wrap the SDK's", err)
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_PROFILE", "credential_process", "ECS", "instance metadata"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	ok := aws.Config{Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"}, nil
	})}
	if err := cloud.Credentials(t.Context(), ok); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}
