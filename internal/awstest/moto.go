// Package awstest is test support for code that talks to AWS: it runs a real
// moto_server on a loopback port under libfaketime (so tests can make
// resources that are old), builds hermetic SDK configurations and process
// environments for it, seeds EC2 resources, builds, writes and reads tags
// (EC2 and S3), compares moto's times with a tolerance (TimeNear), and
// records the API calls a process under test makes through a reverse proxy
// (see Recorder). A helper that more than one package's tests need belongs
// here, not in copies.
//
// Everything it starts is stopped by t.Cleanup and listens on 127.0.0.1 only.
package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/broom-dev/broom/internal/testenv"
)

// Static credentials used for moto. moto accepts any; these are obviously fake.
const (
	AccessKeyID     = "AKIDTEST"
	SecretAccessKey = "secret"
	// AccountID is the account moto reports (STS GetCallerIdentity, OwnerId
	// of snapshots and images) for any credentials that are not a 12-digit
	// access key.
	AccountID = "123456789012"
	// DefaultRegion is the region Env puts into AWS_REGION.
	DefaultRegion = "us-east-1"
)

const (
	startTimeout = 90 * time.Second // a loaded 2-core CI machine starts several at once
	stopTimeout  = 10 * time.Second
	callTimeout  = 2 * time.Minute // a fresh moto builds its EC2 backend on the first call
)

// Moto is a moto_server process started by StartMoto. Its clock can be moved
// with SetClock; it is stopped when the test that started it ends.
type Moto struct {
	t         testing.TB
	url       string
	clockFile string
	logFile   string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd.Wait returns
}

// StartMoto starts moto_server under libfaketime, with
// MOTO_EC2_LOAD_DEFAULT_AMIS=false (an empty account), on a 127.0.0.1 port
// the server binds itself (-p 0, read back from the line it prints), and
// waits until that process answers as moto does. The server runs in its own
// process group, which t.Cleanup kills.
//
// If moto_server or libfaketime is missing the test is skipped, or fails when
// BROOM_STRICT_TESTS is set (see internal/testenv).
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	motoPath, libPath, err := findDeps()
	if err != nil {
		missingDep(t, err)
		return nil // not reached with a real testing.TB
	}
	m, err := startMoto(t, motoPath, libPath, t.TempDir())
	if err != nil {
		t.Fatalf("awstest: start moto_server: %v", err)
	}
	return m
}

var errExitedEarly = errors.New("moto_server exited before answering")

// findDeps locates moto_server on PATH and libfaketime at the Debian
// multiarch path for this architecture (or a few usual fallbacks).
func findDeps() (motoPath, libPath string, err error) {
	var missing []string
	motoPath, lookErr := exec.LookPath("moto_server")
	if lookErr != nil {
		missing = append(missing, "moto_server not on PATH (pip install 'moto[server]==5.2.1')")
	}
	libPath = findLibfaketime()
	if libPath == "" {
		missing = append(missing, "libfaketime.so.1 not found (apt-get install faketime)")
	}
	if len(missing) > 0 {
		return "", "", errors.New(strings.Join(missing, "; "))
	}
	return motoPath, libPath, nil
}

