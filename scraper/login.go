package scraper

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"worktray/scheduler"
)

// loginState is what jsLoginWait answers.
type loginState struct {
	State      string `json:"state"` // "ready", "failed", "success", "left", "http", "timeout"
	Status     int    `json:"status"`
	Text       string `json:"text"`
	URL        string `json:"url"`
	ReadyState string `json:"readyState"`
}

// login signs in on the login page, in one or two steps (login.next), and proves it worked:
// the success marker (login.success) was seen, or the work-order list was reached. A sign-in
// the portal refused is never repeated within the run: a second call returns the same error.
func (r *run) login() error {
	if r.loginErr != nil {
		return r.loginErr
	}
	err := r.signIn()
	var re *scheduler.RunError
	if err != nil && errors.As(err, &re) && re.Class == scheduler.ClassLoginFailed {
		r.loginErr = err
	}
	return err
}

func (r *run) signIn() error {
	r.enter(scheduler.StageLogin)
	r.progress(scheduler.Progress{Stage: scheduler.StageLogin, Percent: 5, Message: "signing in"})
	p := r.s.prof
	limit := p.Timeouts.Login.Duration
	const doing = "signing in"
	if err := r.navigate(r.ctx, r.page, r.s.loginURL, limit, "opening the login page"); err != nil {
		return err
	}
	twoStep := p.Login.Next != ""
	first := []string{p.Login.Username, p.Login.Password, p.Login.Submit}
	if twoStep {
		first = []string{p.Login.Username, p.Login.Next}
	}
	w, err := r.loginWait("ready", first, false, "opening the login page")
	if err != nil {
		return err
	}
	if w.State != "ready" {
		return r.loginPageErr(w, first, limit)
	}
	if twoStep {
		if err := r.loginStep(map[string]string{p.Login.Username: r.s.cfg.Username}, p.Login.Next); err != nil {
			return err
		}
		second := []string{p.Login.Password, p.Login.Submit}
		w, err := r.loginWait("ready", second, true, "opening the password step of the login")
		if err != nil {
			return err
		}
		switch w.State {
		case "ready":
		case "failed":
			return r.rejected(w.Text)
		default:
			return r.loginPageErr(w, second, limit)
		}
		if err := r.loginStep(map[string]string{p.Login.Password: r.s.cfg.Password}, p.Login.Submit); err != nil {
			return err
		}
	} else {
		if err := r.loginStep(map[string]string{p.Login.Username: r.s.cfg.Username, p.Login.Password: r.s.cfg.Password}, p.Login.Submit); err != nil {
			return err
		}
	}
	w, err = r.loginWait("submitted", nil, true, doing)
	if err != nil {
		return err
	}
	switch w.State {
	case "success":
		return r.signedIn()
	case "left":
		return r.proveByList(w.URL)
	case "failed":
		return r.rejected(w.Text)
	case "http":
		r.setFailPage(r.page)
		return scheduler.Errorf(scheduler.ClassPortalError, "signing in answered HTTP %d; the portal may be down, try again later", w.Status)
	}
	r.setFailPage(r.page)
	if w.ReadyState == "loading" || p.Login.Success == "" {
		return scheduler.Errorf(scheduler.ClassTimeout, "signing in did not finish within %s; the portal may be slow or down", limit)
	}
	return scheduler.Errorf(scheduler.ClassLoginFailed,
		"after signing in, neither the success marker (login.success %q) nor a failure message (login.failure) appeared within %s at %s; check the username and password, or the profile's login.success",
		p.Login.Success, limit, w.URL)
}

// proveByList proves a sign-in that left the login form without a success marker to look for:
// the work-order list must show rows or its empty state, not the login form again. at is the
// page the sign-in ended on; when it is the list, it is not loaded again.
func (r *run) proveByList(at string) error {
	limit := r.s.prof.Timeouts.Page.Duration
	if !samePage(at, r.s.listURL) {
		if err := r.navigate(r.ctx, r.page, r.s.listURL, limit, "opening the work-order list after signing in"); err != nil {
			return err
		}
	}
	if err := r.watchRequests(); err != nil {
		return err
	}
	w, err := r.listWait(r.listSpec(), "peek", 1, nil)
	var re *scheduler.RunError
	switch {
	case err == errLoginShown:
		r.setFailPage(r.page)
		return r.rejected("")
	case errors.As(err, &re) && w.State == "timeout" && w.URL != "" && !samePage(w.URL, r.s.listURL):
		// Sent elsewhere instead of the list: the sign-in did not hold.
		return scheduler.Errorf(scheduler.ClassLoginFailed,
			"after signing in, the work-order list (%s) sent the browser to %s: the portal did not accept the sign-in; check the username and password in the portal settings",
			r.s.listURL, w.URL)
	case err != nil:
		return err
	}
	r.atList = true
	return r.signedIn()
}

