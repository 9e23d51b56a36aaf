package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// minFailedDetails is how many detail pages must fail, besides most of those read, before the
// whole run fails: one broken order never fails a run.
const minFailedDetails = 3

// detailFailure is why one order's detail page could not be read. The order is stored from its
// list fields (and the detail values it had) with DetailMissing set, and tried again next run.
type detailFailure struct {
	class  scheduler.ErrorClass
	reason string
}

// readDetails fills in the detail fields. An order whose list row is unchanged keeps the detail
// values it has in the store, unless they are older than detail.refresh (a bounded number of
// those per run, oldest first); new orders, changed rows and earlier failures are read. A
// detail page that cannot be read marks its order DetailMissing and adds a warning; only when
// most of them fail (at least minFailedDetails) does the run fail.
func (r *run) readDetails(orders []scheduler.Order) error {
	if len(r.s.detailFields) == 0 {
		return nil
	}
	p := r.s.prof
	now := time.Now().UTC()
	var todo, due []int
	for i := range orders {
		k, ok := r.req.Known[orders[i].PortalID]
		if !ok || k.DetailMissing != "" || r.s.rowHash(k) != r.s.rowHash(orders[i]) {
			todo = append(todo, i)
			continue
		}
		r.s.copyDetail(&orders[i], k)
		if k.DetailReadAt.IsZero() || now.Sub(k.DetailReadAt) >= p.Detail.Refresh.Duration {
			due = append(due, i)
		}
	}
	slices.SortStableFunc(due, func(a, b int) int { return orders[a].DetailReadAt.Compare(orders[b].DetailReadAt) })
	todo = append(todo, due[:min(len(due), p.Detail.RefreshPerRun)]...)
	if len(todo) == 0 {
		return nil
	}
	r.progress(scheduler.Progress{Stage: scheduler.StageDetails, Orders: len(orders), Percent: 60,
		Message: fmt.Sprintf("reading %d detail pages", len(todo))})
	failed := map[int]detailFailure{}
	pending := todo
	for {
		var again []int
		var err error
		if p.Detail.Mode == "fetch" {
			again, err = r.fetchDetails(orders, pending, failed)
		} else {
			again, err = r.navigateDetails(orders, pending, failed)
		}
		if err != nil {
			return err
		}
		if len(again) == 0 {
			break
		}
		if r.relogins >= maxRelogins {
			return scheduler.Errorf(scheduler.ClassLoginFailed,
				"the portal keeps ending the session while detail pages are read (%d sign-ins in this run); try again later", r.logins)
		}
		r.relogins++
		if err := r.login(); err != nil {
			return err
		}
		r.enter(scheduler.StageDetails)
		pending = again
	}
	return r.settleDetails(orders, todo, failed, now)
}

// settleDetails marks the orders whose detail was read, keeps the stored detail of those that
// failed, and fails the run when most failed.
func (r *run) settleDetails(orders []scheduler.Order, todo []int, failed map[int]detailFailure, now time.Time) error {
	var numbers []string
	classes := map[scheduler.ErrorClass]int{}
	for _, i := range todo {
		f, bad := failed[i]
		if !bad {
			orders[i].DetailMissing = ""
			orders[i].DetailReadAt = now
			continue
		}
		if k, ok := r.req.Known[orders[i].PortalID]; ok && !hasDetail(orders[i], r.s.detailFields) {
			r.s.copyDetail(&orders[i], k)
		}
		orders[i].DetailMissing = f.reason
		numbers = append(numbers, orders[i].Number)
		classes[f.class]++
		r.log.Warn("detail page not read", "order", orders[i].Number, "reason", f.reason)
	}
	if len(numbers) == 0 {
		return nil
	}
	first := failed[todo[slices.IndexFunc(todo, func(i int) bool { _, bad := failed[i]; return bad })]]
	if len(numbers) >= minFailedDetails && 2*len(numbers) > len(todo) {
		class := scheduler.ClassPortalError
		if classes[scheduler.ClassLayoutChanged] == len(numbers) {
			class = scheduler.ClassLayoutChanged
		}
		return scheduler.Errorf(class, "%d of %d detail pages could not be read (the first: %s)", len(numbers), len(todo), first.reason)
	}
	shown := numbers
	if len(shown) > 3 {
		shown = append(slices.Clone(shown[:3]), fmt.Sprintf("%d more", len(numbers)-3))
	}
	r.warn(fmt.Sprintf("the detail page of %d work order(s) could not be read (%s; %s): stored from the list, tried again next run",
		len(numbers), strings.Join(shown, ", "), first.reason))
	return nil
}

