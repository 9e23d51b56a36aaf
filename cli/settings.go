package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"worktray/app/view"
	"worktray/control"
	"worktray/scheduler"
)

// secretReader reads secrets from the terminal without echo, or line by line from stdin when it
// is not a terminal. Secrets never come from arguments. A read gives up when its ctx is done
// (Ctrl-C); the reader is unusable afterwards.
type secretReader struct {
	e     *env
	lines *bufio.Reader
	err   error // set once a read gave up: a reading goroutine may still hold lines
}

func (e *env) secrets() *secretReader { return &secretReader{e: e} }

// read returns the secret and whether one was given (an empty answer keeps the stored one). It
// blocks until a line is read or ctx is done, and then returns ctx's error.
func (s *secretReader) read(ctx context.Context, prompt string) (string, bool, error) {
	if s.err != nil {
		return "", false, s.err
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if f, ok := s.e.io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(s.e.io.Err, prompt)
		b, err := readPassword(ctx, int(f.Fd()))
		fmt.Fprintln(s.e.io.Err)
		if err != nil {
			if ctx.Err() != nil {
				s.err = err
				return "", false, err
			}
			return "", false, fmt.Errorf("reading from the terminal: %w", err)
		}
		return string(b), len(b) > 0, nil
	}
	if s.lines == nil {
		s.lines = bufio.NewReader(s.e.io.In)
	}
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := s.lines.ReadString('\n')
		ch <- answer{line, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		// The goroutine stays blocked in the read until stdin has a line or closes; the command
		// is ending.
		s.err = ctx.Err()
		return "", false, s.err
	}
	if a.err != nil && !errors.Is(a.err, io.EOF) {
		return "", false, fmt.Errorf("reading stdin: %w", a.err)
	}
	line := strings.TrimRight(a.line, "\r\n")
	return line, line != "", nil
}

// readPassword reads a line from the terminal fd without echo. When ctx is done first (Ctrl-C
// cancels it; term.ReadPassword cannot be interrupted) it restores the terminal's state, echo
// included, and returns ctx's error; the read goroutine stays blocked until the process exits.
func readPassword(ctx context.Context, fd int) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type answer struct {
		b   []byte
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		ch <- answer{b, err}
	}()
	select {
	case a := <-ch:
		return a.b, a.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return nil, ctx.Err()
	}
}

func cmdPortal(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := e.flags()
	var (
		in  control.PortalInput
		rev revisionFlag
	)
	keep := false
	if sub == "set" {
		fs.StringVar(&in.URL, "url", "", "the portal's address, e.g. https://portal.example.com")
		fs.StringVar(&in.Profile, "profile", "", "a portal profile file (TOML or JSON), or demo")
		fs.StringVar(&in.Username, "username", "", "the user name or email to sign in with")
		fs.BoolVar(&keep, "keep-password", false, "do not ask for the password; keep the stored one")
		rev.register(fs, "portal settings")
	}
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	c := e.owner()
	switch sub {
	case "show":
		info, err := c.Portal(ctx)
		if err != nil {
			return err
		}
		return e.printPortal(info)
	case "set":
		// Refuse bad input, and say "not running", before asking for a password. The change is
		// saved only if nobody saved the portal settings since this read (else ExitStale).
		if err := control.ValidatePortalInput(in); err != nil {
			return err
		}
		cur, err := c.Portal(ctx)
		if err != nil {
			return err
		}
		if in.Profile != "" && in.Profile != "demo" {
			var err error
			if in.Profile, err = filepath.Abs(in.Profile); err != nil {
				return err
			}
		}
		if !keep {
			pw, ok, err := e.secrets().read(ctx, "Portal password (empty keeps the stored one): ")
			if err != nil {
				return err
			}
			if ok {
				in.Password = &pw
			}
		}
		info, err := c.SetPortalAt(ctx, in, rev.based(cur.Revision))
		if err != nil {
			return unsure(err, "portal show")
		}
		if !e.json {
			fmt.Fprintln(e.io.Out, "portal settings saved; `worktray portal test` signs in with them")
		}
		return e.printPortal(info)
	case "test":
		if !e.json {
			fmt.Fprintln(e.io.Err, "signing in to the portal…")
		}
		err := c.TestLogin(ctx)
		var re *scheduler.RunError
		if errors.As(err, &re) {
			if e.json {
				writeJSON(e.io.Out, map[string]any{"ok": false, "error_class": re.Class, "error": re.Msg})
				return exitWith(ClassExitCode(scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: re.Class}), nil)
			}
			return exitWith(ClassExitCode(scheduler.Run{Status: scheduler.StatusFailed, ErrorClass: re.Class}),
				fmt.Errorf("the login failed: %s: %s", view.ClassText(re.Class), re.Msg))
		}
		if err != nil {
			return err
		}
		if e.json {
			writeJSON(e.io.Out, map[string]any{"ok": true})
		} else {
			fmt.Fprintln(e.io.Out, "the login worked")
		}
		return nil
	}
	return usagef("use `portal show`, `portal set --url URL --username NAME [--profile FILE]` or `portal test`")
}