// signedIn counts a proven sign-in and keeps its session.
func (r *run) signedIn() error {
	r.logins++
	r.log.Debug("signed in", "user", r.s.cfg.Username)
	r.saveCookies()
	return nil
}

// rejected is the error of a sign-in the portal refused; text is its message, if it showed one.
func (r *run) rejected(text string) error {
	r.setFailPage(r.page)
	msg := "the portal rejected the sign-in"
	if text != "" {
		msg += fmt.Sprintf(" (%q)", r.scrub(text))
	} else {
		msg += " (the work-order list still asks to sign in)"
	}
	return scheduler.Errorf(scheduler.ClassLoginFailed, "%s; check the username and password in the portal settings", msg)
}

// loginPageErr explains a login page that did not show the inputs wanted.
func (r *run) loginPageErr(w loginState, wanted []string, limit time.Duration) error {
	r.setFailPage(r.page)
	switch {
	case w.State == "http":
		return scheduler.Errorf(scheduler.ClassPortalError, "the login page answered HTTP %d; the portal may be down, try again later", w.Status)
	case w.State == "failed":
		return r.rejected(w.Text)
	case w.ReadyState == "loading":
		return scheduler.Errorf(scheduler.ClassTimeout, "the login page did not finish loading within %s; the portal may be slow or down", limit)
	}
	return scheduler.Errorf(scheduler.ClassLayoutChanged,
		"the login form (%s) was not found at %s within %s; the login page may have changed: update the profile's login section",
		quoteAll(wanted), w.URL, limit)
}

// loginStep types values into inputs (by selector) and clicks the button click.
func (r *run) loginStep(values map[string]string, click string) error {
	var res struct {
		OK      bool   `json:"ok"`
		Missing string `json:"missing"`
	}
	d := r.s.prof.Timeouts.Login.Duration
	ctx, cancel := r.step(r.ctx, d)
	defer cancel()
	err := evalJSON(ctx, r.page, false, &res, jsLoginStep, values, click, r.s.prof.Login.Failure)
	if err != nil {
		r.setFailPage(r.page)
		return r.rodErr(ctx, err, "signing in", d)
	}
	if !res.OK {
		r.setFailPage(r.page)
		return scheduler.Errorf(scheduler.ClassLayoutChanged, "the login page has no %q; the login page may have changed: update the profile", res.Missing)
	}
	return nil
}

// loginWait polls the page with jsLoginWait in mode ("ready": the selectors in ready are
// there; "submitted": the outcome of a sent form), within timeouts.login. A failure marker
// counts when failures is set.
func (r *run) loginWait(mode string, ready []string, failures bool, doing string) (loginState, error) {
	p := r.s.prof
	d := p.Timeouts.Login.Duration
	ctx, cancel := r.step(r.ctx, d+5*time.Second)
	defer cancel()
	var w loginState
	spec := map[string]any{"mode": mode, "ready": ready, "form": p.Login.Form, "success": p.Login.Success, "loginPath": ""}
	if u, err := url.Parse(r.s.loginURL); err == nil {
		spec["loginPath"] = u.Path
	}
	if failures {
		spec["failure"] = p.Login.Failure
	}
	if err := evalJSON(ctx, r.page, true, &w, jsLoginWait, spec, d.Milliseconds()); err != nil {
		r.setFailPage(r.page)
		return w, r.rodErr(ctx, err, doing, d)
	}
	return w, nil
}

// samePage reports whether two URLs name the same page (scheme, host and path).
func samePage(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host &&
		strings.TrimSuffix(ua.Path, "/") == strings.TrimSuffix(ub.Path, "/")
}

// takeAtList reports whether the main page already shows the work-order list because signing
// in was proven there, and forgets it: the list need not be loaded again.
func (r *run) takeAtList() bool {
	at := r.atList
	r.atList = false
	return at
}

