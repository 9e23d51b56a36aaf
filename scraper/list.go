package scraper

import (
	"context"
	"errors"
	"fmt"
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
	if !r.takeAtList() {
		if err := r.navigate(r.ctx, r.page, r.s.listURL, limit, doing); err != nil {
			return nil, false, err
		}
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
