package demoportal

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ListShape is how the list page shows more orders than fit on one page.
type ListShape string

// The list shapes of real portals.
const (
	// ShapePages: a "Next" button shows the next page in place of the rows; it is disabled on
	// the last page. The default.
	ShapePages ListShape = ""
	// ShapeNumbered: a numbered pager (links 1, 2, 3 … and "›") whose "›" never becomes
	// disabled; on the last page it draws the same page again.
	ShapeNumbered ListShape = "numbered"
	// ShapeLoadMore: a "Load more" button adds ListModes.Step rows below those shown; it is
	// hidden once every order is shown.
	ShapeLoadMore ListShape = "load-more"
	// ShapeScroll: infinite scroll; scrolling to the end of the list adds ListModes.Step rows.
	ShapeScroll ListShape = "scroll"
)

// PageSizeControl is how the list page lets a person choose its page size (shape pages and
// numbered).
type PageSizeControl string

// The page-size controls of real portals.
const (
	// SizeSelect: a plain <select id="page-size"> that applies on change. The default.
	SizeSelect PageSizeControl = ""
	// SizeLinks: a drop-down: the button "button.size-toggle" opens, after a short animation,
	// the menu "ul.size-menu" of links "a[data-size='25|50|100']".
	SizeLinks PageSizeControl = "links"
	// SizeForm: a <select name="size"> in "form.size-form" that applies only when the form is
	// sent with its "Apply" button (a new page load, /orders?size=N).
	SizeForm PageSizeControl = "form"
)

// ListModes switch the work-order list page between the shapes and habits of real portals, one
// switch per behaviour. The zero value is the portal's usual list. They can be changed while the
// portal runs (SetListModes); a list page takes them when it loads.
type ListModes struct {
	Shape ListShape
	// Step is how many rows a "Load more" click or a scroll adds; default 20, at most 100.
	Step int
	// PageSize is the page-size control of the shapes pages and numbered.
	PageSize PageSizeControl
	// HiddenEmpty puts a hidden "no work orders" marker (.empty-state with the hidden
	// attribute) in the list page from the start, beside the visible loading marker; it is
	// shown only when the list really is empty.
	HiddenEmpty bool
	// RowsDelay makes the page wait that long before it asks for its rows (the loading marker
	// shows meanwhile and no request is in flight).
	RowsDelay time.Duration
	// Bursts makes the rows of each page arrive in that many requests, one after the other,
	// each drawn as it arrives; BurstDelay delays the answer to each of them.
	Bursts     int
	BurstDelay time.Duration
	// CloseOnPage closes (removes) the first order of page 1 when page CloseOnPage (2 or more)
	// is first asked for, as an order closed at the office while a list is read. Once.
	CloseOnPage int
	// RichText draws the customer as two blocks (<div>s), the site name with a <br> between
	// its words, and the detail page's instructions as paragraphs (<p>) and lines (<br>).
	RichText bool
}

// clientModes is what the list page's script gets.
type clientModes struct {
	Shape       string `json:"shape"`
	Step        int    `json:"step"`
	PageSize    string `json:"pageSize"`
	HiddenEmpty bool   `json:"hiddenEmpty"`
	RowsDelay   int64  `json:"rowsDelay"`
	Bursts      int    `json:"bursts"`
	RichText    bool   `json:"richText"`
}

func (m ListModes) client() clientModes {
	step := m.Step
	if step <= 0 {
		step = 20
	}
	return clientModes{
		Shape: string(m.Shape), Step: min(step, 100), PageSize: string(m.PageSize), HiddenEmpty: m.HiddenEmpty,
		RowsDelay: m.RowsDelay.Milliseconds(), Bursts: max(m.Bursts, 1), RichText: m.RichText,
	}
}

// SetListModes replaces the list modes and re-arms CloseOnPage.
func (p *Portal) SetListModes(m ListModes) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = m
	p.closedOnPage = false
}

// ListModes returns the current list modes.
func (p *Portal) ListModes() ListModes {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.list
}

// Closed returns the portal ids of the orders CloseOnPage closed, oldest first.
func (p *Portal) Closed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.closedIDs...)
}

// listWindow reads the rows a request of /api/orders asks for: page and size (25, 50 or 100),
// or offset and limit (1 to 100). page is the 1-based page the first row is on.
func listWindow(q url.Values) (offset, limit, page int, ok bool) {
	if q.Has("offset") {
		o, err1 := strconv.Atoi(q.Get("offset"))
		l, err2 := strconv.Atoi(q.Get("limit"))
		if err1 != nil || err2 != nil || o < 0 || l < 1 || l > 100 {
			return 0, 0, 0, false
		}
		return o, l, o/l + 1, true
	}
	pg, err1 := strconv.Atoi(q.Get("page"))
	size, err2 := strconv.Atoi(q.Get("size"))
	if err1 != nil || err2 != nil || pg < 1 || (size != 25 && size != 50 && size != 100) {
		return 0, 0, 0, false
	}
	return (pg - 1) * size, size, pg, true
}

// listAnswerLocked applies the list modes to a request of the rows at offset on page: it
// closes an order for CloseOnPage and says how long to hold the answer. p.mu must be held.
func (p *Portal) listAnswerLocked(page int, burst bool) (delay time.Duration) {
	m := p.list
	if m.CloseOnPage >= 2 && page >= m.CloseOnPage && !p.closedOnPage && len(p.orders) > 0 {
		p.closedOnPage = true
		p.closedIDs = append(p.closedIDs, p.orders[0].ID)
		p.orders = p.orders[1:]
	}
	if burst {
		return m.BurstDelay
	}
	return 0
}

// instructionsHTML is an order's instructions as its detail page shows them: text with its line
// breaks kept by the page's style, or, with RichText, paragraphs (split at blank lines) whose
// lines are separated by <br>.
func instructionsHTML(s string, rich bool) template.HTML {
	if !rich {
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(template.HTMLEscapeString(line))
		}
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}
