package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

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

// actResult is what jsListAct answers.
type actResult struct {
	Found   bool `json:"found"`
	Changed bool `json:"changed"`
	Missing bool `json:"missing"`
}

// listPage is what jsList answers; see its comment for the states.
type listPage struct {
	State      string              `json:"state"`
	Status     int                 `json:"status"`
	Text       string              `json:"text"`
	URL        string              `json:"url"`
	Rows       [][]json.RawMessage `json:"rows"`
	Next       bool                `json:"next"`
	Count      int                 `json:"count"` // rows on the page, read or not
	Total      *string             `json:"total"`
	ReadyState string              `json:"readyState"`
	Loading    bool                `json:"loading"`
	Pending    int                 `json:"pending"`
	Moving     bool                `json:"moving"`
	Appended   bool                `json:"appended"` // every row read before is still on the page
	Steps      int                 `json:"steps"`    // steps a burst took
	Ended      string              `json:"ended"`    // why a burst stopped early: "next", "total", "unchanged"
}

// listRead is one complete read of the list, from its first page to its end.
type listRead struct {
	orders []scheduler.Order
	empty  bool // the portal showed its empty marker
	pages  int
}

// errListShifted marks a read whose count of orders did not add up (list.total, or a next-page
// control that stopped moving before the count was reached): the list may have changed while
// it was read, so readList reads it once more before failing.
type errListShifted struct{ err *scheduler.RunError }

func (e *errListShifted) Error() string { return e.err.Error() }
func (e *errListShifted) Unwrap() error { return e.err }

func (r *run) listSpec() map[string]any {
	p := r.s.prof
	fields := make([]any, len(r.s.listFields))
	for i, f := range r.s.listFields {
		fields[i] = f.jsSpec()
	}
	grace := min(p.clickGrace(), p.Timeouts.Page.Duration/2)
	spec := map[string]any{
		"login": p.Login.Form, "rows": p.List.Row, "empty": p.List.Empty,
		"error": p.List.Error, "loading": p.List.Loading, "next": p.List.Next.Selector,
		"pageSize": p.List.PageSize.Selector, "fields": fields,
		"settle": p.List.Settle.Milliseconds(), "nextSettle": max(nextSettle, p.List.Settle.Duration).Milliseconds(),
		"grace": grace.Milliseconds(), "stepSettle": min(stepSettle, p.List.Settle.Duration).Milliseconds(),
	}
	if r.s.total != nil {
		spec["total"] = r.s.total.jsSpec()
	}
	return spec
}

// watchRequests installs jsNetWatch in every later document of the list tab, once per run.
func (r *run) watchRequests() error {
	if r.netWatched {
		return nil
	}
	ctx, cancel := r.step(r.ctx, r.s.prof.Timeouts.Page.Duration)
	defer cancel()
	if _, err := (proto.PageAddScriptToEvaluateOnNewDocument{Source: jsNetWatch}).Call(r.page.Context(ctx)); err != nil {
		return r.rodErr(ctx, err, "preparing the list tab", r.s.prof.Timeouts.Page.Duration)
	}
	r.netWatched = true
	return nil
}

// readListSignedIn reads the whole list once, signing in when the portal asks for it.
func (r *run) readListSignedIn() (listRead, error) {
	if err := r.watchRequests(); err != nil {
		return listRead{}, err
	}
	for {
		lr, err := r.readListOnce()
		if !errors.Is(err, errLoginShown) {
			return lr, err
		}
		if r.logins > 0 {
			if r.relogins >= maxRelogins {
				return listRead{}, scheduler.Errorf(scheduler.ClassLoginFailed,
					"the portal keeps ending the session right after signing in (%d sign-ins in this run); try again later or check the account", r.logins)
			}
			r.relogins++
		}
		if err := r.login(); err != nil {
			return listRead{}, err
		}
		r.enter(scheduler.StageList)
	}
}

