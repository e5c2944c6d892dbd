package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/broom-dev/broom/internal/config"
)

// flagDef is one command-line flag: how it is parsed and how help shows it.
type flagDef struct {
	name  string // shown as --name
	short string // a one-letter alias, shown as -s; "" for none
	arg   string // the value's placeholder, e.g. FILE; "" for a switch
	usage string
	// key is the setting the flag sets (one of config.Keys), whose BROOM_*
	// variable help shows beside it; "" for a flag that is not a setting
	// and that nothing in the environment may stand in for (--yes).
	key string
	// repeat: the flag may be given more than once; the values join with
	// commas.
	repeat bool
}

// command is a command's help and flags.
type command struct {
	name     string
	args     string // the arguments it takes after its flags, e.g. FILE…; "" for none
	summary  string // one line, as in the top-level usage
	about    string // a paragraph under the usage line
	flags    []flagDef
	examples []string
	// aws: the command calls AWS (help says where credentials come from).
	aws bool
}

var (
	fConfig = flagDef{name: "config", arg: "FILE", key: "config", usage: "the policy file"}
	fRegion = flagDef{name: "region", arg: "REGION", key: "regions", repeat: true,
		usage: "work in this region (repeat it, or separate with commas; all: every region enabled for the account); overrides the file's regions"}
	fRules      = flagDef{name: "rules", arg: "NAMES", key: "rules", usage: "run only these rules (comma-separated names from the file)"}
	fMaxActions = flagDef{name: "max-actions", arg: "N", key: "max-actions",
		usage: "refuse to apply a plan with more actions (exit 6); overrides the file"}
	fFormat    = flagDef{name: "format", arg: "FORMAT", key: "format", usage: "report format on stdout: text, markdown or json"}
	fOut       = flagDef{name: "out", arg: "FILE", key: "out", usage: "also write the JSON plan (with each action's result after apply) to FILE"}
	fLogFormat = flagDef{name: "log-format", arg: "FORMAT", key: "log-format", usage: "log format on stderr: text or json"}
	fTimeout   = flagDef{name: "timeout", arg: "DURATION", key: "timeout", usage: "deadline for the whole run, e.g. 30m"}
	fVerbose   = flagDef{name: "verbose", short: "v", key: "verbose", usage: "log debug messages too"}
	fShard     = flagDef{name: "shard", arg: "K/N", key: "shard",
		usage: "only shard K of N of the run's targets (an account's region; a resource an ensure rule names); with --out, write the shard file broom merge reads"}
	fApproved = flagDef{name: "approved", arg: "FILE", key: "approved",
		usage: "with --shard: the approved plan (broom merge --out) whose slice this shard applies; exit 4 and nothing applied if the fresh slice differs; asks nothing"}
)

// planFlags are the flags plan and apply share.
var planFlags = []flagDef{fConfig, fRegion, fRules, fMaxActions, fFormat, fOut, fLogFormat, fTimeout, fVerbose, fShard}

