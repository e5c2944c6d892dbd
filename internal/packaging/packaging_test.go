// Package packaging_test checks what users see of broom before they run it:
// action.yml, the README's input and output tables, the code that reads the
// inputs and writes the outputs, the example workflows, the Dockerfile
// with the binary it builds, and the release workflow. It has no non-test
// code.
package packaging_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"

	"github.com/broom-dev/broom/internal/config"
)

const root = "../.."

// specInputs and specOutputs are SPEC §4's tables.
var (
	specInputs = []string{
		"config", "mode", "github-token", "approve-label", "approver-permission",
		"regions", "rules", "max-actions", "comment", "tracking-issue",
		"expect-fingerprint", "allow-self-approval", "log-format",
	}
	specOutputs = []string{
		"mode", "result", "fingerprint", "planned", "applied", "failed",
		"skipped", "plan-file", "report-file", "comment-url", "exit-code",
	}
)

type actionYML struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct{ Description string }
	Runs    struct {
		Using      string
		Image      string
		Entrypoint string
		Args       []string
	}
}

func readAction(t *testing.T) actionYML {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

func sorted[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// missing returns the items of want not in have.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

func TestActionMetadata(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	for what, v := range map[string]string{"name": a.Name, "description": a.Description, "author": a.Author, "branding.icon": a.Branding.Icon, "branding.color": a.Branding.Color} {
		if strings.TrimSpace(v) == "" {
			t.Errorf("action.yml: %s is empty (the Marketplace needs it)", what)
		}
	}
	if a.Runs.Using != "docker" {
		t.Errorf("action.yml: runs.using = %q, want docker", a.Runs.Using)
	}
	if err := checkImage(a.Runs.Image); err != nil {
		t.Errorf("action.yml: %v", err)
	}
}

// imageDigest is how a release commit's action.yml names the image the
// release workflow pushed.
var imageDigest = regexp.MustCompile(`^docker://ghcr\.io/[a-z0-9._-]+/broom@sha256:[0-9a-f]{64}$`)

// checkImage: action.yml's image is the Dockerfile, built by the runner
// (main, between releases), or an image by digest (a release commit). A
// tag (docker://…:v1) would move under `uses: OWNER/broom@<commit>`, and
// the commit would pin nothing (SPEC §11).
func checkImage(img string) error {
	switch {
	case img == "Dockerfile":
		return nil
	case imageDigest.MatchString(img):
		return nil
	}
	return fmt.Errorf("runs.image %q: want Dockerfile (between releases) or docker://ghcr.io/<owner>/broom@sha256:<digest> (a release commit)", img)
}

func TestActionImage(t *testing.T) {
	t.Parallel()
	for img, ok := range map[string]bool{
		"Dockerfile": true,
		"docker://ghcr.io/broom-dev/broom@sha256:" + strings.Repeat("ab", 32):    true,
		"docker://ghcr.io/broom-dev/broom:v1":                                    false,
		"docker://ghcr.io/broom-dev/broom:v1@sha256:" + strings.Repeat("ab", 32): false,
		"docker://ghcr.io/broom-dev/broom@sha256:abc":                            false,
		"./Dockerfile.dev": false,
	} {
		if err := checkImage(img); (err == nil) != ok {
			t.Errorf("checkImage(%q) = %v, want ok %v", img, err, ok)
		}
	}
	// The release workflow rewrites this very line; it checks the rewrite
	// happened, this that it can.
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if img := readAction(t).Runs.Image; img == "Dockerfile" && !regexp.MustCompile(`(?m)^  image: Dockerfile$`).Match(data) {
		t.Errorf("action.yml: no line '  image: Dockerfile' for the release workflow to rewrite")
	}
}

// TestEntrypoint: the image's ENTRYPOINT is broom itself, so the image is
// also the CLI, and action.yml asks for the `action` command in args. Both
// in exec form: the runner's INPUT_GITHUB-TOKEN does not survive a shell.
func TestEntrypoint(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	if !slices.Equal(d.entrypoint, []string{"/broom"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %q, want [\"/broom\"]", d.entrypoint)
	}
	a := readAction(t)
	if a.Runs.Entrypoint != "" {
		t.Errorf("action.yml: runs.entrypoint %q would replace the image's /broom", a.Runs.Entrypoint)
	}
	if !slices.Equal(a.Runs.Args, []string{"action"}) {
		t.Errorf("action.yml: runs.args %q, want [action]: `broom action` takes no arguments", a.Runs.Args)
	}
}

// TestActionInputsMatchCode: the action reads every config.Keys setting as an
// input (internal/action), so each action.yml input must be one; the keys
// left over are the CLI's alone. SPEC §4's inputs must all be there.
func TestActionInputsMatchCode(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	inputs := sorted(a.Inputs)
	if extra := missing(inputs, config.Keys); len(extra) > 0 {
		t.Errorf("action.yml inputs that are not settings (config.Keys), so the code never reads them: %q", extra)
	}
	if gone := missing(specInputs, inputs); len(gone) > 0 {
		t.Errorf("SPEC §4 inputs missing from action.yml: %q", gone)
	}
	t.Logf("CLI-only settings (not action inputs): %q", missing(config.Keys, inputs))

	for _, name := range inputs {
		in := a.Inputs[name]
		desc := strings.ToLower(in.Description)
		i := strings.LastIndex(desc, "default")
		if i < 0 {
			t.Errorf("input %s: the description must name its built-in default: %q", name, in.Description)
			continue
		}
		if def, ok := config.Defaults[name]; ok && !strings.Contains(in.Description[i:], def) {
			t.Errorf("input %s: the description names a default other than the code's %q: %q", name, def, in.Description)
		}
		switch {
		case name == "github-token":
			if in.Default == nil || *in.Default != "${{ github.token }}" {
				t.Errorf("input github-token: want default: ${{ github.token }}")
			}
		case in.Default != nil:
			// A default here would hide BROOM_* variables and the config file.
			t.Errorf("input %s: has default: %q; only github-token may (SPEC §1 layering)", name, *in.Default)
		}
		if in.Required {
			t.Errorf("input %s: required: true, but every input has a built-in default", name)
		}
	}
}

// TestActionOutputsMatchCode: SPEC §4's outputs are all in action.yml, and
// action.yml lists exactly what internal/action writes with SetOutput.
func TestActionOutputsMatchCode(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	outputs := sorted(a.Outputs)
	if gone := missing(specOutputs, outputs); len(gone) > 0 {
		t.Errorf("SPEC §4 outputs missing from action.yml: %q", gone)
	}
	for _, name := range outputs {
		if strings.TrimSpace(a.Outputs[name].Description) == "" {
			t.Errorf("output %s: no description", name)
		}
	}
	written := outputsWritten(t, filepath.Join(root, "internal", "action"))
	if diff := cmp.Diff(outputs, written); diff != "" {
		t.Errorf("outputs in action.yml (-) and written by internal/action (+):\n%s", diff)
	}
}

// outputsWritten finds the output names the package in dir writes: string
// literal first arguments of SetOutput, and the string keys of a map literal
// ranged over by a loop that calls SetOutput.
func outputsWritten(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	add := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return false
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return false
		}
		names = append(names, s)
		return true
	}
	isSetOutput := func(n ast.Node) (*ast.CallExpr, bool) {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return nil, false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		return call, ok && sel.Sel.Name == "SetOutput" && len(call.Args) == 2
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		covered := map[*ast.CallExpr]bool{} // calls whose name comes from a ranged map literal
		ast.Inspect(f, func(n ast.Node) bool {
			rng, ok := n.(*ast.RangeStmt)
			if !ok {
				return true
			}
			lit, ok := rng.X.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if _, isMap := lit.Type.(*ast.MapType); !isMap {
				return true
			}
			var calls []*ast.CallExpr
			ast.Inspect(rng.Body, func(n ast.Node) bool {
				if call, ok := isSetOutput(n); ok {
					calls = append(calls, call)
				}
				return true
			})
			if len(calls) == 0 {
				return true
			}
			for _, el := range lit.Elts {
				kv := el.(*ast.KeyValueExpr)
				if !add(kv.Key) {
					t.Errorf("%s: an output map key is not a string literal", fset.Position(kv.Pos()))
				}
			}
			for _, c := range calls {
				covered[c] = true
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := isSetOutput(n); ok && !covered[call] && !add(call.Args[0]) {
				t.Errorf("%s: SetOutput with a name this test cannot read; use a string literal", fset.Position(call.Pos()))
			}
			return true
		})
	}
	if len(names) == 0 {
		t.Fatalf("found no SetOutput in %s", dir)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// mdTable is one markdown table: its header cells and rows of cells.
type mdTable struct {
	header []string
	rows   [][]string
}

func cells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(strings.TrimSuffix(line, "|"), "|")
	parts := strings.Split(line, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// readmeTables returns every table in README.md outside code blocks.
func readmeTables(t *testing.T) []mdTable {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var tables []mdTable
	var cur *mdTable
	fenced := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			cur = nil
			continue
		}
		switch {
		case cur == nil:
			tables = append(tables, mdTable{header: cells(line)})
			cur = &tables[len(tables)-1]
		case separatorRow.MatchString(strings.TrimSpace(line)):
			// the separator row
		default:
			cur.rows = append(cur.rows, cells(line))
		}
	}
	return tables
}

var (
	backticked   = regexp.MustCompile("`([^`]+)`")
	separatorRow = regexp.MustCompile(`^\|?[\s:|-]+\|?$`)
)

// readmeTable finds the one table whose first header cell is name and
// returns, per name listed in its first column, that row.
func readmeTable(t *testing.T, name string) (map[string][]string, []string) {
	t.Helper()
	var found []mdTable
	for _, tb := range readmeTables(t) {
		if strings.EqualFold(tb.header[0], name) {
			found = append(found, tb)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README.md: want one table headed %q, found %d", name, len(found))
	}
	rows := map[string][]string{}
	for _, r := range found[0].rows {
		for _, m := range backticked.FindAllStringSubmatch(r[0], -1) {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("README.md %s table: %s listed twice", name, m[1])
			}
			rows[m[1]] = r
		}
	}
	return rows, found[0].header
}

// TestActionREADMETables: the README's input and output tables list exactly
// action.yml's names, and the inputs' built-in defaults are the code's.
func TestActionREADMETables(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	inputs, header := readmeTable(t, "input")
	if diff := cmp.Diff(sorted(a.Inputs), sorted(inputs)); diff != "" {
		t.Errorf("inputs in action.yml (-) and in the README's table (+):\n%s", diff)
	}
	col := slices.IndexFunc(header, func(h string) bool { return strings.Contains(strings.ToLower(h), "default") })
	if col < 0 {
		t.Errorf("README.md input table: no default column in %q", header)
	}
	for name, row := range inputs {
		want, ok := config.Defaults[name]
		if in, declared := a.Inputs[name]; declared && in.Default != nil {
			want, ok = *in.Default, true
		}
		if ok && col >= 0 && col < len(row) && !strings.Contains(row[col], want) {
			t.Errorf("README.md input %s: default column %q, want %q", name, row[col], want)
		}
	}
	outputs, _ := readmeTable(t, "output")
	if diff := cmp.Diff(sorted(a.Outputs), sorted(outputs)); diff != "" {
		t.Errorf("outputs in action.yml (-) and in the README's table (+):\n%s", diff)
	}
}

// actionSteps finds every mapping with `uses: <owner>/broom@<ref>` in a YAML
// document and returns its `with` keys, by where it was found.
func actionSteps(v any, path string, out map[string][]string) {
	switch v := v.(type) {
	case map[string]any:
		if uses, _ := v["uses"].(string); regexp.MustCompile(`^[\w.-]+/broom@`).MatchString(uses) {
			with, _ := v["with"].(map[string]any)
			out[path] = sorted(with)
		}
		for k, c := range v {
			actionSteps(c, path+"."+k, out)
		}
	case []any:
		for i, c := range v {
			actionSteps(c, path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

// TestActionExampleWorkflowInputs: every example workflow, and every YAML
// block in the README, passes the action only inputs it has.
func TestActionExampleWorkflowInputs(t *testing.T) {
	t.Parallel()
	inputs := sorted(readAction(t).Inputs)
	docs := map[string]string{}
	files, err := filepath.Glob(filepath.Join(root, "examples", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = string(data)
	}
	for _, want := range []string{"pull-request.yml", "nightly.yml", "dispatch.yml"} {
		if _, ok := docs[want]; !ok {
			t.Errorf("examples/workflows/%s is missing", want)
		}
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range regexp.MustCompile("(?s)```ya?ml\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		docs["README.md yaml block "+strconv.Itoa(i+1)] = m[1]
	}
	steps := 0
	for name, doc := range docs {
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			if strings.HasPrefix(name, "README") {
				t.Logf("%s: not YAML, not checked: %v", name, err)
				continue
			}
			t.Errorf("%s: %v", name, err)
			continue
		}
		found := map[string][]string{}
		actionSteps(v, name, found)
		for where, with := range found {
			steps++
			if bad := missing(with, inputs); len(bad) > 0 {
				t.Errorf("%s: passes inputs action.yml does not have: %q", where, bad)
			}
		}
	}
	if steps < len(files) {
		t.Errorf("found %d broom steps in %d example workflows", steps, len(files))
	}
}

// dockerfile is the Dockerfile as instructions, continuation lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func instr(line string) (string, string) {
	op, rest, _ := strings.Cut(line, " ")
	return strings.ToUpper(op), strings.TrimSpace(rest)
}

// dockerBuild is what the test learns from the Dockerfile.
type dockerBuild struct {
	entrypoint []string // exec form
	ldflags    string   // with ${VERSION} as written
}

func readDockerfile(t *testing.T) dockerBuild {
	t.Helper()
	var b dockerBuild
	var build, finalFrom string
	var finalCopies []string
	for _, line := range dockerfile(t) {
		op, rest := instr(line)
		switch op {
		case "FROM":
			finalFrom, finalCopies, b.entrypoint = rest, nil, nil
		case "COPY":
			finalCopies = append(finalCopies, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = rest
			}
		case "SHELL", "CMD":
			t.Errorf("Dockerfile: %s %s: the entrypoint must run broom directly", op, rest)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &b.entrypoint); err != nil {
				t.Errorf("Dockerfile: ENTRYPOINT %s is not the exec form (a JSON array): the runner's INPUT_GITHUB-TOKEN would not survive a shell", rest)
			}
		}
	}
	if build == "" {
		t.Fatal("Dockerfile: no RUN … go build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-ldflags"} {
		if !strings.Contains(build, want) {
			t.Errorf("Dockerfile: the go build step lacks %s: %s", want, build)
		}
	}
	if m := regexp.MustCompile(`-ldflags\s+"([^"]*)"`).FindStringSubmatch(build); m == nil {
		t.Errorf("Dockerfile: want -ldflags \"…\" in: %s", build)
	} else {
		b.ldflags = m[1]
		fields := strings.Fields(b.ldflags)
		for _, want := range []string{"-s", "-w"} {
			if !slices.Contains(fields, want) {
				t.Errorf("Dockerfile: -ldflags %q lacks %s (strip the binary)", b.ldflags, want)
			}
		}
		if !strings.Contains(b.ldflags, "cli.Version=${VERSION}") {
			t.Errorf("Dockerfile: -ldflags %q does not stamp cli.Version with ${VERSION}", b.ldflags)
		}
	}
	if !strings.Contains(finalFrom, "distroless/static") && finalFrom != "scratch" {
		t.Errorf("Dockerfile: final stage FROM %s; want distroless static or scratch", finalFrom)
	}
	if len(b.entrypoint) == 0 {
		t.Fatal("Dockerfile: the final stage has no ENTRYPOINT")
	}
	if !slices.ContainsFunc(finalCopies, func(c string) bool { return strings.HasSuffix(c, " "+b.entrypoint[0]) }) {
		t.Errorf("Dockerfile: no COPY puts the binary at %s in the final stage", b.entrypoint[0])
	}
	return b
}

// buildBinary builds broom as the Dockerfile does, but without -trimpath:
// that would compile every package again instead of sharing the build cache
// with the other tests (the AWS SDK's EC2 package alone takes minutes).
func buildBinary(t *testing.T, ldflags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "broom")
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, "./cmd/broom")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	return bin
}

// runBroom runs the binary with an empty environment (no GITHUB_* of a CI
// runner) and returns its exit code, stdout and stderr.
func runBroom(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("run broom %q: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestDockerfileBinary: the Dockerfile's build flags make a static, stamped
// binary, and action.yml's args name a command that binary has.
func TestDockerfileBinary(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("checks a Linux ELF binary")
	}
	d := readDockerfile(t)
	const version = "v0.0.0-packaging-test"
	bin := buildBinary(t, strings.ReplaceAll(d.ldflags, "${VERSION}", version))

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q (%v); distroless static has none", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("the binary has a symbol table: -s did not strip it")
	}
	if info, err := os.Stat(bin); err == nil {
		t.Logf("static binary: %.1f MiB", float64(info.Size())/(1<<20))
	}

	if code, out, errOut := runBroom(t, bin, "version"); code != 0 || !strings.Contains(out, version) {
		t.Errorf("broom version: exit %d, %q %q; want the -ldflags version %s", code, out, errOut, version)
	}

	args := readAction(t).Runs.Args // TestEntrypoint holds ENTRYPOINT ["/broom"]
	if len(args) == 0 {
		t.Fatal("action.yml: no runs.args: which command does the action run?")
	}
	sub := args[0]
	if code, out, _ := runBroom(t, bin, "help"); code != 0 || !regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(sub)+`\s`).MatchString(out) {
		t.Errorf("broom help (exit %d) does not list action.yml's args command %q:\n%s", code, sub, out)
	}
	// `broom action` takes no arguments: one is misuse (exit 2), which
	// shows the command exists without running it against the runner.
	code, _, errOut := runBroom(t, bin, sub, "extra")
	if code != 2 || strings.Contains(errOut, "unknown command") {
		t.Errorf("broom %s extra: exit %d, %q; want exit 2 from a known command", sub, code, errOut)
	}
	if code, _, errOut := runBroom(t, bin, "no-such-command"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("broom no-such-command: exit %d, %q; the check above relies on exit 2 and \"unknown command\"", code, errOut)
	}
}

// TestReleaseWorkflow: the release workflow, which can push tags and
// images, runs third-party actions only at a full commit SHA (a tag can be
// moved under it), with the version as a comment for people and
// Dependabot; and its binaries are built like the image's.
func TestReleaseWorkflow(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`).FindAllStringSubmatch(string(data), -1)
	if len(uses) == 0 {
		t.Fatal("release.yml: no uses: found")
	}
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	version := regexp.MustCompile(`^\s*#\s*v\d+(\.\d+)*\s*$`)
	for _, u := range uses {
		if strings.HasPrefix(u[1], "./") {
			continue
		}
		if !pinned.MatchString(u[1]) || !version.MatchString(u[2]) {
			t.Errorf("release.yml: uses: %s%s: want owner/repo@<40-hex commit> # vX.Y.Z", u[1], u[2])
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w -X github.com/broom-dev/broom/internal/cli.Version=$VERSION"`,
		"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64", "sha256sum broom_* >SHA256SUMS"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("release.yml: the binaries' build lacks %s", want)
		}
	}
}