// hasDetail reports whether o already holds a value of a detail field (read in this run).
func hasDetail(o scheduler.Order, fields []fieldSpec) bool {
	for _, f := range fields {
		if f.custom {
			if _, ok := customValue(o, f.name); ok {
				return true
			}
		} else if builtinValue(o, f.name) != "" && f.name != "visit_date" {
			return true
		}
	}
	return false
}

// detailURL returns the URL of an order's detail page.
func (r *run) detailURL(o scheduler.Order) string {
	if r.s.prof.Detail.URLField == "detail_url" {
		r.detailMu.Lock()
		defer r.detailMu.Unlock()
		return r.detailURLs[o.PortalID]
	}
	return o.VisitURL
}

func (r *run) detailSpec() map[string]any {
	fields := make([]any, len(r.s.detailFields))
	ready := []string{}
	for i, f := range r.s.detailFields {
		fields[i] = f.jsSpec()
		if !f.Optional && f.Selector != "" {
			ready = append(ready, f.Selector)
		}
	}
	return map[string]any{
		"mode": "detail", "login": r.s.prof.Login.Form, "error": r.s.prof.Detail.Error,
		"ready": ready, "fields": fields,
	}
}

// setDetail stores the detail values read for order o; it returns why a required one is
// missing, or "".
func (r *run) setDetail(o *scheduler.Order, values []json.RawMessage, pageURL string) string {
	fresh := *o
	fresh.Custom = slices.DeleteFunc(slices.Clone(o.Custom), func(c scheduler.CustomField) bool {
		return slices.ContainsFunc(r.s.detailFields, func(f fieldSpec) bool { return f.custom && f.name == c.Name })
	})
	var ignored string
	for i, f := range r.s.detailFields {
		var rv json.RawMessage
		if i < len(values) {
			rv = values[i]
		}
		if why := r.s.applyField(&fresh, &f, rv, pageURL, &ignored); why != "" {
			return fmt.Sprintf("its detail page has no readable %s (detail.fields.%s, selector %q: %s)", f.name, f.name, f.Selector, why)
		}
	}
	*o = fresh
	return ""
}

// navigateDetails opens the detail pages of orders[todo] in a few tabs at a time. It returns
// the indexes whose page asked to sign in again; failures of single pages go to failed.
func (r *run) navigateDetails(orders []scheduler.Order, todo []int, failed map[int]detailFailure) ([]int, error) {
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex
		again    []int
		firstErr error
		done     int
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel(err)
		}
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	spec := r.detailSpec()
	limit := r.s.prof.Timeouts.Detail.Duration
	for range min(r.s.prof.Detail.Concurrency, len(todo)) {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					r.log.Error("detail worker panicked", "panic", v, "stack", string(debug.Stack()))
					fail(scheduler.Errorf(scheduler.ClassBrowserFailed, "internal error while reading detail pages: %v", v))
				}
			}()
			pctx, pcancel := r.step(ctx, limit)
			page, err := r.browser.Context(pctx).Page(proto.TargetCreateTarget{})
			pcancel()
			if err != nil {
				fail(r.rodErr(pctx, err, "opening a tab for detail pages", limit))
				return
			}
			page = page.Context(context.Background())
			defer func() {
				// The tab a failure happened on stays open for the artifacts; close ends it
				// with the browser.
				if r.isFailPage(page) {
					return
				}
				cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer ccancel()
				_ = page.Context(cctx).Close()
			}()
			for i := range jobs {
				// Each worker writes only the orders it takes, so orders need no lock.
				relogin, df, err := r.visitDetail(ctx, page, spec, &orders[i], limit)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				switch {
				case relogin:
					again = append(again, i)
				case df != nil:
					failed[i] = *df
				default:
					delete(failed, i)
				}
				done++
				n := done
				mu.Unlock()
				r.progress(scheduler.Progress{Stage: scheduler.StageDetails, Orders: len(orders),
					Percent: 60 + 35*n/len(todo), Message: fmt.Sprintf("read %d of %d detail pages", n, len(todo))})
			}
		})
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := r.ctx.Err(); err != nil {
		return nil, r.ctxErr(err, "reading detail pages")
	}
	return again, nil
}