// commands are the commands with their own help, in the order of the
// top-level usage.
var commands = []command{
	{
		name:    "plan",
		summary: "compute the plan, print/write the report, change nothing",
		about: "Lists what the config's rules ask about in each region and prints the plan: what apply " +
			"would delete, tag or update, and what broom leaves alone and why. It changes nothing.",
		flags: planFlags,
		aws:   true,
		examples: []string{
			"broom plan",
			"broom plan --region eu-west-1 --rules old-ci-snapshots",
			"broom plan --out plan.json   # then: broom apply --expect-fingerprint <its fingerprint>",
			"BROOM_LOG_FORMAT=json broom plan --format json > plan.json",
			"broom plan --shard 2/4 --out shard-2.json   # then: broom merge shard-*.json",
		},
	},
	{
		name:    "apply",
		summary: "compute the plan, show it, then execute it once confirmed",
		about: "Plans again, shows the plan, and changes nothing until it is confirmed: on a terminal, " +
			"type the account id (or yes for a plan that spans several accounts); without one, " +
			"give --yes or --expect-fingerprint. Nothing in the environment can confirm an apply.",
		flags: append(slices.Clip(planFlags),
			flagDef{name: "expect-fingerprint", arg: "HEX", key: "expect-fingerprint",
				usage: "apply only if the fresh plan has this fingerprint (from broom plan --out); exit 4 otherwise; asks nothing"},
			flagDef{name: "yes", usage: "apply without asking to type the account id (a flag only: nothing in the environment can confirm)"},
			flagDef{name: "dry-run", usage: "plan only: the same as broom plan"},
			fApproved,
		),
		aws: true,
		examples: []string{
			"broom apply                       # on a terminal: shows the plan, asks for the account id",
			"broom apply --yes --rules idle-eips",
			"broom apply --expect-fingerprint 3f9c…e01a   # only the plan you reviewed",
			"broom apply --shard 2/4 --approved merged.json --out applied-2.json",
		},
	},
	{
		name:    "merge",
		args:    "FILE…",
		summary: "merge the shard files of broom plan --shard into one plan",
		about: "Checks that the files are the shards of one run (one config, every shard once, every target " +
			"covered once) and prints the one plan, as broom plan prints it; with --out, writes it with its " +
			"shards, for broom apply --shard --approved. Given the files of apply shards, it prints every " +
			"action's result: exit 4 if a shard's slice drifted, 3 if an action or a shard failed. " +
			"A missing or duplicate shard is exit 2; a shard whose plan failed, exit 1. It calls no AWS API.",
		flags: []flagDef{fFormat,
			flagDef{name: "out", arg: "FILE", key: "out", usage: "also write the merged JSON plan, with its shards, to FILE"},
			fLogFormat, fVerbose},
		examples: []string{
			"broom merge shard-*.json",
			"broom merge --out merged.json shard-1.json shard-2.json shard-3.json shard-4.json",
		},
	},
	{
		name:    "validate",
		summary: "check the config file and exit 0 or 2",
		about: "Reads the config file and the BROOM_* settings, and reports every problem as " +
			"file:line: message (exit 2). It calls no AWS API.",
		flags:    []flagDef{fConfig, fLogFormat, fVerbose},
		examples: []string{"broom validate", "broom validate --config ci/broom.yml"},
	},
	{
		name:    "iam-policy",
		summary: "print the least-privilege IAM policy for the config's rules",
		about:   "Prints, as JSON, the IAM policy that the config's rules (or those --rules names) need. It calls no AWS API.",
		flags: []flagDef{fConfig, fRules,
			flagDef{name: "plan-only", usage: "only what planning needs: for a role that never applies"}},
		examples: []string{"broom iam-policy > policy.json", "broom iam-policy --plan-only"},
	},
	{
		name:    "action",
		summary: "run as a GitHub Action (reads the event, decides plan or apply)",
		about: "Runs as the GitHub Action's entrypoint: it takes no flags, and reads its settings from " +
			"the action's inputs (INPUT_*), then BROOM_*, and the event from GITHUB_EVENT_PATH.",
	},
	{
		name:    "version",
		summary: "print the version",
		about:   "Prints the version of this broom binary.",
	},
}

// lookupCommand returns the command named name.
func lookupCommand(name string) (command, bool) {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commands[i], true
}

// topUsage is what broom --help prints.
func topUsage() string {
	var b strings.Builder
	b.WriteString("usage: broom <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"broom <command> --help\" for a command's flags and examples.\n")
	return b.String()
}

// helpWidth is the width command help is wrapped to.
const helpWidth = 80

