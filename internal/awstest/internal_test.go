package awstest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/broom-dev/broom/internal/testenv"
)

func sign(req *http.Request, region, service string) {
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/"+region+"/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
}

// TestIdentify checks the recorder names calls with awsreq.Identify (whose
// own tests cover every operation) and leaves the body for the proxy.
func TestIdentify(t *testing.T) {
	form := "application/x-www-form-urlencoded; charset=utf-8"
	for _, tc := range []struct {
		method, target, service, contentType, body string
		want                                       string
	}{
		{"POST", "/", "ec2", form, "Action=DescribeSnapshots&Version=2016-11-15", "DescribeSnapshots"},
		{"POST", "/", "sts", form, "Action=GetCallerIdentity&Version=2011-06-15", "GetCallerIdentity"},
		{"DELETE", "/bkt?lifecycle", "s3", "", "", "DeleteBucketLifecycle"},
		{"PUT", "/bkt/a/b.txt", "s3", "text/plain", "hi", "PutObject"},
		{"POST", "/x", "", "", "", "POST /x"},
	} {
		req := httptest.NewRequest(tc.method, "http://127.0.0.1:1"+tc.target, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		if tc.service != "" {
			sign(req, "eu-west-1", tc.service)
		}
		got, _ := identify(req)
		want := Call{Op: tc.want}
		if tc.service != "" {
			want.Service, want.Region = tc.service, "eu-west-1"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.method, tc.target, diff)
		}
		if b, _ := io.ReadAll(req.Body); string(b) != tc.body {
			t.Errorf("%s %s: body after identify = %q, want %q", tc.method, tc.target, b, tc.body)
		}
	}
}

func TestIsRead(t *testing.T) {
	for op, want := range map[string]bool{
		"DescribeSnapshots": true, "GetCallerIdentity": true, "ListBuckets": true, "HeadBucket": true,
		"DeleteSnapshot": false, "CreateTags": false, "DeregisterImage": false, "PutBucketVersioning": false,
		"AssumeRole": false, "S3:PATCH": false, "": false,
	} {
		if got := IsRead(op); got != want {
			t.Errorf("IsRead(%q) = %v, want %v", op, got, want)
		}
	}
}

// TestRecorderForwards checks the proxy passes the body, method, path and
// Host through unchanged, and records the call before forwarding.
func TestRecorderForwards(t *testing.T) {
	type seen struct{ method, path, host, body string }
	got := make(chan seen, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.RequestURI(), r.Host, string(b)}
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	rec := NewRecorder(t, backend.URL)
	if !strings.HasPrefix(rec.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want loopback", rec.URL())
	}

	body := "Action=DeleteSnapshot&SnapshotId=snap-1&Version=2016-11-15"
	req, _ := http.NewRequestWithContext(t.Context(), "POST", rec.URL()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(req, "us-east-1", "ec2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || string(respBody) != "ok" {
		t.Errorf("response %d %q", resp.StatusCode, respBody)
	}
	want := seen{"POST", "/", strings.TrimPrefix(rec.URL(), "http://"), body}
	if diff := cmp.Diff(want, <-got, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("backend saw (-want +got):\n%s", diff)
	}
	wantCalls := []Call{{Service: "ec2", Region: "us-east-1", Op: "DeleteSnapshot"}}
	if diff := cmp.Diff(wantCalls, rec.Mutating()); diff != "" {
		t.Errorf("Mutating() (-want +got):\n%s", diff)
	}
	if n := rec.Count("DeleteSnapshot"); n != 1 {
		t.Errorf("Count = %d", n)
	}
	if got := rec.AssumedRoles(); got != nil {
		t.Errorf("AssumedRoles() = %v after no AssumeRole, want none", got)
	}

	body = "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fbroom-plan&RoleSessionName=broom-plan&Version=2011-06-15"
	req, _ = http.NewRequestWithContext(t.Context(), "POST", rec.URL()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(req, "us-east-1", "sts")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-got
	wantRoles := []AssumedRole{{RoleArn: "arn:aws:iam::111111111111:role/broom-plan", SessionName: "broom-plan"}}
	if diff := cmp.Diff(wantRoles, rec.AssumedRoles()); diff != "" {
		t.Errorf("AssumedRoles() (-want +got):\n%s", diff)
	}
	if rec.Reset(); rec.AssumedRoles() != nil {
		t.Errorf("AssumedRoles() after Reset = %v, want none", rec.AssumedRoles())
	}
}

// fakeTB records Fatalf and Skipf; both end the goroutine like the real ones.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = format
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = format
	runtime.Goexit()
}

// TestMissingDep checks a missing moto or libfaketime goes through
// testenv.Missing: under BROOM_STRICT_TESTS it is a failure. (The skip
// without it is testenv's to test; here it would count in the summary.)
func TestMissingDep(t *testing.T) {
	t.Setenv(testenv.StrictVar, "1")
	t.Setenv("CI", "false") // no longer consulted
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		missingDep(f, errors.New("moto_server not on PATH"))
	}()
	<-done
	if f.fatal == "" || f.skip != "" {
		t.Errorf("%s=1: fatal %q skip %q, want a failure", testenv.StrictVar, f.fatal, f.skip)
	}
}

