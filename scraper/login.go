package scraper

import (
	"fmt"
	"strings"

	"worktray/scheduler"
)

// login signs in on the login page.
func (r *run) login() error {
	r.enter(scheduler.StageLogin)
	r.progress(scheduler.Progress{Stage: scheduler.StageLogin, Percent: 5, Message: "signing in"})
	p := r.s.prof
	limit := p.Timeouts.Login.Duration
	const doing = "signing in"
	if err := r.navigate(r.ctx, r.page, r.s.loginURL, limit, "opening the login page"); err != nil {
		return err
	}
	w, err := r.wait(r.ctx, r.page, map[string]any{
		"mode": "form", "login": p.Login.Form, "ready": []string{p.Login.Username, p.Login.Password, p.Login.Submit},
	}, limit, "opening the login page")
	if err != nil {
		return err
	}
	switch w.State {
	case "form":
	case "http":
		r.setFailPage(r.page)
		return scheduler.Errorf(scheduler.ClassPortalError, "the login page answered HTTP %d; the portal may be down, try again later", w.Status)
	default:
		r.setFailPage(r.page)
		if w.ReadyState == "loading" {
			return scheduler.Errorf(scheduler.ClassTimeout, "the login page did not finish loading within %s; the portal may be slow or down", limit)
		}
		return scheduler.Errorf(scheduler.ClassLayoutChanged,
			"the login form (login.form %q with login.username, login.password and login.submit) was not found at %s; the login page may have changed: update the profile",
			p.Login.Form, w.URL)
	}
	sel := map[string]any{"username": p.Login.Username, "password": p.Login.Password, "submit": p.Login.Submit, "failure": p.Login.Failure}
	var res struct {
		OK      bool   `json:"ok"`
		Missing string `json:"missing"`
	}
	ctx, cancel := r.step(r.ctx, limit)
	err = evalJSON(ctx, r.page, false, &res, jsLogin, sel, r.s.cfg.Username, r.s.cfg.Password)
	cancel()
	if err != nil {
		r.setFailPage(r.page)
		return r.rodErr(ctx, err, doing, limit)
	}
	if !res.OK {
		r.setFailPage(r.page)
		return scheduler.Errorf(scheduler.ClassLayoutChanged, "the login page has no %q; the login page may have changed: update the profile", res.Missing)
	}
	w, err = r.wait(r.ctx, r.page, map[string]any{
		"mode": "submit", "login": p.Login.Form, "failure": p.Login.Failure, "success": p.Login.Success,
	}, limit, doing)
	if err != nil {
		return err
	}
	switch w.State {
	case "ok":
		r.logins++
		r.log.Debug("signed in", "user", r.s.cfg.Username)
		r.saveCookies()
		return nil
	case "login_failed":
		r.setFailPage(r.page)
		msg := "the portal rejected the sign-in"
		if w.Text != "" {
			msg += fmt.Sprintf(" (%q)", r.scrub(w.Text))
		}
		return scheduler.Errorf(scheduler.ClassLoginFailed, "%s; check the username and password in the portal settings", msg)
	case "http":
		r.setFailPage(r.page)
		return scheduler.Errorf(scheduler.ClassPortalError, "signing in answered HTTP %d; the portal may be down, try again later", w.Status)
	}
	r.setFailPage(r.page)
	return scheduler.Errorf(scheduler.ClassTimeout, "signing in did not finish within %s; the portal may be slow or down", limit)
}

// scrub removes the password from text that came from the portal.
func (r *run) scrub(s string) string {
	if pw := r.s.cfg.Password; len(pw) >= 3 {
		s = strings.ReplaceAll(s, pw, "***")
	}
	return s
}
