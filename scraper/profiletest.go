package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// ProfileTestOptions say how much TestProfile reads.
type ProfileTestOptions struct {
	// Pages is how many list pages are read (following list.next); default 1.
	Pages int `json:"pages,omitempty"`
	// Details is how many detail pages are read, from the first rows; default 3.
	Details int `json:"details,omitempty"`
	// Screenshot asks for a PNG of the list page with matched rows and fields outlined.
	Screenshot bool `json:"screenshot,omitempty"`
}

// ProfileReport is what TestProfile found: per field how many rows matched, sample values, and
// what matched nothing.
type ProfileReport struct {
	Profile  string        `json:"profile"`  // the profile's name
	ListURL  string        `json:"list_url"` // the list page read
	Pages    int           `json:"pages"`    // list pages read
	Rows     int           `json:"rows"`     // rows read (list.row matches)
	Empty    bool          `json:"empty"`    // the list showed its empty-state marker
	Details  int           `json:"details"`  // detail pages read
	Fields   []FieldReport `json:"fields"`
	Warnings []string      `json:"warnings,omitempty"`
	// Screenshot is a PNG of the first list page, rows outlined in blue, fields that matched in
	// green and rows with a field that matched nothing in red; nil unless asked for.
	Screenshot []byte `json:"screenshot,omitempty"`
}

