package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// readDetails fills in the detail fields: copied from the known order when its list fields are
// unchanged, else read from its detail page, a few pages at a time.
func (r *run) readDetails(orders []scheduler.Order) error {
	if len(r.s.detailFields) == 0 {
		return nil
	}
	var todo []int
	for i := range orders {
		if k, ok := r.req.Known[orders[i].PortalID]; ok && k.ListHash() == orders[i].ListHash() {
			orders[i].Instructions = k.Instructions
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return nil
	}
	r.progress(scheduler.Progress{Stage: scheduler.StageDetails, Orders: len(orders), Percent: 60,
		Message: fmt.Sprintf("reading %d detail pages", len(todo))})
	for {
		var again []int
		var err error
		if r.s.prof.Detail.Mode == "fetch" {
			again, err = r.fetchDetails(orders, todo)
		} else {
			again, err = r.navigateDetails(orders, todo)
		}
		if err != nil || len(again) == 0 {
			return err
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
		todo = again
	}
}

// detailURL returns the URL of an order's detail page.
func (r *run) detailURL(o scheduler.Order) string {
	if r.s.prof.Detail.URLField == "detail_url" {
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

// setDetail stores the detail values read for order o.
func (r *run) setDetail(o *scheduler.Order, values []json.RawMessage) error {
	for i, f := range r.s.detailFields {
		var v *string
		if i < len(values) {
			_ = json.Unmarshal(values[i], &v)
		}
		val, ok := "", false
		if v != nil {
			val, ok = f.clean(*v)
		}
		if !ok && !f.Optional {
			return scheduler.Errorf(scheduler.ClassLayoutChanged,
				"the detail page of work order %s has no %s (detail.fields.%s, selector %q); the portal's layout may have changed: update the profile",
				o.Number, f.name, f.name, f.Selector)
		}
		if f.name == "instructions" {
			o.Instructions = val
		}
	}
	return nil
}

// navigateDetails opens the detail pages of orders[todo] in a few tabs at a time. It returns
// the indexes whose page asked to sign in again.
func (r *run) navigateDetails(orders []scheduler.Order, todo []int) ([]int, error) {
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
				relogin, err := r.visitDetail(ctx, page, spec, &orders[i], limit)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				if relogin {
					again = append(again, i)
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

// visitDetail reads one detail page. relogin is true when the portal showed its login form.
func (r *run) visitDetail(ctx context.Context, page *rod.Page, spec map[string]any, o *scheduler.Order, limit time.Duration) (relogin bool, err error) {
	u := r.detailURL(*o)
	if u == "" {
		return false, scheduler.Errorf(scheduler.ClassLayoutChanged,
			"work order %s has no detail page link (list.fields.%s); update the profile", o.Number, r.s.prof.Detail.URLField)
	}
	doing := "loading the detail page of work order " + o.Number
	r.detailVisits.Add(1)
	if err := r.navigate(ctx, page, u, limit, doing); err != nil {
		return false, err
	}
	w, err := r.wait(ctx, page, spec, limit, doing)
	if err != nil {
		return false, err
	}
	switch w.State {
	case "ready":
		if len(w.Rows) == 1 {
			if err := r.setDetail(o, w.Rows[0]); err != nil {
				r.setFailPage(page)
				return false, err
			}
			return false, nil
		}
	case "login":
		return true, nil
	case "http":
		r.setFailPage(page)
		return false, scheduler.Errorf(scheduler.ClassPortalError, "the portal answered HTTP %d %s; try again later", w.Status, doing)
	case "error":
		r.setFailPage(page)
		return false, scheduler.Errorf(scheduler.ClassPortalError, "the portal showed an error %s: %q; try again later", doing, w.Text)
	case "timeout":
		r.setFailPage(page)
		if w.ReadyState == "loading" {
			return false, scheduler.Errorf(scheduler.ClassTimeout, "the portal did not finish %s within %s; it may be slow or down", doing, limit)
		}
		return false, scheduler.Errorf(scheduler.ClassLayoutChanged,
			"the detail page of work order %s (%s) does not show the detail fields; the portal's layout may have changed: update the profile", o.Number, w.URL)
	}
	r.setFailPage(page)
	return false, scheduler.Errorf(scheduler.ClassBrowserFailed, "unexpected page state %q %s", w.State, doing)
}

// fetchResult is one answer of jsFetchDetails.
type fetchResult struct {
	Status int               `json:"status"`
	Login  bool              `json:"login"`
	Error  string            `json:"error"`
	Values []json.RawMessage `json:"values"`
}

// fetchDetails fetches the detail pages of orders[todo] from the list page with its session
// and parses them there, a few at a time. It returns the indexes that asked to sign in again.
func (r *run) fetchDetails(orders []scheduler.Order, todo []int) ([]int, error) {
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
		urls := make([]string, len(part))
		for j, i := range part {
			if urls[j] = r.detailURL(orders[i]); urls[j] == "" {
				return nil, scheduler.Errorf(scheduler.ClassLayoutChanged,
					"work order %s has no detail page link (list.fields.%s); update the profile", orders[i].Number, p.Detail.URLField)
			}
		}
		d := limit * time.Duration((len(part)+p.Detail.Concurrency-1)/p.Detail.Concurrency)
		ctx, cancel := r.step(r.ctx, d)
		var res []fetchResult
		r.detailVisits.Add(int64(len(part)))
		err := evalJSON(ctx, r.page, false, &res, jsFetchDetails, spec, urls)
		cancel()
		if err != nil {
			r.setFailPage(r.page)
			return nil, r.rodErr(ctx, err, "reading detail pages", d)
		}
		for j, i := range part {
			if j >= len(res) {
				break
			}
			doing := "loading the detail page of work order " + orders[i].Number
			switch fr := res[j]; {
			case fr.Login:
				again = append(again, i)
			case fr.Status >= 400:
				r.setFailPage(r.page)
				return nil, scheduler.Errorf(scheduler.ClassPortalError, "the portal answered HTTP %d %s; try again later", fr.Status, doing)
			case fr.Error != "":
				r.setFailPage(r.page)
				return nil, scheduler.Errorf(scheduler.ClassPortalError, "the portal showed an error %s: %q; try again later", doing, fr.Error)
			case fr.Status == 0:
				r.setFailPage(r.page)
				return nil, scheduler.Errorf(scheduler.ClassPortalError, "the portal did not answer %s; try again later", doing)
			default:
				if err := r.setDetail(&orders[i], fr.Values); err != nil {
					return nil, err
				}
			}
		}
		n := min(start+chunk, len(todo))
		r.progress(scheduler.Progress{Stage: scheduler.StageDetails, Orders: len(orders),
			Percent: 60 + 35*n/len(todo), Message: fmt.Sprintf("read %d of %d detail pages", n, len(todo))})
	}
	return again, nil
}