// libfaketimeCandidates lists where libfaketime.so.1 is looked for, best first.
func libfaketimeCandidates() []string {
	var c []string
	switch runtime.GOARCH {
	case "amd64":
		c = append(c, "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
	case "arm64":
		c = append(c, "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1")
	}
	return append(c,
		"/usr/lib/faketime/libfaketime.so.1",
		"/usr/local/lib/faketime/libfaketime.so.1",
	)
}

func findLibfaketime() string {
	for _, p := range libfaketimeCandidates() {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// missingDep skips the test, or fails it under BROOM_STRICT_TESTS (see
// internal/testenv).
func missingDep(t testing.TB, err error) {
	t.Helper()
	testenv.Missing(t, "awstest: "+err.Error())
}

// childEnv is the parent's environment without variables that would change
// moto's clock or account, plus moto's own settings.
func childEnv(libPath, clockFile string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LD_PRELOAD" || k == "MOTO_EC2_LOAD_DEFAULT_AMIS" || strings.HasPrefix(k, "FAKETIME") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"MOTO_EC2_LOAD_DEFAULT_AMIS=false",
		"LD_PRELOAD="+libPath,
		"FAKETIME_TIMESTAMP_FILE="+clockFile,
		"FAKETIME_NO_CACHE=1",
		// Fake only the wall clock. A faked monotonic clock ahead of the real
		// one turns the server's timed waits into waits of days.
		"FAKETIME_DONT_FAKE_MONOTONIC=1",
		// libfaketime's monotonic fix (on by default with this glibc) makes
		// moto's threads hand the GIL over through a slow path: concurrent
		// calls ran 5-35 times slower (bench/run.sh). The fix is for a
		// faked monotonic clock, which the line above keeps real.
		"FAKETIME_FORCE_MONOTONIC_FIX=0",
		// The line naming the bound port must arrive while we wait for it.
		"PYTHONUNBUFFERED=1",
	)
}

func startMoto(t testing.TB, motoPath, libPath, dir string) (*Moto, error) {
	t.Helper()
	clockFile := filepath.Join(dir, "ft")
	if err := os.WriteFile(clockFile, []byte("+0\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write clock file: %w", err)
	}
	logFile := filepath.Join(dir, "moto.log")
	out, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	// Port 0: moto binds a free port itself and says which, so no other
	// server can take it between a probe and moto's bind.
	cmd := exec.Command(motoPath, "-H", "127.0.0.1", "-p", "0")
	cmd.Env = childEnv(libPath, clockFile)
	lw := newListenWatcher(out)
	cmd.Stdout, cmd.Stderr = lw, lw
	cmd.SysProcAttr = motoProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("run %s: %w", motoPath, err)
	}
	m := &Moto{
		t:         t,
		clockFile: clockFile,
		logFile:   logFile,
		cmd:       cmd,
		exited:    make(chan struct{}),
	}
	go func() {
		_ = cmd.Wait() // also waits for the output to be copied
		out.Close()
		close(m.exited)
	}()

	url, err := waitReady(lw.url, m.exited, startTimeout)
	if err != nil {
		m.stop()
		t.Logf("awstest: moto_server output (%s):\n%s", logFile, readTail(logFile, 16<<10))
		return nil, err
	}
	m.url = url
	t.Cleanup(func() {
		m.stop()
		if t.Failed() {
			t.Logf("awstest: end of moto_server output (%s):\n%s", logFile, readTail(logFile, 8<<10))
		}
	})
	return m, nil
}

// listenRE matches the line Werkzeug prints once moto's socket is bound.
var listenRE = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)\b`)

// listenWatcher copies moto's output to its log file and sends the URL of
// the first "Running on http://127.0.0.1:PORT" line on url.
type listenWatcher struct {
	out  io.Writer
	url  chan string
	line []byte // the unfinished last line, until the URL is found
	sent bool
}

func newListenWatcher(out io.Writer) *listenWatcher {
	return &listenWatcher{out: out, url: make(chan string, 1)}
}

// Write is called by one goroutine at a time (os/exec's copier).
func (w *listenWatcher) Write(p []byte) (int, error) {
	if !w.sent {
		w.line = append(w.line, p...)
		for {
			i := bytes.IndexByte(w.line, '\n')
			if i < 0 {
				break
			}
			if m := listenRE.FindSubmatch(w.line[:i]); m != nil {
				w.url <- string(m[1])
				w.sent, w.line = true, nil
				break
			}
			w.line = w.line[i+1:]
		}
		if len(w.line) > 64<<10 { // no newline for this long: not Werkzeug's banner
			w.line = nil
		}
	}
	return w.out.Write(p)
}

// waitReady waits for the started process to name its URL, then polls that
// URL until it answers as moto does (see isMoto). It fails if the process
// exits first or timeout passes. An answer that is not moto's, from whatever
// server, is never taken for readiness.
func waitReady(urls <-chan string, exited <-chan struct{}, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var url string
	select {
	case url = <-urls:
	case <-exited:
		return "", errExitedEarly
	case <-deadline.C:
		return "", fmt.Errorf("moto_server did not say which port it bound within %v", timeout)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		err := isMoto(client, url)
		if err == nil {
			return url, nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("%w (last answer on %s: %v)", errExitedEarly, url, err)
		case <-deadline.C:
			return "", fmt.Errorf("moto_server did not answer on %s within %v: %w", url, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isMoto asks url for moto's configuration (GET /moto-api/config), which
// only moto serves: a JSON object with its "batch" and "lambda" settings.
func isMoto(client *http.Client, url string) error {
	resp, err := client.Get(url + "/moto-api/config")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read /moto-api/config: %w", err)
	}
	var cfg map[string]json.RawMessage
	if resp.StatusCode/100 != 2 || json.Unmarshal(body, &cfg) != nil || cfg["batch"] == nil || cfg["lambda"] == nil {
		return fmt.Errorf("not moto's answer: GET /moto-api/config: %s %.200q", resp.Status, body)
	}
	return nil
}

// stop terminates moto's process group and waits for the server to exit.
func (m *Moto) stop() {
	pgid := m.cmd.Process.Pid // Setpgid: the group id is the leader's pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-m.exited
	}
	// Anything left in the group (children of the leader) goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func readTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// URL is moto's endpoint, http://127.0.0.1:PORT.
func (m *Moto) URL() string { return m.url }

var clockOffsetRE = regexp.MustCompile(`^[+-][0-9]+(\.[0-9]+)?[smhdy]?$`)

// SetClock moves moto's wall clock: offset is a libfaketime relative offset
// such as "-400d" (400 days back), "-2h", or "+0" (the real time). It takes
// effect for the next request. Resources keep the time they were made at,
// so to make an old snapshot: SetClock("-400d"), create it, SetClock("+0").
//
// SetClock panics if offset is not of that form or the clock file cannot be
// written; it needs no testing.TB so it may be called from any subtest.
func (m *Moto) SetClock(offset string) {
	if !clockOffsetRE.MatchString(offset) {
		panic(fmt.Sprintf("awstest: SetClock(%q): not a libfaketime relative offset like -400d or +0", offset))
	}
	// Write a new file and rename it, so moto never reads a half-written one.
	tmp := m.clockFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(offset+"\n"), 0o600); err != nil {
		panic(fmt.Sprintf("awstest: SetClock: write clock file: %v", err))
	}
	if err := os.Rename(tmp, m.clockFile); err != nil {
		panic(fmt.Sprintf("awstest: SetClock: replace clock file: %v", err))
	}
}

// Reset empties every moto backend (POST /moto-api/reset), so one server can
// serve several subtests. It does not touch the clock. It panics if moto does
// not accept the reset.
func (m *Moto) Reset() {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url+"/moto-api/reset", nil)
	if err != nil {
		panic(fmt.Sprintf("awstest: Reset: build request: %v", err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(fmt.Sprintf("awstest: Reset: post to moto: %v", err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("awstest: Reset: moto answered %s: %s", resp.Status, body))
	}
}

// Config returns an SDK configuration for seeding and inspecting moto
// directly: static credentials, BaseEndpoint moto, one attempt per call, no
// IMDS. It ignores the developer's ~/.aws files, AWS_PROFILE and
// AWS_ENDPOINT_URL_<SERVICE>. To send calls through a Recorder, set
// cfg.BaseEndpoint = aws.String(rec.URL()).
func (m *Moto) Config(t testing.TB, region string) aws.Config {
	t.Helper()
	// An explicit profile in an empty file of our own: with no files at all,
	// an AWS_PROFILE in the environment would make loading fail.
	shared := filepath.Join(t.TempDir(), "aws-config")
	if err := os.WriteFile(shared, []byte("[default]\n"), 0o600); err != nil {
		t.Fatalf("awstest: write empty aws config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		config.WithBaseEndpoint(m.url),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigFiles([]string{shared}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithSharedConfigProfile("default"),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	)
	if err != nil {
		t.Fatalf("awstest: load aws config: %v", err)
	}
	// ConfigSources carry the environment into each client, where
	// AWS_ENDPOINT_URL_EC2 and friends would override BaseEndpoint, and
	// AWS_USE_FIPS_ENDPOINT would break it. Drop them: everything needed
	// has been resolved above.
	cfg.ConfigSources = nil
	return cfg
}

// Recorded returns a configuration for region like Config's, but whose
// calls reach moto through a new Recorder, and the recorder: hand the
// configuration to the code under test, and seed and inspect with Config.
func (m *Moto) Recorded(t testing.TB, region string) (aws.Config, *Recorder) {
	t.Helper()
	rec := NewRecorder(t, m.url)
	cfg := m.Config(t, region)
	cfg.BaseEndpoint = aws.String(rec.URL())
	return cfg, rec
}

// Env is the environment a broom process under test needs to reach endpoint
// (moto's URL, a Recorder's, or any other, even one nothing listens on) with
// the test credentials in DefaultRegion, never touching IMDS or the
// developer's ~/.aws files. It needs no running moto.
//
// It holds only these AWS variables. Build a child's environment from it plus
// the non-AWS variables the child needs (PATH, HOME, GITHUB_*, ...) rather
// than appending it to os.Environ(), which may carry AWS_PROFILE,
// AWS_SESSION_TOKEN or AWS_ENDPOINT_URL_EC2 from the developer's shell.
func Env(endpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + DefaultRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}