// FieldReport is how one field of the profile fared.
type FieldReport struct {
	Name     string   `json:"name"`
	Where    string   `json:"where"` // "list" or "detail"
	Selector string   `json:"selector"`
	Optional bool     `json:"optional,omitempty"`
	Matched  int      `json:"matched"` // rows (or detail pages) where it gave a value
	Of       int      `json:"of"`      // rows (or detail pages) read
	Samples  []string `json:"samples,omitempty"`
	// Problems are the first few reasons it gave no value ("row 3: matched nothing").
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether the field gave a value everywhere it must.
func (f FieldReport) OK() bool { return f.Optional || f.Matched == f.Of }

// TestProfile signs in with the configured account (always anew: give it a Scraper without a
// cookie jar), reads the first list pages and a few detail pages with the profile, and reports
// per field what matched, storing nothing. A field that matches nothing is in the report, not
// an error; errors are failures to sign in or to reach the list (*FailureError, like Scrape's).
// It blocks until done; the browser is cleaned up on every path.
func (s *Scraper) TestProfile(ctx context.Context, opts ProfileTestOptions) (ProfileReport, error) {
	if opts.Pages <= 0 {
		opts.Pages = 1
	}
	if opts.Details < 0 {
		opts.Details = 0
	} else if opts.Details == 0 {
		opts.Details = 3
	}
	r := &run{s: s, ctx: ctx, log: s.log.With("test_profile", true), stageStart: time.Now()}
	defer r.close()
	rep := ProfileReport{Profile: s.prof.Name, ListURL: s.listURL}
	err := func() error {
		if s.cfg.Username == "" || s.cfg.Password == "" {
			return scheduler.Errorf(scheduler.ClassLoginFailed, "no portal username or password is set; enter them in the portal settings")
		}
		if err := r.launch(); err != nil {
			return err
		}
		defer r.watchDialogs()()
		if err := r.watchRequests(); err != nil {
			return err
		}
		if err := r.login(); err != nil {
			return err
		}
		return r.testProfile(&rep, opts)
	}()
	rep.Warnings = r.takeWarnings()
	if err != nil {
		fe := r.failure(err)
		r.close()
		return rep, fe
	}
	return rep, nil
}

// testProfile reads the list and detail pages for TestProfile.
func (r *run) testProfile(rep *ProfileReport, opts ProfileTestOptions) error {
	limit := r.s.prof.Timeouts.Page.Duration
	if !r.takeAtList() {
		if err := r.navigate(r.ctx, r.page, r.s.listURL, limit, "loading the work-order list"); err != nil {
			return err
		}
	}
	spec := r.listSpec()
	list := make([]FieldReport, len(r.s.listFields))
	for i, f := range r.s.listFields {
		list[i] = FieldReport{Name: f.name, Where: "list", Selector: f.Selector, Optional: f.Optional}
	}
	var orders []scheduler.Order
	var shot []byte
	for page := 1; page <= opts.Pages; page++ {
		op := "first"
		if page > 1 {
			op = "more"
		}
		w, err := r.listWait(spec, op, page, nil)
		if err == errLoginShown {
			return scheduler.Errorf(scheduler.ClassLoginFailed, "the work-order list asked to sign in again right after signing in")
		}
		if err != nil {
			return err
		}
		rep.Pages = page
		if w.State == "empty" {
			rep.Empty = page == 1
			break
		}
		for ri, raw := range w.Rows {
			if w.Appended && ri < rep.Rows {
				continue // rows a "Load more" left on the page were read before
			}
			rep.Rows++
			var o scheduler.Order
			var detailURL string
			for fi, f := range r.s.listFields {
				var rv json.RawMessage
				if fi < len(raw) {
					rv = raw[fi]
				}
				r.tally(&list[fi], &f, rv, w.URL, &o, &detailURL, fmt.Sprintf("page %d row %d", page, ri+1))
			}
			if o.PortalID == "" {
				o.PortalID = o.Number
			}
			if r.s.prof.Detail.URLField == "detail_url" {
				r.detailMu.Lock()
				if r.detailURLs == nil {
					r.detailURLs = map[string]string{}
				}
				r.detailURLs[o.PortalID] = detailURL
				r.detailMu.Unlock()
			}
			orders = append(orders, o)
		}
		if page == 1 && opts.Screenshot {
			shot = r.outlined(list)
		}
		if !w.Next || page == opts.Pages {
			break
		}
		a, err := r.listAct(spec, "next", "", fmt.Sprintf("going to page %d of the list", page+1))
		if err != nil || !a.Found {
			break
		}
	}
	rep.Screenshot = shot
	rep.Fields = list
	if len(r.s.detailFields) == 0 || len(orders) == 0 {
		return nil
	}
	return r.testDetails(rep, orders[:min(len(orders), opts.Details)])
}

// tally applies one raw value to o and counts it in fr.
func (r *run) tally(fr *FieldReport, f *fieldSpec, raw json.RawMessage, pageURL string, o *scheduler.Order, detailURL *string, where string) {
	fr.Of++
	present := !noneMatched([]json.RawMessage{raw})
	before := len(o.Custom)
	why := r.s.applyField(o, f, raw, pageURL, detailURL)
	switch {
	case why != "":
		if len(fr.Problems) < 5 {
			fr.Problems = append(fr.Problems, where+": "+why)
		}
	case !present:
		if len(fr.Problems) < 5 {
			fr.Problems = append(fr.Problems, where+": matched nothing")
		}
	default:
		fr.Matched++
		if len(fr.Samples) < 3 {
			v := sampleValue(*o, f, before, *detailURL)
			if v != "" {
				fr.Samples = append(fr.Samples, v)
			}
		}
	}
}

// sampleValue is the value field f gave o, as text.
func sampleValue(o scheduler.Order, f *fieldSpec, customBefore int, detailURL string) string {
	var v string
	switch {
	case f.custom && len(o.Custom) > customBefore:
		v = o.Custom[len(o.Custom)-1].Value
	case f.name == "items":
		v = strings.Join(o.Items, "; ")
	case f.name == "detail_url":
		v = detailURL
	case f.name == "visit_date" && !o.VisitAt.IsZero():
		v = o.VisitDate + " (" + o.VisitAt.Format(time.RFC3339) + ")"
	default:
		v = builtinValue(o, f.name)
	}
	v = strings.ReplaceAll(v, "\n", " ⏎ ")
	if len(v) > 80 {
		v = v[:77] + "…"
	}
	return v
}

// testDetails reads the detail pages of orders and counts each detail field.
func (r *run) testDetails(rep *ProfileReport, orders []scheduler.Order) error {
	fields := make([]FieldReport, len(r.s.detailFields))
	for i, f := range r.s.detailFields {
		fields[i] = FieldReport{Name: f.name, Where: "detail", Selector: f.Selector, Optional: f.Optional}
	}
	limit := r.s.prof.Timeouts.Detail.Duration
	ctx, cancel := r.step(r.ctx, limit+5*time.Second)
	defer cancel()
	page, err := r.browser.Context(ctx).Page(proto.TargetCreateTarget{})
	if err != nil {
		return r.rodErr(ctx, err, "opening a tab for detail pages", limit)
	}
	page = page.Context(r.ctx)
	spec := r.detailSpec()
	for _, o := range orders {
		u := r.detailURL(o)
		if u == "" {
			for i := range fields {
				fields[i].Of++
				fields[i].Problems = append(fields[i].Problems, fmt.Sprintf("order %s: no detail page link (list.fields.%s)", o.Number, r.s.prof.Detail.URLField))
			}
			continue
		}
		var values []json.RawMessage
		var pageURL string
		if r.s.prof.Detail.Mode == "fetch" {
			var res []fetchResult
			jsFields := make([]any, len(r.s.detailFields))
			for i, f := range r.s.detailFields {
				jsFields[i] = f.jsSpec()
			}
			fctx, fcancel := r.step(r.ctx, limit)
			err := evalJSON(fctx, r.page, false, &res, jsFetchDetails,
				map[string]any{"login": r.s.prof.Login.Form, "error": r.s.prof.Detail.Error, "fields": jsFields, "concurrency": 1}, []string{u})
			fcancel()
			if err != nil || len(res) != 1 {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the detail page of %s could not be fetched: %v", o.Number, err))
				continue
			}
			if res[0].Status >= 400 || res[0].Error != "" || res[0].Login {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the detail page of %s answered HTTP %d %s", o.Number, res[0].Status, res[0].Error))
				continue
			}
			values, pageURL = res[0].Values, res[0].URL
			if res[0].Scripts > 0 && noneMatched(values) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf(
					"no detail field matched in the HTML of %s; if the page is drawn by JavaScript, set detail.mode = \"navigate\"", u))
			}
		} else {
			if err := r.navigate(r.ctx, page, u, limit, "loading a detail page"); err != nil {
				return err
			}
			w, err := r.wait(r.ctx, page, spec, limit, "loading a detail page")
			if err != nil {
				return err
			}
			if w.State != "ready" || len(w.Rows) != 1 {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the detail page of %s (%s) did not show the detail fields (%s)", o.Number, w.URL, w.State))
				for i := range fields {
					fields[i].Of++
				}
				continue
			}
			values, pageURL = w.Rows[0], w.URL
		}
		rep.Details++
		var ignored string
		for i, f := range r.s.detailFields {
			var rv json.RawMessage
			if i < len(values) {
				rv = values[i]
			}
			r.tally(&fields[i], &f, rv, pageURL, &o, &ignored, "order "+o.Number)
		}
	}
	rep.Fields = append(rep.Fields, fields...)
	return nil
}

