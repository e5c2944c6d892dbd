package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/broom-dev/broom/internal/awstest"
	"github.com/broom-dev/broom/internal/faults"
)

// withFaults puts a fault proxy between broom and moto, and returns it with
// a recorder of what got through: broom → w.rec (a new recorder: every
// attempt broom made) → proxy → reached (what moto was asked) → moto. w.run
// goes through it.
func (w *world) withFaults() (p *faults.Proxy, reached *awstest.Recorder) {
	w.t.Helper()
	reached = w.rec
	p, err := faults.New(reached.URL())
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(p.Close)
	w.rec = awstest.NewRecorder(w.t, p.URL())
	return p, reached
}

// oldSnapshots makes n old CI snapshots, all planned for deletion.
func (w *world) oldSnapshots(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = w.snapshot("-400d", map[string]string{"Environment": "ci"})
	}
	return ids
}

// planFile reads the plan file a run wrote: status and error by id.
func planFile(t *testing.T, r result) map[string][2]string {
	t.Helper()
	data := r.file(t, "plan-file")
	var pf struct {
		Actions []struct{ ID, Status, Error string }
	}
	if err := json.Unmarshal(data, &pf); err != nil {
		t.Fatalf("plan file: %v", err)
	}
	out := map[string][2]string{}
	for _, a := range pf.Actions {
		out[a.ID] = [2]string{a.Status, a.Error}
	}
	return out
}

func (r result) allOutputs(t *testing.T) {
	t.Helper()
	for _, k := range allOutputs {
		if _, ok := r.outputs[k]; !ok {
			t.Errorf("output %s not written", k)
		}
	}
}

// fastRetries keeps the tests short: backoffs of at most 1s, and enough
// attempts that 30% throttling never exhausts them.
const fastRetries = `aws:
  max-attempts: 10
  max-backoff: 1s
`

// A third of every EC2 call throttled: the plan and the apply get through
// on retries, paced down by the limiter, and nothing fails. (High limits
// keep the test short: throttling at random, whatever the rate, slows the
// EC2 defaults to about a fifth; internal/cloud tests that.)
func TestAWSFaultThrottlingIsRetried(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(defaultConfig + fastRetries + `  rate-limits:
    DeleteSnapshot: {burst: 100, per-second: 100}
    non-mutating: {burst: 100, per-second: 100}
`)
	ids := w.oldSnapshots(10)
	p, reached := w.withFaults()
	p.SetRules(faults.Rule{Service: "ec2", Fraction: 0.3, Fault: faults.Throttle()})

	plan := w.run("pull_request", w.prPayload("opened"), nil)
	plan.want(t, 0, map[string]string{"result": "planned", "planned": "10"})
	start := time.Now()
	r := w.run("pull_request", w.labeled("alice", label), nil)
	t.Logf("the apply took %v", time.Since(start))
	r.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "planned": "10", "applied": "10",
		"failed": "0", "skipped": "0", "fingerprint": plan.outputs["fingerprint"]})
	for _, id := range ids {
		if w.exists(id) {
			t.Errorf("snapshot %s was not deleted", id)
		}
	}
	var injected int
	for op, s := range p.Stats() {
		t.Logf("%s: %+v", op, s)
		if strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Delete") {
			injected += s.Injected
		}
	}
	if injected == 0 {
		t.Error("no call was throttled: the test tested nothing")
	}
	// A throttled call never reached moto; each deletion reached it once.
	if n := reached.Count("DeleteSnapshot"); n != len(ids) {
		t.Errorf("moto got %d DeleteSnapshot calls, want %d", n, len(ids))
	}
	if n, tried := p.Stats()["DeleteSnapshot"], w.rec.Count("DeleteSnapshot"); n.Requests != tried || tried != len(ids)+n.Injected {
		t.Errorf("broom sent %d DeleteSnapshot attempts, the proxy saw %+v", tried, n)
	}
}

