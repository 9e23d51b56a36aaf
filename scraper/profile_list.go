package scraper

import (
	"strings"
	"time"
)

// The list part of the profile language beyond rows and fields: how more orders are shown
// (list.next), how a page size is chosen (list.page_size) and when a list page counts as
// loaded (list.settle). docs/profiles.md ("List shapes") explains them for users.

// defaultSettle is list.settle when the profile leaves it out.
const defaultSettle = 50 * time.Millisecond

// PageSize chooses how many rows a list page shows, before the list is read. Leave it out to
// read the pages as they come.
//
// A plain <select> is given by Selector and Value. Clicks are CSS selectors clicked one after
// the other (each waited for until it is visible, bounded by timeouts.page), after Value is
// chosen when Selector is set: a drop-down of links or list items is Clicks alone (the button
// that opens it, then the item "100"); a select whose form must be sent is Selector, Value and
// Clicks with the form's submit button.
type PageSize struct {
	Selector string   `toml:"selector" json:"selector"`
	Value    string   `toml:"value" json:"value"` // the option value to choose, e.g. "100"
	Clicks   []string `toml:"clicks" json:"clicks"`
}

// NextPage says how the list shows more orders once the rows on screen are read.
//
// Selector is the control to click: a "Next" button or link (it shows the next page in place of
// the rows), a "Load more" button (it adds rows below those shown), or a numbered pager's "›".
// The list ends when the control is gone, disabled (write :not([disabled]) or the like into the
// selector) or hidden; when a click brings no new rows; or when the portal's count (list.total)
// of orders has been read. Scroll, instead of a control, scrolls to the end of the list until
// no new rows come (infinite scroll). Neither: the list is one page.
type NextPage struct {
	Selector string `toml:"selector" json:"selector"`
	Scroll   bool   `toml:"scroll" json:"scroll"`
}

// validateList checks the list keys of this file and fills in their defaults.
func (p *Profile) validateList(bad func(field, format string, args ...any)) {
	ps := &p.List.PageSize
	if ps.Selector != "" && ps.Value == "" {
		bad("list.page_size.value", "is required when list.page_size.selector is set")
	}
	if ps.Selector == "" && ps.Value != "" {
		bad("list.page_size.selector", "is required when list.page_size.value is set (the <select> to choose it in; for a drop-down of links use list.page_size.clicks)")
	}
	for i, c := range ps.Clicks {
		if strings.TrimSpace(c) == "" {
			bad("list.page_size.clicks", "entry %d is empty; each entry is the CSS selector of a control to click", i+1)
		}
	}
	if p.List.Next.Scroll && p.List.Next.Selector != "" {
		bad("list.next", "set either selector (a control to click) or scroll = true (infinite scroll), not both")
	}
	if p.List.MaxPages < 0 {
		bad("list.max_pages", "must not be negative")
	} else if p.List.MaxPages == 0 {
		p.List.MaxPages = 1000
	}
	switch d := p.List.Settle.Duration; {
	case d == 0:
		p.List.Settle.Duration = defaultSettle
	case d < 20*time.Millisecond || d > 10*time.Second:
		bad("list.settle", "must be between 20ms and 10s, not %s", d)
	}
}

// clickGrace is how long a list must stay as it was after list.next was clicked (or the list
// scrolled, or the page size chosen), with no request of the page in flight, before the click
// counts as having changed nothing.
func (p *Profile) clickGrace() time.Duration {
	return max(time.Second, 5*p.List.Settle.Duration)
}