func (e *env) printPortal(p control.PortalInfo) error {
	if e.json {
		writeJSON(e.io.Out, p)
		return nil
	}
	pw := "not set"
	if p.PasswordSet {
		pw = "set (hidden)"
	}
	fmt.Fprintf(e.io.Out, "URL:       %s\nProfile:   %s\nUsername:  %s\nPassword:  %s\n", p.URL, p.Profile, p.Username, pw)
	return nil
}

// alertFlags are the flags of `alerts set`.
var alertFlags = []struct{ name, field, help string }{
	{"pushover", "pushover_enabled", "send alerts to Pushover: true or false"},
	{"desktop", "desktop_enabled", "show desktop notifications: true or false"},
	{"threshold", "failure_threshold", "consecutive failed runs before a failure alert"},
	{"renotify", "renotify_minutes", "repeat a failure alert every N whole minutes (or a duration such as 6h); 0 never"},
	{"quiet", "quiet_enabled", "quiet hours for Pushover, HH:MM-HH:MM, or off"},
	{"quiet-zone", "quiet_zone", "time zone of the quiet hours (empty: the system's)"},
	{"new-orders-desktop", "new_orders_desktop", "desktop notification for new orders: true or false"},
	{"new-orders-pushover", "new_orders_pushover", "Pushover alert for new orders: true or false"},
	{"large-drop", "large_drop_alert", "alert when more than half of the orders disappear: true or false"},
}

func cmdAlerts(ctx context.Context, e *env, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := e.flags()
	vals := map[string]*string{}
	keys := false
	var rev revisionFlag
	if sub == "set" {
		for _, f := range alertFlags {
			vals[f.name] = fs.String(f.name, "", f.help)
		}
		fs.BoolVar(&keys, "keys", false, "ask for the Pushover API token and user key (prompt, or two lines on stdin)")
		rev.register(fs, "alert settings")
	}
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	c := e.owner()
	switch sub {
	case "set":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		in, err := alertsInput(set, vals)
		if err != nil {
			return err
		}
		given := keys
		for _, f := range alertFlags {
			given = given || set[f.name]
		}
		if !given {
			return usagef("nothing to set; see `worktray alerts set -h`")
		}
		// Saved only if nobody saved the alert settings since this read (else ExitStale).
		cur, err := c.Alerts(ctx)
		if err != nil {
			return err
		}
		if keys {
			r := e.secrets()
			tok, ok, err := r.read(ctx, "Pushover API token: ")
			if err != nil {
				return err
			}
			if ok {
				in.PushoverToken = &tok
			}
			user, ok, err := r.read(ctx, "Pushover user key: ")
			if err != nil {
				return err
			}
			if ok {
				in.PushoverUserKey = &user
			}
		}
		info, err := c.SetAlertsAt(ctx, in, rev.based(cur.Revision))
		if err != nil {
			return unsure(err, "alerts show")
		}
		if e.json {
			writeJSON(e.io.Out, info)
			return nil
		}
		fmt.Fprintln(e.io.Out, "alert settings saved")
		printAlerts(e, info)
		return nil
	case "show":
		return alertsShow(ctx, e)
	case "test":
		if err := c.SendTestAlert(ctx); err != nil {
			return err
		}
		if e.json {
			writeJSON(e.io.Out, map[string]any{"ok": true})
		} else {
			fmt.Fprintln(e.io.Out, "test alert sent")
		}
		return nil
	}
	return usagef("use `alerts show`, `alerts set [--pushover true --keys] [--threshold N] ...` or `alerts test`")
}