// outlined outlines the rows and the fields of the list page and returns its screenshot; rows
// with a required field that matched nothing are red. nil when it cannot be taken.
func (r *run) outlined(list []FieldReport) []byte {
	type fieldSel struct {
		Sel      string `json:"sel"`
		Optional bool   `json:"optional"`
	}
	sels := make([]fieldSel, 0, len(r.s.listFields))
	for _, f := range r.s.listFields {
		sels = append(sels, fieldSel{Sel: f.Selector, Optional: f.Optional})
	}
	ctx, cancel := r.step(r.ctx, 10*time.Second)
	defer cancel()
	err := evalJSON(ctx, r.page, false, nil, `function (rowSel, fields) {
  const rows = document.querySelectorAll(rowSel);
  rows.forEach((row) => {
    let bad = false;
    for (const f of fields) {
      const e = f.sel ? row.querySelector(f.sel) : row;
      if (e) { if (e !== row) e.style.outline = "2px solid #2a2"; } else if (!f.optional) bad = true;
    }
    row.style.outline = bad ? "3px solid #d22" : "2px solid #22d";
    row.style.outlineOffset = "-2px";
  });
  return "null";
}`, r.s.prof.List.Row, sels)
	if err != nil {
		r.log.Warn("cannot outline the list", "err", err)
		return nil
	}
	sctx, scancel := r.step(r.ctx, 15*time.Second)
	defer scancel()
	png, err := r.page.Context(sctx).Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		r.log.Warn("cannot take the screenshot", "err", err)
		return nil
	}
	return png
}