// readListOnce opens the list, chooses the page size and reads every page, however the list
// shows more orders (list.next replacing or adding rows, or scrolling), until it ends.
func (r *run) readListOnce() (listRead, error) {
	p := r.s.prof
	limit := p.Timeouts.Page.Duration
	if !r.takeAtList() {
		if err := r.navigate(r.ctx, r.page, r.s.listURL, limit, "loading the work-order list"); err != nil {
			return listRead{}, err
		}
	}
	spec := r.listSpec()
	w, err := r.listWait(spec, "peek", 1, nil)
	if err != nil {
		return listRead{}, err
	}
	if w.State == "rows" {
		if err := r.choosePageSize(spec); err != nil {
			return listRead{}, err
		}
	}
	if w, err = r.listWait(spec, "first", 1, nil); err != nil {
		return listRead{}, err
	}
	if w.State == "empty" {
		r.pages = 1
		if err := r.checkTotal(w, 0); err != nil {
			r.setFailPage(r.page)
			return listRead{}, err
		}
		return listRead{empty: true, pages: 1}, nil
	}
	var orders []scheduler.Order
	seen := map[string]bool{}
	var last map[string]bool // the ids of the rows the last step brought
	perPage := 0
	// burst is set once a step added rows below those read ("Load more", infinite scroll):
	// then several steps are taken in one go and the rows read at the end.
	burst := false
	for page, prev := 1, 0; ; {
		r.pages = page
		batch := map[string]bool{}
		added := 0
		if w.State == "rows" {
			for i, raw := range w.Rows {
				o, err := r.parseRow(raw, w.URL, page, i+1)
				if err != nil {
					r.setFailPage(r.page)
					return listRead{}, err
				}
				batch[o.PortalID] = true
				if seen[o.PortalID] {
					continue
				}
				seen[o.PortalID] = true
				orders = append(orders, o)
				added++
			}
		}
		if page > 1 && added == 0 {
			// The last step brought no new rows: the end of the list, when it re-showed the
			// last rows read (a numbered pager whose "next" never disables) or changed nothing.
			if w.State == "unchanged" && w.Count == 0 {
				r.setFailPage(r.page)
				return listRead{}, scheduler.Errorf(scheduler.ClassPortalError,
					"page %d of the work-order list showed no orders although page %d offered a next page; try again later", page, prev)
			}
			for id := range batch {
				if !last[id] {
					r.setFailPage(r.page)
					return listRead{}, scheduler.Errorf(scheduler.ClassLayoutChanged,
						"after page %d, the next-page control (list.next %q) went back to orders read on an earlier page; it may match the wrong control: update the profile",
						prev, p.List.Next.Selector)
				}
			}
			r.pages = prev
			if w.Ended != "next" && w.Ended != "total" {
				if err := r.endWithoutNewRows(w, len(orders), prev); err != nil {
					return listRead{}, err
				}
			}
			break
		}
		last = batch
		perPage = max(perPage, len(w.Rows)/max(page-prev, 1))
		pages := 0
		total, haveTotal := r.totalCount(w)
		if haveTotal && perPage > 0 {
			pages = (total + perPage - 1) / perPage
		}
		pct := 10 + 50*page/max(pages, page+1)
		r.progress(scheduler.Progress{Stage: scheduler.StageList, Page: page, Pages: pages, Orders: len(orders), Percent: pct,
			Message: fmt.Sprintf("read page %d of the work-order list", page)})
		if haveTotal && len(orders) >= total {
			break // the portal's count has been read
		}
		if w.Ended != "" {
			// A burst of steps reached the end of the list.
			if w.Ended == "unchanged" {
				if err := r.endWithoutNewRows(w, len(orders), page); err != nil {
					return listRead{}, err
				}
			}
			break
		}
		action := "next"
		switch {
		case p.List.Next.Scroll:
			action = "scroll"
		case p.List.Next.Selector == "" || !w.Next:
			action = ""
		}
		if action == "" {
			break
		}
		if page >= p.List.MaxPages {
			r.setFailPage(r.page)
			return listRead{}, scheduler.Errorf(scheduler.ClassPortalError,
				"the work-order list goes on past %d pages (list.max_pages); raise the limit in the profile if the portal really has that many", p.List.MaxPages)
		}
		var err error
		if burst {
			stopAt := 0
			if haveTotal {
				stopAt = total
			}
			steps := min(burstSteps, p.List.MaxPages-page)
			if w, err = r.listBurst(spec, action, steps, stopAt, page+1); err != nil {
				return listRead{}, err
			}
			prev, page = page, page+max(w.Steps, 1)
			continue
		}
		a, err := r.listAct(spec, action, "", fmt.Sprintf("going to page %d of the list", page+1))
		if err != nil {
			return listRead{}, err
		}
		if !a.Found {
			// The control was there when the page was read: the page changed under us, and
			// stopping here would drop every later order without a word.
			r.setFailPage(r.page)
			if action == "scroll" {
				return listRead{}, scheduler.Errorf(scheduler.ClassPortalError,
					"the rows of page %d of the work-order list were gone when the list was scrolled for more; try again later", page)
			}
			return listRead{}, scheduler.Errorf(scheduler.ClassPortalError,
				"page %d of the work-order list offered a next page, but its control (list.next %q) was gone when it was clicked; try again later",
				page, p.List.Next.Selector)
		}
		if w, err = r.listWait(spec, "more", page+1, nil); err != nil {
			return listRead{}, err
		}
		if w.State == "empty" {
			r.setFailPage(r.page)
			return listRead{}, scheduler.Errorf(scheduler.ClassPortalError,
				"page %d of the work-order list showed the empty marker although page %d offered a next page; try again later", page+1, page)
		}
		burst = w.State == "rows" && w.Appended
		prev, page = page, page+1
	}
	if err := r.checkTotal(w, len(orders)); err != nil {
		r.setFailPage(r.page)
		return listRead{}, err
	}
	return listRead{orders: orders, pages: r.pages}, nil
}