func alertsInput(set map[string]bool, vals map[string]*string) (control.AlertsInput, error) {
	var (
		in   control.AlertsInput
		errs scheduler.ValidationError
	)
	bad := func(field, format string, args ...any) {
		errs = append(errs, &scheduler.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	boolean := func(name, field string) *bool {
		if !set[name] {
			return nil
		}
		switch strings.ToLower(strings.TrimSpace(*vals[name])) {
		case "true", "on", "yes", "1":
			b := true
			return &b
		case "false", "off", "no", "0":
			b := false
			return &b
		}
		bad(field, "%q is not true or false", *vals[name])
		return nil
	}
	in.PushoverEnabled = boolean("pushover", "pushover_enabled")
	in.DesktopEnabled = boolean("desktop", "desktop_enabled")
	in.NewOrdersDesktop = boolean("new-orders-desktop", "new_orders_desktop")
	in.NewOrdersPushover = boolean("new-orders-pushover", "new_orders_pushover")
	in.LargeDropAlert = boolean("large-drop", "large_drop_alert")
	if set["threshold"] {
		if n, err := strconv.Atoi(strings.TrimSpace(*vals["threshold"])); err != nil {
			bad("failure_threshold", "%q is not a whole number", *vals["threshold"])
		} else {
			in.FailureThreshold = &n
		}
	}
	if set["renotify"] {
		// Whole minutes only: 30s must not become 0, which means never.
		v := strings.TrimSpace(*vals["renotify"])
		n, err := strconv.Atoi(v)
		if err != nil {
			d, derr := time.ParseDuration(v)
			if derr == nil && d >= 0 && d%time.Minute == 0 {
				n, err = int(d/time.Minute), nil
			}
		}
		if err != nil || n < 0 {
			bad("renotify_minutes", "%q is not a whole number of minutes (or a duration such as 6h); 0 never re-notifies", v)
		} else {
			in.RenotifyMinutes = &n
		}
	}
	if set["quiet"] {
		v := strings.TrimSpace(*vals["quiet"])
		if strings.EqualFold(v, "off") || v == "" {
			f := false
			in.QuietEnabled = &f
		} else if from, to, ok := strings.Cut(v, "-"); ok {
			t := true
			from, to = strings.TrimSpace(from), strings.TrimSpace(to)
			in.QuietEnabled, in.QuietFrom, in.QuietTo = &t, &from, &to
		} else {
			bad("quiet_from", "%q is not HH:MM-HH:MM or off", v)
		}
	}
	if set["quiet-zone"] {
		z := strings.TrimSpace(*vals["quiet-zone"])
		in.QuietZone = &z
	}
	if len(errs) > 0 {
		return in, errs
	}
	return in, nil
}

func printAlerts(e *env, info control.AlertsInfo) {
	var m map[string]any
	if len(info.Settings) > 0 && json.Unmarshal(info.Settings, &m) == nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(e.io.Out, "  %-22s %v\n", k, m[k])
		}
	}
	keys := "not set"
	if info.PushoverKeysSet {
		keys = "set (hidden)"
	}
	fmt.Fprintf(e.io.Out, "  %-22s %s\n", "pushover keys", keys)
}
