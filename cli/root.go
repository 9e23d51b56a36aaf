package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version is worktray's version; package builds set it with -ldflags "-X worktray/cli.Version=…".
var Version = "0.1.0"

// External is a command that main runs itself (the owner, `ui`, `demo-portal`): the command
// line knows its help and flags, main its behaviour.
type External struct {
	Name, Summary, Use, Long string
	// Flags registers the command's flags on fs (for help and completion); nil when it has none.
	Flags func(fs *flag.FlagSet)
	// Run runs the command with its arguments (flags included) and returns the exit code.
	Run func(ctx context.Context, args []string) int
}

// Program is the whole command line: the client commands of this package plus main's own.
type Program struct {
	IO IO
	// Owner is `worktray` with no command (or only flags): the owner with its tray.
	Owner External
	// Externals are main's other commands (run, ui, demo-portal).
	Externals []External
}

// Execute runs the command line args (without the program name) and returns the exit code.
// `worktray` alone, or with flags only, runs prog.Owner; `help`, `--help`, `CMD --help`,
// `version` and `completion SHELL` are answered here; every other command is run by Main or
// by its External. It blocks until the command ends.
func Execute(ctx context.Context, args []string, prog Program) int {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelpFlag(args[0]) && args[0] != "--version") {
		return prog.Owner.Run(ctx, args)
	}
	if args[0] == "--version" {
		args = []string{"version"}
	}
	code := ExitOK
	root := newRoot(ctx, prog, &code)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(prog.IO.Err, "worktray: %v\n%s", err, "Run 'worktray help' for the commands.\n")
		return ExitUsage
	}
	return code
}

func orStdin(r io.Reader) io.Reader {
	if r == nil {
		return os.Stdin
	}
	return r
}

func isHelpFlag(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

const rootLong = `worktray keeps your work orders in sync with the portal you get work from: every hour, at
the minute you choose, it signs in with a headless Chromium, reads every page of the work-order
list, stores the orders, shows what is new and alerts you when a scheduled scrape was missed or
keeps failing.

"worktray" alone starts the owner with its tray icon (one per user); "worktray run --headless"
starts it without a tray. Every other command talks to the running owner over its control
socket; with no owner running, the read-only ones read the stored state and say so.

Every command takes --data-dir DIR (or $WORKTRAY_DATA_DIR) to keep all files under DIR, and
--json where it prints something. Colour is used only on a terminal, never with NO_COLOR set.`

// newRoot builds the command tree. code receives the exit code of the command that ran.
func newRoot(ctx context.Context, prog Program, code *int) *cobra.Command {
	root := &cobra.Command{
		Use:                "worktray [--data-dir DIR]",
		Short:              "keep your work orders in sync with your portal",
		Long:               rootLong + "\n\n" + ExitCodesHelp,
		Version:            versionString(),
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				*code = ExitOK
				return cmd.Help()
			}
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				return fmt.Errorf("unknown command %q%s", args[0], suggest(cmd, args[0]))
			}
			*code = prog.Owner.Run(ctx, args)
			return nil
		},
	}
	root.SuggestionsMinimumDistance = 2
	// Output is set before the completion command is made: it keeps the writer it sees then.
	root.SetOut(prog.IO.Out)
	root.SetErr(prog.IO.Err)
	root.SetIn(orStdin(prog.IO.In))
	addFlags(root, prog.Owner.Flags)
	root.SetVersionTemplate("worktray {{.Version}}\n")
	root.CompletionOptions.HiddenDefaultCmd = false

	for _, ext := range prog.Externals {
		root.AddCommand(externalCommand(ctx, ext, code))
	}
	for _, name := range Commands() {
		root.AddCommand(clientCommand(ctx, prog.IO, name, code))
	}
	// `help TOPIC` with a topic that is no command is a usage error (exit 2), as is a shell
	// `completion` does not know.
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "help about any command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			for _, sub := range c.Root().Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || (len(args) > 0 && target == c.Root()) || len(rest) > 0 && !target.DisableFlagParsing {
				return fmt.Errorf("no help topic %q: see `worktray help` for the commands", strings.Join(args, " "))
			}
			if len(rest) > 0 && target != c.Root() && len(target.Commands()) > 0 {
				return fmt.Errorf("no help topic %q: see `worktray help %s`", strings.Join(args, " "), target.Name())
			}
			*code = ExitOK
			return target.Help()
		},
	})
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("no completion for the shell %q: bash, zsh, fish or powershell", args[0])
				}
				return cmd.Help()
			}
		}
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print worktray's version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintf(cmd.OutOrStdout(), "worktray %s\n", versionString()) },
	})
	return root
}