// endWithoutNewRows decides about a list whose last step (a click on list.next, or a scroll)
// brought no new rows after page: that is its end, unless the portal's count says more orders
// are left, when the control still matches but changes nothing.
func (r *run) endWithoutNewRows(w listPage, read, page int) error {
	n, ok := r.totalCount(w)
	if !ok || read >= n {
		return nil
	}
	p := r.s.prof
	r.setFailPage(r.page)
	how := fmt.Sprintf("the next-page control (list.next %q) still matches, but clicking it after page %d changed nothing", p.List.Next.Selector, page)
	if p.List.Next.Scroll {
		how = fmt.Sprintf("scrolling to the end of the list (list.next.scroll) after page %d brought no new rows", page)
	}
	return &errListShifted{scheduler.Errorf(scheduler.ClassLayoutChanged,
		"%s, while the portal counts %d work orders and %d were read; the list may have changed while it was read, or the profile's list.next does not match the control that shows more orders: update the profile",
		how, n, read)}
}

// choosePageSize chooses the profile's page size (list.page_size) and waits for the list to
// show it. A control that is not there, or has no such size, leaves the pages as they are
// (more pages to read, nothing lost).
func (r *run) choosePageSize(spec map[string]any) error {
	ps := r.s.prof.List.PageSize
	if ps.Selector == "" && len(ps.Clicks) == 0 {
		return nil
	}
	changed := false
	if ps.Selector != "" {
		a, err := r.listAct(spec, "size", ps.Value, "choosing the page size")
		if err != nil {
			return err
		}
		switch {
		case !a.Found:
			r.log.Warn("the page-size control (list.page_size.selector) is not on the list page; reading pages as they are", "selector", ps.Selector)
			return nil
		case a.Missing:
			r.log.Warn("the page-size control has no such option (list.page_size.value); reading pages as they are", "value", ps.Value)
			return nil
		case !a.Changed:
			return nil // already in effect
		}
		changed = true
	}
	for i, c := range ps.Clicks {
		a, err := r.listAct(spec, "click", c, "choosing the page size")
		if err != nil {
			return err
		}
		if !a.Found {
			r.log.Warn("a page-size control (list.page_size.clicks) did not appear; reading pages as they are",
				"step", i+1, "selector", c)
			break
		}
		changed = true
	}
	if changed {
		if _, err := r.listWait(spec, "resize", 1, nil); err != nil {
			return err
		}
	}
	return nil
}