// visitDetail reads one detail page into o. relogin is true when the portal showed its login
// form; df says why this page could not be read; err ends the run (the run's end, the
// browser's failure).
func (r *run) visitDetail(ctx context.Context, page *rod.Page, spec map[string]any, o *scheduler.Order, limit time.Duration) (relogin bool, df *detailFailure, err error) {
	u := r.detailURL(*o)
	if u == "" {
		return false, &detailFailure{class: scheduler.ClassLayoutChanged,
			reason: fmt.Sprintf("work order %s has no detail page link (list.fields.%s)", o.Number, r.s.prof.Detail.URLField)}, nil
	}
	doing := "loading the detail page of work order " + o.Number
	r.detailVisits.Add(1)
	perOrder := func(err error) (bool, *detailFailure, error) {
		var re *scheduler.RunError
		if r.ctx.Err() != nil || !errors.As(err, &re) {
			return false, nil, err
		}
		switch re.Class {
		case scheduler.ClassTimeout, scheduler.ClassPortalError, scheduler.ClassLayoutChanged:
			return false, &detailFailure{class: re.Class, reason: re.Msg}, nil
		}
		return false, nil, err
	}
	if err := r.navigate(ctx, page, u, limit, doing); err != nil {
		return perOrder(err)
	}
	w, err := r.wait(ctx, page, spec, limit, doing)
	if err != nil {
		return perOrder(err)
	}
	switch w.State {
	case "ready":
		if len(w.Rows) == 1 {
			if why := r.setDetail(o, w.Rows[0], w.URL); why != "" {
				r.setFailPage(page)
				return false, &detailFailure{class: scheduler.ClassLayoutChanged, reason: "work order " + o.Number + ": " + why}, nil
			}
			return false, nil, nil
		}
	case "login":
		return true, nil, nil
	case "http":
		r.setFailPage(page)
		return false, &detailFailure{class: scheduler.ClassPortalError, reason: fmt.Sprintf("the portal answered HTTP %d %s", w.Status, doing)}, nil
	case "error":
		r.setFailPage(page)
		return false, &detailFailure{class: scheduler.ClassPortalError, reason: fmt.Sprintf("the portal showed an error %s: %q", doing, w.Text)}, nil
	case "timeout":
		r.setFailPage(page)
		if w.ReadyState == "loading" {
			return false, &detailFailure{class: scheduler.ClassTimeout, reason: fmt.Sprintf("the portal did not finish %s within %s", doing, limit)}, nil
		}
		return false, &detailFailure{class: scheduler.ClassLayoutChanged,
			reason: fmt.Sprintf("the detail page of work order %s (%s) does not show the detail fields", o.Number, w.URL)}, nil
	}
	r.setFailPage(page)
	return false, nil, scheduler.Errorf(scheduler.ClassBrowserFailed, "unexpected page state %q %s", w.State, doing)
}

// fetchResult is one answer of jsFetchDetails.
type fetchResult struct {
	Status  int               `json:"status"`
	Login   bool              `json:"login"`
	Error   string            `json:"error"`
	Values  []json.RawMessage `json:"values"`
	Scripts int               `json:"scripts"`
	URL     string            `json:"url"`
}

