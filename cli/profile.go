package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"worktray/control"
	"worktray/scheduler"
	"worktray/scraper"
)

// cmdProfile helps write a portal profile: `profile test [FILE]` signs in with the configured
// account and reports per field what the profile matched on the first pages (through the
// owner, storing nothing); `profile check FILE` validates a file offline; `profile init [FILE]`
// writes a commented starter profile.
func cmdProfile(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := e.flags()
	var (
		shot      string
		in        control.ProfileTestInput
		overwrite bool
	)
	switch sub {
	case "test":
		fs.StringVar(&shot, "screenshot", "", "save the list page with matched rows and fields outlined as a PNG `FILE`")
		fs.IntVar(&in.Pages, "pages", 1, "how many list pages to read")
		fs.IntVar(&in.Details, "details", 3, "how many detail pages to read")
	case "init":
		fs.BoolVar(&overwrite, "force", false, "overwrite FILE if it exists")
	}
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "test":
		if len(pos) > 1 {
			return usagef("unexpected argument %q", pos[1])
		}
		if len(pos) == 1 {
			if in.File, err = filepath.Abs(pos[0]); err != nil {
				return err
			}
			// A file that does not even load is said here, without the owner or a browser.
			if _, err := scraper.LoadProfile(in.File); err != nil {
				return exitWith(ExitInvalid, err)
			}
		}
		if in.Pages < 1 || in.Details < 0 {
			return usagef("--pages must be at least 1 and --details not negative")
		}
		return e.profileTest(ctx, in, shot)
	case "check":
		if len(pos) != 1 {
			return usagef("use `profile check FILE`")
		}
		return e.profileCheck(pos[0])
	case "init":
		file := "portal-profile.toml"
		if len(pos) > 1 {
			return usagef("unexpected argument %q", pos[1])
		}
		if len(pos) == 1 {
			file = pos[0]
		}
		return e.profileInit(file, overwrite)
	}
	return usagef("use `profile test [FILE]`, `profile check FILE` or `profile init [FILE]`")
}

// profileTest runs the test through the owner and prints the report.
func (e *env) profileTest(ctx context.Context, in control.ProfileTestInput, shot string) error {
	in.Screenshot = shot != ""
	if !e.json {
		fmt.Fprintln(e.io.Err, "signing in and reading the list with the profile…")
	}
	res, err := e.owner().TestProfile(ctx, in)
	if err != nil {
		return err
	}
	var rep scraper.ProfileReport
	if len(res.Report) > 0 {
		if err := json.Unmarshal(res.Report, &rep); err != nil {
			return fmt.Errorf("reading the owner's report: %w", err)
		}
	}
	if shot != "" && len(rep.Screenshot) > 0 {
		if err := writeNewFile(shot, rep.Screenshot, true); err != nil {
			return err
		}
	}
	if e.json {
		rep.Screenshot = nil
		writeJSON(e.io.Out, map[string]any{"ok": res.OK, "error_class": res.ErrorClass, "error": res.Error, "report": rep})
	} else {
		printProfileReport(e, rep)
		if shot != "" {
			if len(rep.Screenshot) > 0 {
				fmt.Fprintf(e.io.Out, "\nscreenshot saved to %s (rows in blue, matched fields in green, rows missing a field in red)\n", shot)
			} else if res.OK {
				fmt.Fprintln(e.io.Out, "\nno screenshot could be taken")
			}
		}
	}
	if !res.OK {
		code := ClassExitCode(scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: res.ErrorClass})
		if e.json {
			return exitWith(code, nil)
		}
		return exitWith(code, fmt.Errorf("the profile test failed: %s: %s", res.ErrorClass, res.Error))
	}
	for _, f := range rep.Fields {
		if !f.OK() {
			return exitWith(ExitLayoutChanged, nil)
		}
	}
	return nil
}

// printProfileReport prints the report for people: one line per field with its count,
// samples, and what matched nothing.
func printProfileReport(e *env, rep scraper.ProfileReport) {
	w := e.io.Out
	fmt.Fprintf(w, "profile %q: %d rows on %d list page(s) of %s", rep.Profile, rep.Rows, rep.Pages, rep.ListURL)
	if rep.Details > 0 {
		fmt.Fprintf(w, ", %d detail page(s)", rep.Details)
	}
	fmt.Fprintln(w)
	if rep.Empty {
		fmt.Fprintln(w, "the list shows its empty-state marker (list.empty): no work orders to test the fields on")
	}
	for _, f := range rep.Fields {
		mark := "ok "
		if !f.OK() {
			mark = "BAD"
		} else if f.Matched < f.Of {
			mark = "opt"
		}
		fmt.Fprintf(w, "%s %s.fields.%-16s %d/%d", mark, f.Where, f.Name, f.Matched, f.Of)
		if len(f.Samples) > 0 {
			fmt.Fprintf(w, "  e.g. %s", strings.Join(quoteEach(f.Samples), ", "))
		}
		fmt.Fprintln(w)
		for _, p := range f.Problems {
			fmt.Fprintf(w, "      %s\n", p)
		}
	}
	for _, m := range rep.Warnings {
		fmt.Fprintf(w, "note: %s\n", m)
	}
}

func quoteEach(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// profileCheck validates a profile file offline and prints its fields.
func (e *env) profileCheck(file string) error {
	p, err := scraper.LoadProfile(file)
	if err != nil {
		if e.json {
			msgs := strings.Split(err.Error(), "\n")
			writeJSON(e.io.Out, map[string]any{"ok": false, "errors": msgs})
			return exitWith(ExitInvalid, nil)
		}
		return exitWith(ExitInvalid, err)
	}
	if e.json {
		writeJSON(e.io.Out, map[string]any{"ok": true, "name": p.Name, "list_fields": sortedKeys(p.List.Fields), "detail_fields": sortedKeys(p.Detail.Fields)})
		return nil
	}
	fmt.Fprintf(e.io.Out, "%s is a valid profile (%q)\nlist fields:   %s\n", file, p.Name, strings.Join(sortedKeys(p.List.Fields), ", "))
	if len(p.Detail.Fields) > 0 {
		fmt.Fprintf(e.io.Out, "detail fields: %s (detail mode %s)\n", strings.Join(sortedKeys(p.Detail.Fields), ", "), p.Detail.Mode)
	}
	fmt.Fprintln(e.io.Out, "`worktray profile test "+file+"` tries it on the portal with your account")
	return nil
}

func sortedKeys(m map[string]scraper.Field) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// profileInit writes the starter profile to file; an existing file is kept unless overwrite.
func (e *env) profileInit(file string, overwrite bool) error {
	if err := writeNewFile(file, scraper.StarterProfile(), overwrite); err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, map[string]any{"ok": true, "file": file})
		return nil
	}
	fmt.Fprintf(e.io.Out, "wrote a starter profile to %s: replace its selectors with your portal's, then `worktray profile check %s`\n", file, file)
	return nil
}

// writeNewFile writes data to file through a temporary file in the same directory, so a
// failure leaves nothing half-written; an existing file is refused unless overwrite.
func writeNewFile(file string, data []byte, overwrite bool) error {
	if !overwrite {
		if _, err := os.Stat(file); err == nil {
			return fmt.Errorf("%s exists; choose another file or add --force", file)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".worktray-*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if !overwrite {
		// Link fails if file appeared meanwhile: never clobber what the user did not offer.
		if err := os.Link(tmp.Name(), file); err != nil {
			return fmt.Errorf("cannot write %s: %w", file, err)
		}
		return nil
	}
	return os.Rename(tmp.Name(), file)
}