// listAct runs jsListAct. A click that navigates may take the page's JavaScript context with
// it before the answer arrives: that click happened.
func (r *run) listAct(spec map[string]any, action, value, doing string) (actResult, error) {
	limit := r.s.prof.Timeouts.Page.Duration
	ctx, cancel := r.step(r.ctx, limit+5*time.Second)
	defer cancel()
	var a actResult
	err := evalJSON(ctx, r.page, false, &a, jsListAct, spec, action, value, limit.Milliseconds())
	if err != nil && (action == "next" || action == "click") && ctx.Err() == nil && isContextGone(err) {
		return actResult{Found: true, Changed: true}, nil
	}
	if err != nil {
		r.setFailPage(r.page)
		return a, r.rodErr(ctx, err, doing, limit)
	}
	return a, nil
}

// checkTotal compares the number of orders read with the portal's own count on the last list
// page, when the profile says where that count is (list.total). A count that cannot be read is
// a layout change, not a reason to skip the check; only the empty state may go without one.
func (r *run) checkTotal(w listPage, read int) error {
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
		return &errListShifted{scheduler.Errorf(scheduler.ClassPortalError,
			"the portal reports %d work orders but %d could be read: the list was cut short or changed while it was read; try again", n, read)}
	}
	return nil
}

// totalCount reads the portal's own count of orders from the last wait, when the profile says
// where it is.
func (r *run) totalCount(w listPage) (int, bool) {
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

// burstSteps is how many "Load more" clicks or scrolls one call of jsList takes at most before
// the rows are read (and progress reported).
const burstSteps = 25

// stepSettle is how long the rows a "Load more" click or a scroll brought must hold still, with
// no request in flight, before the next step is taken; the rows are read only after the last
// step, once the list has held still for list.settle.
const stepSettle = 10 * time.Millisecond

// listBurst takes up to steps steps of action ("next" or "scroll") on a list that adds rows
// below those read, then reads the new rows (jsList's "burst"). stopAt, when not 0, is the
// portal's count of orders: no step is taken once that many rows are shown.
func (r *run) listBurst(spec map[string]any, action string, steps, stopAt, page int) (listPage, error) {
	return r.listWait(spec, "burst", page, map[string]any{"action": action, "steps": steps, "stopAt": stopAt})
}

// listWait runs jsList (op "peek", "resize", "first", "more" or "burst" with arg) on the list
// page and turns every outcome but rows, the empty marker and "unchanged" into an error
// (errLoginShown for the login form). Each step of a burst has timeouts.page.
func (r *run) listWait(spec map[string]any, op string, page int, arg map[string]any) (listPage, error) {
	p := r.s.prof
	limit := p.Timeouts.Page.Duration
	doing := fmt.Sprintf("loading page %d of the work-order list", page)
	bound := limit
	if n, ok := arg["steps"].(int); ok {
		bound = limit * time.Duration(n+1)
	}
	ctx, cancel := r.step(r.ctx, bound+5*time.Second)
	defer cancel()
	var w listPage
	if err := evalJSON(ctx, r.page, op != "burst", &w, jsList, spec, op, limit.Milliseconds(), arg); err != nil {
		r.setFailPage(r.page)
		return w, r.rodErr(ctx, err, doing, limit)
	}
	switch w.State {
	case "rows", "empty", "unchanged":
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
		switch {
		case w.Loading:
			return w, scheduler.Errorf(scheduler.ClassTimeout,
				"the portal did not finish %s within %s: its loading marker (list.loading %q) stayed visible; it may be slow or down (the profile's timeouts.page can be raised)",
				doing, limit, p.List.Loading)
		case w.ReadyState == "loading" || w.Pending > 0:
			return w, scheduler.Errorf(scheduler.ClassTimeout,
				"the portal did not finish %s within %s; it may be slow or down (the profile's timeouts.page can be raised)", doing, limit)
		case w.Moving:
			return w, scheduler.Errorf(scheduler.ClassTimeout,
				"the rows of page %d of the work-order list kept changing for %s (they must hold still for list.settle, %s, to be read); raise timeouts.page or list.settle",
				page, limit, p.List.Settle.Duration)
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
