package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-rod/rod"

	"worktray/scheduler"
)

// maxRelogins bounds how often one scrape signs in again after the portal ended the session.
const maxRelogins = 2

// errLoginShown means the portal showed its login form instead of the page asked for.
var errLoginShown = errors.New("the portal asked to sign in")

// nextSettle is how long a list page must show no next-page control after its rows are drawn
// before it counts as the last page: portals may draw the pager after the rows, and a pager
// read too early would end the list silently. A control that is there is taken at once.
const nextSettle = 300 * time.Millisecond

// actResult is what jsAct answers.
type actResult struct {
	Found   bool `json:"found"`
	Changed bool `json:"changed"`
	Missing bool `json:"missing"`
}

func (r *run) listSpec() map[string]any {
	p := r.s.prof
	fields := make([]any, len(r.s.listFields))
	for i, f := range r.s.listFields {
		fields[i] = f.jsSpec()
	}
	spec := map[string]any{
		"mode": "list", "login": p.Login.Form, "rows": p.List.Row, "empty": p.List.Empty,
		"error": p.List.Error, "loading": p.List.Loading, "next": p.List.Next.Selector,
		"pageSize": p.List.PageSize.Selector, "fields": fields, "settle": nextSettle.Milliseconds(),
	}
	if r.s.total != nil {
		spec["total"] = r.s.total.jsSpec()
	}
	return spec
}

// readList reads every page of the list, signing in when the portal asks for it. The bool is
// true when the portal showed its empty-state marker.
func (r *run) readList() ([]scheduler.Order, bool, error) {
	for {
		orders, empty, err := r.readListOnce()
		if !errors.Is(err, errLoginShown) {
			return orders, empty, err
		}
		if r.logins > 0 {
			if r.relogins >= maxRelogins {
				return nil, false, scheduler.Errorf(scheduler.ClassLoginFailed,
					"the portal keeps ending the session right after signing in (%d sign-ins in this run); try again later or check the account", r.logins)
			}
			r.relogins++
		}
		if err := r.login(); err != nil {
			return nil, false, err
		}
		r.enter(scheduler.StageList)
	}
}

func (r *run) readListOnce() ([]scheduler.Order, bool, error) {
	p := r.s.prof
	limit := p.Timeouts.Page.Duration
	const doing = "loading the work-order list"
	if err := r.navigate(r.ctx, r.page, r.s.listURL, limit, doing); err != nil {
		return nil, false, err
	}
	spec := r.listSpec()
	w, err := r.waitList(spec, 1, limit)
	if err != nil {
		return nil, false, err
	}
	if ps := p.List.PageSize; ps.Selector != "" && w.State == "rows" {
		var a actResult
		ctx, cancel := r.step(r.ctx, limit)
		err := evalJSON(ctx, r.page, false, &a, jsAct, spec, "size", ps.Value)
		cancel()
		if err != nil {
			r.setFailPage(r.page)
			return nil, false, r.rodErr(ctx, err, "choosing the page size", limit)
		}
		switch {
		case !a.Found:
			r.log.Debug("page-size control not found; reading pages as they are", "selector", ps.Selector)
		case a.Missing:
			r.log.Warn("the page-size control has no such option; reading pages as they are", "value", ps.Value)
		case a.Changed:
			if w, err = r.waitList(spec, 1, limit); err != nil {
				return nil, false, err
			}
		}
	}
	empty := w.State == "empty"
	var orders []scheduler.Order
	seen := map[string]bool{}
	perPage := 0
	for page := 1; ; page++ {
		r.pages = page
		if w.State != "rows" {
			if page > 1 {
				return nil, false, scheduler.Errorf(scheduler.ClassPortalError,
					"page %d of the work-order list showed no orders although page %d offered a next page; try again later", page, page-1)
			}
			break
		}
		added := 0
		for i, raw := range w.Rows {
			o, err := r.parseRow(raw, w.URL, page, i+1)
			if err != nil {
				r.setFailPage(r.page)
				return nil, false, err
			}
			if seen[o.PortalID] {
				continue
			}
			seen[o.PortalID] = true
			orders = append(orders, o)
			added++
		}
		if added == 0 {
			r.setFailPage(r.page)
			return nil, false, scheduler.Errorf(scheduler.ClassPortalError,
				"page %d of the work-order list repeats orders already read; the list's next-page control (list.next) does not move on", page)
		}
		perPage = max(perPage, len(w.Rows))
		pages := 0
		if n, ok := r.totalCount(w); ok && perPage > 0 {
			pages = (n + perPage - 1) / perPage
		}
		pct := 10 + 50*page/max(pages, page+1)
		r.progress(scheduler.Progress{Stage: scheduler.StageList, Page: page, Pages: pages, Orders: len(orders), Percent: pct,
			Message: fmt.Sprintf("read page %d of the work-order list", page)})
		if !w.Next {
			break
		}
		if page >= p.List.MaxPages {
			return nil, false, scheduler.Errorf(scheduler.ClassPortalError,
				"the work-order list has more than %d pages (list.max_pages); raise the limit in the profile", p.List.MaxPages)
		}
		var a actResult
		ctx, cancel := r.step(r.ctx, limit)
		err := evalJSON(ctx, r.page, false, &a, jsAct, spec, "next", "")
		cancel()
		if err != nil {
			r.setFailPage(r.page)
			return nil, false, r.rodErr(ctx, err, fmt.Sprintf("going to page %d of the list", page+1), limit)
		}
		if !a.Found {
			// The control was there when the page was read: the page changed under us, and
			// stopping here would drop every later order without a word.
			r.setFailPage(r.page)
			return nil, false, scheduler.Errorf(scheduler.ClassPortalError,
				"page %d of the work-order list offered a next page, but its control (list.next %q) was gone when it was clicked; try again later",
				page, p.List.Next.Selector)
		}
		if w, err = r.waitList(spec, page+1, limit); err != nil {
			return nil, false, err
		}
	}
	if err := r.checkTotal(w, len(orders)); err != nil {
		r.setFailPage(r.page)
		return nil, false, err
	}
	return orders, empty, nil
}

