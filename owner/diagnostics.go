package owner

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"worktray/control"
	"worktray/notify"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper"
	"worktray/secret"
	"worktray/store"
)

// diagnostics are the checks of the browser, the portal settings and the credentials. They
// never show a secret, only whether it is set.
func diagnostics(ctx context.Context, db interface {
	Setting(string, any) (bool, error)
	AlertDelivery() (scheduler.AlertDelivery, error)
}, secrets *secret.Store) []control.Check {
	var out []control.Check
	add := func(name string, st control.CheckStatus, detail, fix string) {
		out = append(out, control.Check{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	var ps scraper.Settings
	configured, err := db.Setting(scraper.SettingsKey, &ps)
	if err != nil {
		add("portal settings", control.CheckFail, err.Error(), "")
	}
	browser, err := scraper.FindBrowser(ps.BrowserPath)
	if err != nil {
		add("chromium", control.CheckFail, err.Error(), "install Chromium (e.g. `apt install chromium`)")
	} else {
		vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, verr := exec.CommandContext(vctx, browser, "--version").Output()
		cancel()
		detail := browser
		if verr == nil {
			detail += ": " + strings.TrimSpace(string(v))
		}
		add("chromium", control.CheckOK, detail, "")
	}
	switch {
	case !configured || ps.URL == "":
		add("portal", control.CheckFail, "no portal is configured", "`worktray portal set --url … --username …`")
	default:
		if err := ps.Validate(); err != nil {
			add("portal", control.CheckFail, err.Error(), "fix the portal settings")
		} else {
			add("portal", control.CheckOK, fmt.Sprintf("%s as %s, profile %q", ps.URL, ps.Username, ps.Profile), "")
		}
	}
	if secrets != nil {
		if _, err := secrets.Get(secret.PortalPassword); err != nil {
			add("portal password", control.CheckFail, "not set", "`worktray portal set` asks for it")
		} else {
			add("portal password", control.CheckOK, "set (kept in the "+string(secrets.Backend())+")", "")
		}
		as := notify.DefaultSettings()
		if _, err := db.Setting(notify.SettingsKey, &as); err == nil && as.PushoverEnabled {
			d, derr := db.AlertDelivery()
			switch token, user, _ := secrets.PushoverCredentials(); {
			case token == "" || user == "":
				add("pushover keys", control.CheckFail, "Pushover is on but its keys are not set", "`worktray alerts set --keys`")
			case derr == nil && d.NeedsUser != nil:
				// Set, but refused: every send fails until they change.
				add("pushover keys", control.CheckFail, "set, but "+d.NeedsUser.Message, "`worktray alerts set --keys` (or Settings → Alerts)")
			default:
				add("pushover keys", control.CheckOK, "set", "")
			}
			if derr == nil && d.Held != nil {
				msg := d.Held.Message
				if d.Pending > 0 {
					msg += fmt.Sprintf(" (%d waiting)", d.Pending)
				}
				add("pushover delivery", control.CheckWarn, msg, "")
			}
		} else {
			add("pushover", control.CheckInfo, "off", "")
		}
	}
	return out
}

// LocalDiagnostics makes the checks of diagnostics with no owner running, over the store at
// p.DB opened read-only and the secrets inspected without changing them: Chromium found and its
// version, the portal settings, whether the portal password and the Pushover keys are set
// (never their values). A store that cannot be opened (another owner holds it, or it is
// missing) is one warning check. It blocks for at most ten seconds (Chromium's --version) and
// is safe for concurrent use. It is cli.IO's LocalDiagnostics.
func LocalDiagnostics(ctx context.Context, p paths.Paths) []control.Check {
	db, err := store.Open(p.DB, store.Options{ReadOnly: true})
	if err != nil {
		return []control.Check{{Name: "portal settings", Status: control.CheckWarn, Detail: err.Error()}}
	}
	defer db.Close()
	secrets, err := secret.Inspect(p.ConfigDir, p == paths.Resolve(""))
	if err != nil {
		secrets = nil
	}
	return diagnostics(ctx, db, secrets)
}