func quoteAll(sels []string) string {
	q := make([]string, len(sels))
	for i, s := range sels {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// scrub removes the password from text that came from the portal.
func (r *run) scrub(s string) string {
	if pw := r.s.cfg.Password; len(pw) >= 3 {
		s = strings.ReplaceAll(s, pw, "***")
	}
	return s
}

// jsLoginWait polls the login page until spec.mode's condition holds or timeout ms pass. A
// marker counts only while it is visible. Modes:
//   - "ready": every selector of spec.ready is there and visible ("ready"); a visible failure
//     marker not seen before the form was sent answers "failed";
//   - "submitted": after a form was sent: "failed" (a fresh failure marker, or the same form
//     back in a new document), "success" (the success marker, when the profile has one),
//     "left" (no success marker in the profile: the browser left the login page and its form;
//     the caller proves it on the list), "http" (an HTTP error status). A login page that
//     draws its form (and its failure message) by script after loading is waited for.
//
// It answers "timeout" with the document's readyState when nothing happened in time.
const jsLoginWait = `async function (s, timeout) {
  const deadline = Date.now() + timeout;
  const q = (x) => (x ? document.querySelector(x) : null);
  const visible = (e) => {
    if (!e) return false;
    const st = getComputedStyle(e);
    return st.visibility !== "hidden" && st.display !== "none" && e.getClientRects().length > 0;
  };
  const shown = (x) => (x ? Array.from(document.querySelectorAll(x)).find((e) => visible(e) && !e.hasAttribute("data-wt-seen")) : null);
  const txt = (e) => (e && e.textContent ? e.textContent.replace(/\s+/g, " ").trim() : "");
  const out = (o) => { o.url = location.href; o.readyState = document.readyState; return JSON.stringify(o); };
  let goneSince = 0;
  for (;;) {
    const nav = performance.getEntriesByType("navigation")[0];
    const status = (nav && nav.responseStatus) || 0;
    const failure = shown(s.failure);
    const root = document.documentElement;
    const sentHere = !!root && root.hasAttribute("data-wt-submitted");
    if (s.mode === "ready") {
      if (failure) return out({ state: "failed", text: txt(failure) });
      if (s.ready.every((x) => visible(q(x)))) return out({ state: "ready" });
      if (status >= 400 && document.readyState !== "loading") return out({ state: "http", status: status });
    } else {
      const form = q(s.form);
      if (failure) return out({ state: "failed", text: txt(failure) });
      if (s.success) {
        if (!visible(form) && shown(s.success)) return out({ state: "success" });
      } else if (!form && document.readyState === "complete") {
        // Gone for a moment: a form drawn by a script after load is not there yet either. On
        // the login page itself (a single-page app, or the form sent back) it must stay gone
        // longer; the list proves the sign-in either way.
        if (!goneSince) goneSince = Date.now();
        const settle = location.pathname === s.loginPath ? 1000 : 150;
        if (Date.now() - goneSince >= settle) return out({ state: "left" });
      } else {
        goneSince = 0;
      }
      // The login form back in a new document: the portal asks again.
      if (form && visible(form) && !sentHere && document.readyState === "complete") {
        return out({ state: "failed", text: "" });
      }
      if (!form && !sentHere && status >= 400) return out({ state: "http", status: status });
    }
    if (Date.now() > deadline) return out({ state: "timeout", status: status });
    await new Promise((r) => setTimeout(r, 15));
  }
}`

// jsLoginStep types values into inputs (through the native setter, so that frameworks see
// them), marks the failure markers shown now as seen, marks the document as sent from, and
// clicks the button. It answers {"ok": bool, "missing": "<selector>"}.
const jsLoginStep = `function (values, click, failure) {
  const q = (x) => document.querySelector(x);
  for (const x of [...Object.keys(values), click]) {
    if (!q(x)) return JSON.stringify({ ok: false, missing: x });
  }
  const set = (el, v) => {
    const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value");
    if (d && d.set) d.set.call(el, v); else el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  };
  for (const [sel, v] of Object.entries(values)) set(q(sel), v);
  if (failure) document.querySelectorAll(failure).forEach((e) => e.setAttribute("data-wt-seen", ""));
  document.documentElement.setAttribute("data-wt-submitted", "");
  q(click).click();
  return JSON.stringify({ ok: true });
}`