// checkTotal compares the number of orders read with the portal's own count on the last list
// page, when the profile says where that count is (list.total). A count that cannot be read is
// a layout change, not a reason to skip the check; only the empty state may go without one.
func (r *run) checkTotal(w waitResult, read int) error {
	if r.s.total == nil {
		return nil
	}
	n, ok := r.totalCount(w)
	switch {
	case !ok && w.State == "empty":
		return nil
	case !ok:
		got := "matched nothing"
		if w.Total != nil {
			got = fmt.Sprintf("gave %q", strings.TrimSpace(*w.Total))
			if r.s.total.Regex != "" {
				got += fmt.Sprintf(", which is not a number or does not match its regex %q", r.s.total.Regex)
			} else {
				got += ", which is not a number"
			}
		}
		return scheduler.Errorf(scheduler.ClassLayoutChanged,
			"the portal's count of work orders (list.total, selector %q) %s at %s; the portal's layout may have changed: update the profile",
			r.s.total.Selector, got, w.URL)
	case n != read:
		return scheduler.Errorf(scheduler.ClassPortalError,
			"the portal reports %d work orders but %d could be read: the list was cut short or changed while it was read; try again", n, read)
	}
	return nil
}

// totalCount reads the portal's own count of orders from the last wait, when the profile says
// where it is.
func (r *run) totalCount(w waitResult) (int, bool) {
	if r.s.total == nil || w.Total == nil {
		return 0, false
	}
	v, ok := r.s.total.clean(*w.Total)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(strings.ReplaceAll(v, ",", ""), ".", ""))
	return n, err == nil
}

// waitList waits for a list page to show rows or the empty-state marker and turns every other
// outcome into an error (errLoginShown for the login form).
func (r *run) waitList(spec map[string]any, page int, limit time.Duration) (waitResult, error) {
	doing := fmt.Sprintf("loading page %d of the work-order list", page)
	w, err := r.wait(r.ctx, r.page, spec, limit, doing)
	if err != nil {
		return w, err
	}
	p := r.s.prof
	switch w.State {
	case "rows", "empty":
		return w, nil
	case "login":
		return w, errLoginShown
	}
	r.setFailPage(r.page)
	switch w.State {
	case "http":
		return w, scheduler.Errorf(scheduler.ClassPortalError,
			"the portal answered HTTP %d %s; it may be down, try again later", w.Status, doing)
	case "error":
		return w, scheduler.Errorf(scheduler.ClassPortalError, "the portal showed an error %s: %q; try again later", doing, w.Text)
	case "timeout":
		if w.ReadyState == "loading" || w.Loading {
			return w, scheduler.Errorf(scheduler.ClassTimeout,
				"the portal did not finish %s within %s; it may be slow or down (the profile's timeouts.page can be raised)", doing, limit)
		}
		return w, scheduler.Errorf(scheduler.ClassLayoutChanged,
			"neither a work-order row (list.row %q) nor the empty-state marker (list.empty %q) appeared at %s; the portal's layout may have changed: update the profile",
			p.List.Row, p.List.Empty, w.URL)
	}
	return w, scheduler.Errorf(scheduler.ClassBrowserFailed, "unexpected page state %q %s", w.State, doing)
}

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