// suggest returns ", did you mean …?" for a mistyped command, or "".
func suggest(root *cobra.Command, typed string) string {
	if s := root.SuggestionsFor(typed); len(s) > 0 {
		return fmt.Sprintf("; did you mean %q?", s[0])
	}
	return ""
}

// versionString is Version plus the VCS revision the binary was built from, when known.
func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func externalCommand(ctx context.Context, ext External, code *int) *cobra.Command {
	c := &cobra.Command{
		Use:                ext.Name + " " + ext.Use,
		Short:              ext.Summary,
		Long:               ext.Long,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				*code = ExitOK
				return cmd.Help()
			}
			*code = ext.Run(ctx, args)
			return nil
		},
	}
	addFlags(c, ext.Flags)
	return c
}

// clientCommand is the cobra command of one of this package's commands: Main parses its flags
// and runs it; cobra knows its flags (from describe) for help and completion.
func clientCommand(ctx context.Context, io IO, name string, code *int) *cobra.Command {
	h := helps[name]
	use := name
	if h.use != "" {
		use += " " + h.use
	}
	run := func(prefix ...string) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				*code = ExitOK
				return cmd.Help()
			}
			*code = Main(ctx, name, append(slices.Clone(prefix), args...), io)
			return nil
		}
	}
	c := &cobra.Command{
		Use:                use,
		Short:              commands[name].summary,
		Long:               h.long,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE:               run(),
	}
	addGoFlags(c, describe(name, nil))
	for _, s := range h.subs {
		sub := &cobra.Command{
			Use:                s.name + " [flags]",
			Short:              s.summary,
			Long:               s.long,
			DisableFlagParsing: true,
			Args:               cobra.ArbitraryArgs,
			RunE:               run(s.name),
		}
		addGoFlags(sub, describe(name, []string{s.name}))
		c.AddCommand(sub)
	}
	return c
}

// describe returns the flag set command name registers (after the words in sub), found by
// running it with --help in a mode that writes nowhere and connects to nothing: every command
// registers its flags and parses them before it does anything else.
func describe(name string, sub []string) *flag.FlagSet {
	var fs *flag.FlagSet
	e := &env{io: IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, name: name,
		now: time.Now, capture: &fs}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing may wait or reach the owner
	func() {
		defer func() { _ = recover() }() // a command that does not follow the rule gets no flags listed
		_ = commands[name].run(ctx, e, append(slices.Clone(sub), "--help"))
	}()
	if e.client != nil {
		e.client.Close()
	}
	return fs
}

// addFlags adds the flags register puts on a Go flag set to c, for help and completion.
func addFlags(c *cobra.Command, register func(*flag.FlagSet)) {
	if register == nil {
		return
	}
	fs := flag.NewFlagSet(c.Name(), flag.ContinueOnError)
	register(fs)
	addGoFlags(c, fs)
}

func addGoFlags(c *cobra.Command, fs *flag.FlagSet) {
	if fs == nil {
		return
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		pf := pflag.PFlagFromGoFlag(f)
		if len(n) > 1 {
			pf.Shorthand = ""
		}
		if c.Flags().Lookup(n) == nil {
			c.Flags().AddFlag(pf)
		}
	}
}

// WriteReference writes the command-line reference in Markdown (docs/cli.md): every command
// and subcommand with its help and flags, and the exit codes. It runs nothing.
func WriteReference(w io.Writer, prog Program) error {
	code := ExitOK
	root := newRoot(context.Background(), prog, &code)
	var b strings.Builder
	b.WriteString("# The worktray command line\n\n")
	b.WriteString("This page is generated from the program's own help (`worktray help CMD` prints the same).\n\n")
	b.WriteString("```\n" + rootLong + "\n```\n\n")
	b.WriteString("## Exit codes\n\n```\n" + ExitCodesHelp + "\n```\n\n")
	b.WriteString("## Shell completion\n\n`worktray completion bash|zsh|fish` prints a completion script; the package installs\nthem for the three shells.\n\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || (c.Parent() != nil && c.Parent().Name() == "completion") {
			return
		}
		if c != root {
			b.WriteString("## " + c.CommandPath() + "\n\n")
			if c.Short != "" {
				b.WriteString(c.Short + ".\n\n")
			}
			if c.Long != "" {
				b.WriteString(c.Long + "\n\n")
			}
			b.WriteString("```\n" + strings.TrimSpace(c.UsageString()) + "\n```\n\n")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	_, err := io.WriteString(w, b.String())
	return err
}