// Permanent errors on two snapshots: exit 3, the other eight done, the two
// named with their code, each tried once; a second approval after the
// faults are gone finishes them, and nothing is deleted twice.
func TestAWSFaultPermanentErrorsThenRerun(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(defaultConfig + fastRetries)
	ids := w.oldSnapshots(10)
	bad := map[string]string{ids[3]: "InvalidSnapshot.InUse", ids[7]: "UnauthorizedOperation"}
	p, reached := w.withFaults()
	p.SetRules(
		faults.Rule{Op: "DeleteSnapshot", IDs: []string{ids[3]},
			Fault: faults.APIError(400, "InvalidSnapshot.InUse", "The snapshot "+ids[3]+" is currently in use by ami-0123")},
		faults.Rule{Op: "DeleteSnapshot", IDs: []string{ids[7]},
			Fault: faults.APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.")},
	)
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, map[string]string{"planned": "10"})

	r := w.run("pull_request", w.labeled("alice", label), nil)
	r.want(t, 3, map[string]string{"mode": "apply", "result": "partial", "planned": "10", "applied": "8", "failed": "2", "skipped": "0"})
	r.allOutputs(t)
	status := planFile(t, r)
	body := ""
	if c := w.stickyComments(); len(c) == 1 {
		body = c[0].Body
	} else {
		t.Errorf("%d sticky comments, want 1", len(c))
	}
	for _, id := range ids {
		code, isBad := bad[id]
		switch {
		case isBad:
			if !w.exists(id) {
				t.Errorf("%s failed but is gone", id)
			}
			if status[id][0] != "failed" || !strings.HasPrefix(status[id][1], code+": ") {
				t.Errorf("plan file: %s is %v, want failed with %s", id, status[id], code)
			}
			for where, text := range map[string]string{"step summary": r.summary, "comment": body} {
				if !strings.Contains(text, id) || !strings.Contains(text, code) {
					t.Errorf("the %s does not name %s with %s", where, id, code)
				}
			}
		default:
			if w.exists(id) {
				t.Errorf("%s was not deleted", id)
			}
			if status[id][0] != "done" {
				t.Errorf("plan file: %s is %v, want done", id, status[id])
			}
		}
	}
	// Permanent errors are not retried: one attempt each.
	if n := w.rec.Count("DeleteSnapshot"); n != len(ids) {
		t.Errorf("broom made %d DeleteSnapshot attempts, want %d (one each)", n, len(ids))
	}

	// The faults are gone; approving the remainder finishes it.
	p.ClearRules()
	w.rec.Reset()
	reached.Reset()
	again := w.run("pull_request", w.labeled("alice", label), nil)
	again.want(t, 0, map[string]string{"mode": "apply", "result": "applied", "planned": "2", "applied": "2", "failed": "0"})
	for id := range bad {
		if w.exists(id) {
			t.Errorf("%s still exists after the re-run", id)
		}
		if s := planFile(t, again)[id]; s[0] != "done" {
			t.Errorf("re-run plan file: %s is %v, want done", id, s)
		}
	}
	if n := reached.Count("DeleteSnapshot"); n != len(bad) {
		t.Errorf("the re-run deleted %d snapshots, want only the %d that failed", n, len(bad))
	}
}

// Calls slower than the per-call timeout: the run ends at its deadline,
// long before its retries would, with a report and every output.
func TestAWSFaultCallTimeoutsEndAtTheDeadline(t *testing.T) {
	w := newWorld(t)
	w.writeConfig(strings.Replace(defaultConfig, "max-actions: 50\n", "max-actions: 50\ntimeout: 4s\n", 1) +
		"aws:\n  call-timeout: 1s\n  max-attempts: 10\n  max-backoff: 1s\n")
	w.oldSnapshots(2)
	p, _ := w.withFaults()
	p.SetRules(faults.Rule{Op: "DescribeSnapshots", Fault: faults.Delay(time.Minute)})

	start := time.Now()
	r := w.run("pull_request", w.prPayload("opened"), nil)
	took := time.Since(start)
	r.want(t, 1, map[string]string{"mode": "plan", "result": "error"})
	r.allOutputs(t)
	// 10 attempts of 1s and their backoffs would take over 10s.
	if took > 8*time.Second {
		t.Errorf("the run took %v, want it to end at its 4s deadline (plus start-up)", took)
	}
	if n := p.Stats()["DescribeSnapshots"].Requests; n < 2 {
		t.Errorf("%d DescribeSnapshots attempts, want the timed-out call retried", n)
	}
	if !strings.Contains(r.summary, "DescribeSnapshots") {
		t.Errorf("the step summary does not say what failed:\n%s", r.summary)
	}
}