// parseRow turns the raw values of one row into an order.
func (r *run) parseRow(raw []json.RawMessage, pageURL string, page, row int) (scheduler.Order, error) {
	var o scheduler.Order
	var detailURL string
	for i, f := range r.s.listFields {
		var v any
		if i < len(raw) {
			_ = json.Unmarshal(raw[i], &v)
		}
		if f.All {
			var items []string
			if list, ok := v.([]any); ok {
				for _, it := range list {
					if s, ok := it.(string); ok {
						if c, ok := f.clean(s); ok && c != "" {
							items = append(items, c)
						}
					}
				}
			}
			if f.name == "items" {
				o.Items = items
			}
			continue
		}
		s, isStr := v.(string)
		val, ok := "", false
		if isStr {
			val, ok = f.clean(s)
		}
		if !ok {
			if f.Optional {
				continue
			}
			why := "matched nothing"
			if isStr {
				why = fmt.Sprintf("gave %q, which its regex %q does not match", strings.TrimSpace(s), f.Regex)
			} else if f.Attribute != "" {
				why = fmt.Sprintf("has no attribute %q or matched nothing", f.Attribute)
			}
			return o, scheduler.Errorf(scheduler.ClassLayoutChanged,
				"row %d on page %d of the work-order list: list.fields.%s (selector %q) %s; the portal's layout may have changed: update the profile",
				row, page, f.name, f.Selector, why)
		}
		if strings.HasSuffix(f.name, "_url") && val != "" {
			val = absURL(pageURL, val)
		}
		switch f.name {
		case "id":
			o.PortalID = val
		case "number":
			o.Number = val
		case "customer":
			o.Customer = val
		case "store_number":
			o.StoreNumber = val
		case "site_name":
			o.SiteName = val
		case "street":
			o.Address.Street = val
		case "city":
			o.Address.City = val
		case "state":
			o.Address.State = val
		case "zip":
			o.Address.Zip = val
		case "service_code":
			o.ServiceCode = val
		case "service_name":
			o.ServiceName = val
		case "visit_date":
			o.VisitDate = val
		case "visit_url":
			o.VisitURL = val
		case "detail_url":
			detailURL = val
		}
	}
	if o.PortalID == "" {
		o.PortalID = o.Number
	}
	if o.PortalID == "" {
		return o, scheduler.Errorf(scheduler.ClassLayoutChanged,
			"row %d on page %d of the work-order list has no work-order number; the portal's layout may have changed: update the profile", row, page)
	}
	if r.s.prof.Detail.URLField == "detail_url" {
		if r.detailURLs == nil {
			r.detailURLs = map[string]string{}
		}
		r.detailURLs[o.PortalID] = detailURL
	}
	return o, nil
}

// clean normalises a raw value: white space, then the regex, then date layouts. ok is false
// when the regex does not match.
func (f *fieldSpec) clean(s string) (string, bool) {
	if f.Multiline {
		lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		out := lines[:0]
		for _, l := range lines {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				out = append(out, l)
			}
		}
		s = strings.Join(out, "\n")
	} else {
		s = strings.Join(strings.Fields(s), " ")
	}
	if f.re != nil {
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = strings.TrimSpace(m[len(m)-1])
	}
	for _, l := range f.DateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(time.DateOnly), true
		}
	}
	return s, true
}

// absURL resolves ref against the page's URL.
func absURL(pageURL, ref string) string {
	b, err := url.Parse(pageURL)
	if err != nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(u).String()
}

// navigate opens u on page within limit.
func (r *run) navigate(parent context.Context, page *rod.Page, u string, limit time.Duration, doing string) error {
	ctx, cancel := r.step(parent, limit)
	defer cancel()
	if err := page.Context(ctx).Navigate(u); err != nil {
		r.setFailPage(page)
		return r.rodErr(ctx, err, doing, limit)
	}
	return nil
}

// wait runs jsWait on page with a limit and returns its answer. spec is not modified, so
// concurrent waits may share it.
func (r *run) wait(parent context.Context, page *rod.Page, spec map[string]any, limit time.Duration, doing string) (waitResult, error) {
	ctx, cancel := r.step(parent, limit+5*time.Second)
	defer cancel()
	var w waitResult
	if err := evalJSON(ctx, page, true, &w, jsWait, spec, limit.Milliseconds()); err != nil {
		r.setFailPage(page)
		return w, r.rodErr(ctx, err, doing, limit)
	}
	return w, nil
}