func TestLibfaketimeCandidates(t *testing.T) {
	c := libfaketimeCandidates()
	want := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	if want != "" && !strings.Contains(c[0], want) {
		t.Errorf("first candidate %q, want the %s multiarch path", c[0], want)
	}
}

// TestStopKillsGroup checks that when the test that started moto ends, the
// server's whole process group is gone and its port is closed.
func TestStopKillsGroup(t *testing.T) {
	var m *Moto
	t.Run("inner", func(t *testing.T) {
		m = StartMoto(t)
	})
	if m == nil {
		t.Skip("moto did not start")
	}
	pgid := m.cmd.Process.Pid
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after cleanup (kill 0: %v)", pgid, err)
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(m.URL(), "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after cleanup", m.URL())
	}
}

func TestListenWatcherFindsTheBoundPort(t *testing.T) {
	var log strings.Builder
	w := newListenWatcher(&log)
	chunks := []string{
		"WARNING: This is a development server.\n * Running on http://0.0.0.0:5000\n", // not loopback: not ours
		" * Running on http://127.0.0.1:4", "5251\nPress CTRL+C to quit\n",
		" * Running on http://127.0.0.1:1\n", // only the first counts
	}
	for _, c := range chunks {
		if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	select {
	case got := <-w.url:
		if got != "http://127.0.0.1:45251" {
			t.Errorf("url %q, want http://127.0.0.1:45251", got)
		}
	default:
		t.Fatal("no url found")
	}
	select {
	case got := <-w.url:
		t.Errorf("a second url %q", got)
	default:
	}
	if log.String() != strings.Join(chunks, "") {
		t.Errorf("log %q, want every byte", log.String())
	}
}

// motoConfig is what moto 5 answers to GET /moto-api/config.
const motoConfig = `{"batch": {"use_docker": true}, "lambda": {"use_docker": true}}`

// TestWaitReadyTakesOnlyMotosAnswer points the readiness check at servers
// that answer HTTP but are not moto (another test's fault proxy answering
// 503, anything answering 200): none is taken for moto.
func TestWaitReadyTakesOnlyMotosAnswer(t *testing.T) {
	t.Parallel()
	serve := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	alive := make(chan struct{}) // never closed: the process runs
	for name, url := range map[string]string{
		"a fault proxy's throttling": serve(503, `<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>`),
		"any 200":                    serve(200, "ok"),
		"JSON that is not moto's":    serve(200, `{"message": "hello"}`),
		"moto's answer, failed":      serve(500, motoConfig),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			urls := make(chan string, 1)
			urls <- url
			got, err := waitReady(urls, alive, 300*time.Millisecond)
			if err == nil || got != "" {
				t.Errorf("waitReady on a decoy = %q, %v; want an error", got, err)
			}
		})
	}
	t.Run("moto's answer", func(t *testing.T) {
		t.Parallel()
		url := serve(200, motoConfig)
		urls := make(chan string, 1)
		urls <- url
		if got, err := waitReady(urls, alive, time.Minute); err != nil || got != url {
			t.Errorf("waitReady = %q, %v; want %s", got, err, url)
		}
	})
	t.Run("the process exits", func(t *testing.T) {
		t.Parallel()
		urls := make(chan string, 1)
		urls <- serve(200, "ok")
		exited := make(chan struct{})
		close(exited)
		if _, err := waitReady(urls, exited, time.Minute); !errors.Is(err, errExitedEarly) {
			t.Errorf("waitReady after the process exited: %v, want errExitedEarly", err)
		}
	})
	t.Run("the process exits before naming its port", func(t *testing.T) {
		t.Parallel()
		exited := make(chan struct{})
		close(exited)
		if _, err := waitReady(make(chan string), exited, time.Minute); !errors.Is(err, errExitedEarly) {
			t.Errorf("waitReady = %v, want errExitedEarly", err)
		}
	})
}