// help renders c's help: usage, what it does, each flag with its BROOM_*
// variable beside it and its default, and examples.
func (c command) help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: broom %s", c.name)
	if len(c.flags) > 0 {
		b.WriteString(" [flags]")
	}
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	b.WriteString("\n\n")
	if c.about != "" {
		b.WriteString(wrap(c.about, "", helpWidth))
		b.WriteString("\n")
	}
	if len(c.flags) > 0 {
		b.WriteString("flags:\n")
		for _, f := range c.flags {
			writeFlag(&b, f)
		}
		note := "A flag wins over its BROOM_* variable, which wins over the config file."
		if c.aws {
			note += " AWS credentials, region and endpoint come from the AWS SDK's default chain " +
				"(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, …)."
		}
		b.WriteString("\n" + wrap(note, "", helpWidth))
		b.WriteString("\n")
	}
	if len(c.examples) > 0 {
		b.WriteString("examples:\n")
		for _, e := range c.examples {
			b.WriteString("  " + e + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// writeFlag writes one flag: its names and its variable on one line, what
// it does and its default on the next.
func writeFlag(b *strings.Builder, f flagDef) {
	names := "--" + f.name
	if f.short != "" {
		names = "-" + f.short + ", " + names
	}
	if f.arg != "" {
		names += " " + f.arg
	}
	if f.key != "" {
		fmt.Fprintf(b, "  %-28s env %s\n", names, config.EnvName(f.key))
	} else {
		fmt.Fprintf(b, "  %s\n", names)
	}
	text := f.usage
	if d := config.Defaults[f.key]; d != "" && f.arg != "" {
		text += " (default " + d + ")"
	}
	b.WriteString(wrap(text, "      ", helpWidth))
}

// wrap fills text into lines of at most width columns, each starting with
// indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if line != indent && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// isHelp says whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// listFlag is a repeatable flag whose values join with commas.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parsed is a command line parsed against a command's flags.
type parsed struct {
	// layer holds the settings the user gave as flags, by setting key.
	layer config.Layer
	// switches holds the flags that are not settings (--yes, --dry-run,
	// --plan-only) that the user gave.
	switches map[string]bool
	// args are the arguments after the flags, for a command that takes
	// them (merge's files).
	args []string
}

// parse parses args against c's flags. -h or --help anywhere among the
// flags returns flag.ErrHelp. Errors are one line, in the --flag spelling
// help uses.
func (c command) parse(args []string) (parsed, error) {
	fs := flag.NewFlagSet("broom "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the caller reports errors in one line, help on stdout
	fs.Usage = func() {}
	lists := map[string]*listFlag{}
	for _, f := range c.flags {
		switch {
		case f.arg == "":
			fs.Bool(f.name, false, f.usage)
		case f.repeat:
			lists[f.name] = &listFlag{}
			fs.Var(lists[f.name], f.name, f.usage)
		default:
			fs.String(f.name, "", f.usage)
		}
		if f.short != "" {
			fs.Bool(f.short, false, f.usage)
		}
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return parsed{}, err
			}
			return parsed{}, c.flagError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		if c.args == "" {
			return parsed{}, fmt.Errorf("unexpected argument %q (broom %s takes only flags; see broom %[2]s --help)", fs.Arg(0), c.name)
		}
		// Flags may follow the arguments: broom merge *.json --out m.json.
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	p := parsed{layer: config.Layer{Name: "flag --", Values: map[string]string{}}, switches: map[string]bool{}, args: rest}
	fs.Visit(func(fl *flag.Flag) {
		i := slices.IndexFunc(c.flags, func(f flagDef) bool { return f.name == fl.Name || f.short == fl.Name })
		f := c.flags[i]
		switch {
		case f.key == "":
			p.switches[f.name] = fl.Value.String() == "true"
		case f.repeat:
			p.layer.Values[f.key] = lists[f.name].String()
		default:
			p.layer.Values[f.key] = fl.Value.String()
		}
	})
	return p, nil
}

// flagError rewrites the flag package's errors in the spelling help uses
// (--name) and points at help.
func (c command) flagError(err error) error {
	msg := err.Error()
	for _, s := range []struct{ prefix, say string }{
		{"flag provided but not defined: -", "unknown flag %s"},
		{"flag needs an argument: -", "flag %s needs a value"},
	} {
		if name, ok := strings.CutPrefix(msg, s.prefix); ok {
			return fmt.Errorf(s.say+" (see broom %s --help)", dashed(name), c.name)
		}
	}
	// invalid value "x" for flag -name: … (switches given a value)
	if _, rest, ok := strings.Cut(msg, " for flag -"); ok {
		name, why, _ := strings.Cut(rest, ": ")
		return fmt.Errorf("flag %s: %s (see broom %s --help)", dashed(name), why, c.name)
	}
	return err
}

// dashed spells a flag name as help does.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