// proc is a broom process started in the background.
type proc struct {
	w              *world
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr bytes.Buffer
	runner         runner
}

// start starts `broom action` the way run does, without waiting for it.
func (w *world) start(event string, payload map[string]any, inputs map[string]string) *proc {
	w.t.Helper()
	env, rn := w.actionEnv(event, payload, inputs)
	p := &proc{w: w, runner: rn}
	var ctx context.Context
	ctx, p.cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	p.cmd = exec.CommandContext(ctx, binary, "action")
	p.cmd.Dir, p.cmd.Env = w.dir, env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		p.cancel()
		w.t.Fatalf("start broom: %v", err)
	}
	w.t.Cleanup(func() { p.cancel(); _ = p.cmd.Wait() })
	return p
}

// wait waits for the process to exit and returns what it left behind.
func (p *proc) wait() result {
	p.w.t.Helper()
	defer p.cancel()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.w.t.Fatalf("run broom: %v", err)
	}
	r := result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
	p.runner.read(p.w.t, &r)
	p.w.t.Logf("broom action exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	return r
}

// SIGTERM in the middle of an apply (a cancelled workflow run): the
// deletions in flight finish, the rest are skipped, and the report, the
// comment and every output say so truthfully; the exit code is 3, partial.
func TestAWSFaultCancelMidApply(t *testing.T) {
	w := newWorld(t)
	ids := w.oldSnapshots(10)
	p, _ := w.withFaults()
	w.run("pull_request", w.prPayload("opened"), nil).want(t, 0, map[string]string{"planned": "10"})
	// Deletions take 2s: eight are in flight (broom's workers) when the
	// signal comes, and the other two wait for a worker.
	p.SetRules(faults.Rule{Op: "DeleteSnapshot", Fault: faults.Delay(2 * time.Second)})

	proc := w.start("pull_request", w.labeled("alice", label), nil)
	deadline := time.Now().Add(time.Minute)
	for p.Stats()["DeleteSnapshot"].Requests == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no DeleteSnapshot within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	signalled := time.Now()
	if err := proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := proc.wait()
	if took := time.Since(signalled); took > 10*time.Second {
		t.Errorf("broom took %v after SIGTERM: a runner kills it after about 10s", took)
	}

	// Some actions skipped: the apply is partial, SPEC §8's exit code 3
	// (a cancellation with nothing left undone would be 1).
	r.want(t, 3, map[string]string{"mode": "apply", "result": "partial", "planned": "10"})
	r.allOutputs(t)
	applied, _ := strconv.Atoi(r.outputs["applied"])
	skipped, _ := strconv.Atoi(r.outputs["skipped"])
	failed, _ := strconv.Atoi(r.outputs["failed"])
	if skipped == 0 || applied+skipped+failed != len(ids) {
		t.Errorf("applied %d, skipped %d, failed %d: want some skipped and every one of %d accounted for", applied, skipped, failed, len(ids))
	}
	// Nothing lost or misreported: each snapshot is gone and done, or
	// still there and skipped; an action still in flight when the grace
	// ran out (a loaded machine) is failed with its outcome unknown.
	status := planFile(t, r)
	var body string
	if c := w.stickyComments(); len(c) == 1 {
		body = c[0].Body
	} else {
		t.Errorf("%d sticky comments, want 1", len(c))
	}
	for _, id := range ids {
		switch s, exists := status[id], w.exists(id); {
		case !exists && s[0] == "done":
		case s[0] == "failed" && strings.HasPrefix(s[1], "outcome unknown: cut off"):
		case exists && s[0] == "skipped":
			if !strings.Contains(s[1], "cancelled") {
				t.Errorf("%s skipped with %q, want it to say the run was cancelled", id, s[1])
			}
		default:
			t.Errorf("%s: status %v but the snapshot exists=%v", id, s, exists)
		}
		if !strings.Contains(r.summary, id) {
			t.Errorf("the step summary does not list %s", id)
		}
	}
	for _, want := range []string{"skipped", "cancelled"} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment does not say %q after the cancelled apply:\n%s", want, body)
		}
		if !strings.Contains(r.summary, want) {
			t.Errorf("the step summary does not say %q", want)
		}
	}
	if got := w.gh.Labels(prNumber); len(got) != 0 {
		t.Errorf("labels %v after the cancelled apply, want the approval removed", got)
	}
}