// fetchDetails fetches the detail pages of orders[todo] from the list page with its session
// and parses them there, a few at a time. It returns the indexes that asked to sign in again;
// failures of single pages go to failed.
func (r *run) fetchDetails(orders []scheduler.Order, todo []int, failed map[int]detailFailure) ([]int, error) {
	p := r.s.prof
	limit := p.Timeouts.Detail.Duration
	fields := make([]any, len(r.s.detailFields))
	for i, f := range r.s.detailFields {
		fields[i] = f.jsSpec()
	}
	spec := map[string]any{"login": p.Login.Form, "error": p.Detail.Error, "fields": fields, "concurrency": p.Detail.Concurrency}
	chunk := 4 * p.Detail.Concurrency
	var again []int
	for start := 0; start < len(todo); start += chunk {
		part := todo[start:min(start+chunk, len(todo))]
		var urls []string
		var idx []int
		for _, i := range part {
			u := r.detailURL(orders[i])
			if u == "" {
				failed[i] = detailFailure{class: scheduler.ClassLayoutChanged,
					reason: fmt.Sprintf("work order %s has no detail page link (list.fields.%s)", orders[i].Number, p.Detail.URLField)}
				continue
			}
			urls, idx = append(urls, u), append(idx, i)
		}
		if len(urls) == 0 {
			continue
		}
		d := limit * time.Duration((len(urls)+p.Detail.Concurrency-1)/p.Detail.Concurrency)
		ctx, cancel := r.step(r.ctx, d)
		var res []fetchResult
		r.detailVisits.Add(int64(len(urls)))
		err := evalJSON(ctx, r.page, false, &res, jsFetchDetails, spec, urls)
		cancel()
		if err != nil {
			r.setFailPage(r.page)
			return nil, r.rodErr(ctx, err, "reading detail pages", d)
		}
		for j, i := range idx {
			if j >= len(res) {
				break
			}
			doing := "loading the detail page of work order " + orders[i].Number
			delete(failed, i)
			switch fr := res[j]; {
			case fr.Login:
				again = append(again, i)
			case fr.Status >= 400:
				failed[i] = detailFailure{class: scheduler.ClassPortalError, reason: fmt.Sprintf("the portal answered HTTP %d %s", fr.Status, doing)}
			case fr.Error != "":
				failed[i] = detailFailure{class: scheduler.ClassPortalError, reason: fmt.Sprintf("the portal showed an error %s: %q", doing, fr.Error)}
			case fr.Status == 0:
				failed[i] = detailFailure{class: scheduler.ClassPortalError, reason: "the portal did not answer " + doing}
			default:
				why := r.setDetail(&orders[i], fr.Values, fr.URL)
				if why == "" {
					continue
				}
				if fr.Scripts > 0 && noneMatched(fr.Values) {
					if err := r.checkDrawnByScript(orders[i], urls[j]); err != nil {
						return nil, err
					}
				}
				failed[i] = detailFailure{class: scheduler.ClassLayoutChanged, reason: "work order " + orders[i].Number + ": " + why}
			}
		}
		n := min(start+chunk, len(todo))
		r.progress(scheduler.Progress{Stage: scheduler.StageDetails, Orders: len(orders),
			Percent: 60 + 35*n/len(todo), Message: fmt.Sprintf("read %d of %d detail pages", n, len(todo))})
	}
	return again, nil
}

// noneMatched reports whether no detail field matched anything.
func noneMatched(values []json.RawMessage) bool {
	for _, v := range values {
		if s := strings.TrimSpace(string(v)); s != "" && s != "null" && s != "[]" {
			return false
		}
	}
	return true
}

// checkDrawnByScript tells a detail page drawn by JavaScript from a changed layout: fetch mode
// read none of the detail fields from the page's HTML, so the page is opened in a tab once. If
// the fields are there, the profile is wrong for this portal and the run fails saying so.
func (r *run) checkDrawnByScript(o scheduler.Order, u string) error {
	r.drawnOnce.Do(func() {
		limit := r.s.prof.Timeouts.Detail.Duration
		ctx, cancel := r.step(r.ctx, 2*limit+5*time.Second)
		defer cancel()
		page, err := r.browser.Context(ctx).Page(proto.TargetCreateTarget{})
		if err != nil {
			return
		}
		defer func() {
			cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer ccancel()
			_ = page.Context(cctx).Close()
		}()
		page = page.Context(context.Background())
		if r.navigate(ctx, page, u, limit, "opening a detail page") != nil {
			return
		}
		w, err := r.wait(ctx, page, r.detailSpec(), limit, "opening a detail page")
		if err == nil && w.State == "ready" && len(w.Rows) == 1 && !noneMatched(w.Rows[0]) {
			r.drawnErr = scheduler.Errorf(scheduler.ClassConfig,
				"the detail page of work order %s (%s) is drawn by JavaScript: its HTML has none of the detail fields, which appear only once its scripts ran; detail.mode = \"fetch\" reads the HTML alone, so set detail.mode = \"navigate\" in the profile",
				o.Number, u)
		}
	})
	return r.drawnErr
}
