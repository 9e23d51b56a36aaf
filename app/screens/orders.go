package screens

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// OrdersSource is what the work orders window asks of the owner.
type OrdersSource interface {
	// Orders returns the stored work orders, the removed ones too when includeRemoved is set.
	Orders(ctx context.Context, includeRemoved bool) ([]scheduler.Order, error)
}

// Mark says how an order changed in the latest scrape.
type Mark int

// The marks of an order.
const (
	MarkNone Mark = iota
	MarkNew
	MarkChanged
	MarkRemoved
)

func (m Mark) String() string {
	switch m {
	case MarkNew:
		return "new"
	case MarkChanged:
		return "changed"
	case MarkRemoved:
		return "removed"
	}
	return ""
}

// MarkOrders returns each order's mark. "The latest scrape" is the latest LastSeen of any order:
// a scrape stamps every order it lists with the same instant, so an order first seen then is new,
// one whose content changed then is changed, and one removed then or earlier is removed.
func MarkOrders(orders []scheduler.Order) []Mark {
	var latest time.Time
	for i := range orders {
		if orders[i].LastSeen.After(latest) {
			latest = orders[i].LastSeen
		}
	}
	marks := make([]Mark, len(orders))
	for i := range orders {
		o := &orders[i]
		switch {
		case !o.RemovedAt.IsZero():
			marks[i] = MarkRemoved
		case latest.IsZero():
		case !o.FirstSeen.Before(latest):
			marks[i] = MarkNew
		case !o.ChangedAt.IsZero() && !o.ChangedAt.Before(latest):
			marks[i] = MarkChanged
		}
	}
	return marks
}

// Orders is the work orders window's content: a searchable table with new and changed marks,
// removed orders hidden unless asked for, and CSV export.
type Orders struct {
	src  OrdersSource
	opts Options
	// SaveCSV asks where to save and hands the writer to write; nil hides the button. The ui
	// process sets it to a file dialog.
	SaveCSV func(suggested string, write func(io.Writer) error)

	all     []scheduler.Order // every loaded order, removed ones included
	marks   []Mark
	shown   []int
	search  *widget.Entry
	removed *widget.Check
	count   *widget.Label
	table   *widget.Table
	message *widget.Label
	content fyne.CanvasObject
}

var orderColumns = []column{
	{"", 100, 0}, {"Number", 95, 0}, {"Visit", 95, 0}, {"Customer", 140, 0}, {"Store", 60, 0}, {"Site", 150, 0},
	{"Address", 260, 0}, {"Service", 170, 0}, {"Items", 200, 0},
}

// NewOrders returns the work orders screen; call Load to fill it.
func NewOrders(src OrdersSource, opts Options) *Orders {
	o := &Orders{src: src, opts: opts.withDefaults()}
	o.search = widget.NewEntry()
	o.search.SetPlaceHolder("Search number, customer, site, address, service…")
	o.search.OnChanged = func(string) { o.applyFilter() }
	o.removed = widget.NewCheck("Show removed", func(bool) { o.applyFilter() })
	o.count = widget.NewLabel("")
	export := widget.NewButton("Export CSV…", o.export)
	o.table = newTable(orderColumns, func() int { return len(o.shown) }, o.updateCell)
	o.message = errorLabel()
	refresh := widget.NewButton("Refresh", func() { o.Load() })
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(o.removed, refresh, export), o.search),
		o.count,
		o.message,
	)
	o.content = container.NewBorder(top, nil, nil, nil, o.table)
	return o
}

// Content returns the screen's root object.
func (o *Orders) Content() fyne.CanvasObject { return o.content }

// Load fetches the orders (removed ones too, hidden by the filter) in the background.
func (o *Orders) Load() {
	var orders []scheduler.Order
	o.opts.call(0, func(ctx context.Context) (err error) {
		orders, err = o.src.Orders(ctx, true)
		return err
	}, func(err error) {
		if err != nil {
			setMessage(o.message, "Could not load the work orders: "+ErrorText(err))
			return
		}
		setMessage(o.message, "")
		o.SetOrders(orders)
	})
}

// SetOrders shows orders. It must run on Fyne's goroutine.
func (o *Orders) SetOrders(orders []scheduler.Order) {
	orders = slices.Clone(orders)
	// Soonest visit first, then by number; removed ones last.
	slices.SortStableFunc(orders, func(a, b scheduler.Order) int {
		if ra, rb := !a.RemovedAt.IsZero(), !b.RemovedAt.IsZero(); ra != rb {
			if ra {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.VisitDate, b.VisitDate); c != 0 {
			return c
		}
		return strings.Compare(a.Number, b.Number)
	})
	o.all = orders
	o.marks = MarkOrders(orders)
	o.applyFilter()
}

// SetSearch types a search (tests).
func (o *Orders) SetSearch(q string) { o.search.SetText(q) }

// SetShowRemoved sets the removed filter (tests).
func (o *Orders) SetShowRemoved(on bool) { o.removed.SetChecked(on) }

// Shown returns the orders the table shows, in order.
func (o *Orders) Shown() []scheduler.Order {
	out := make([]scheduler.Order, len(o.shown))
	for i, j := range o.shown {
		out[i] = o.all[j]
	}
	return out
}

func (o *Orders) applyFilter() {
	q := strings.Fields(strings.ToLower(o.search.Text))
	o.shown = o.shown[:0]
	var nNew, nChanged, nRemoved, active int
	for i := range o.all {
		m := o.marks[i]
		switch m {
		case MarkNew:
			nNew++
		case MarkChanged:
			nChanged++
		case MarkRemoved:
			nRemoved++
		}
		if m != MarkRemoved {
			active++
		}
		if m == MarkRemoved && !o.removed.Checked {
			continue
		}
		if len(q) > 0 && !matches(&o.all[i], q) {
			continue
		}
		o.shown = append(o.shown, i)
	}
	text := fmt.Sprintf("%s · %d new · %d changed since the last scrape", view.Plural(active, "work order", "work orders"), nNew, nChanged)
	if nRemoved > 0 {
		text += fmt.Sprintf(" · %d removed", nRemoved)
		if !o.removed.Checked {
			text += " (hidden)"
		}
	}
	if len(q) > 0 {
		text += fmt.Sprintf(" · %d match", len(o.shown))
	}
	o.count.SetText(text)
	o.table.ScrollToTop()
	o.table.Refresh()
}

func matches(o *scheduler.Order, words []string) bool {
	hay := strings.ToLower(strings.Join([]string{o.Number, o.Customer, o.StoreNumber, o.SiteName,
		o.Address.String(), o.ServiceCode, o.ServiceName, strings.Join(o.Items, " "), o.VisitDate}, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (o *Orders) updateCell(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	if id.Row < 0 || id.Row >= len(o.shown) {
		l.SetText("")
		return
	}
	i := o.shown[id.Row]
	ord := &o.all[i]
	imp := widget.MediumImportance
	var text string
	switch id.Col {
	case 0:
		switch o.marks[i] {
		case MarkNew:
			text, imp = "● new", widget.SuccessImportance
		case MarkChanged:
			text, imp = "◆ changed", widget.WarningImportance
		case MarkRemoved:
			text, imp = "removed", widget.LowImportance
		}
	case 1:
		text = ord.Number
	case 2:
		text = ord.VisitDate
	case 3:
		text = ord.Customer
	case 4:
		text = ord.StoreNumber
	case 5:
		text = ord.SiteName
	case 6:
		text = ord.Address.String()
	case 7:
		text = strings.TrimSpace(ord.ServiceCode + " " + ord.ServiceName)
	case 8:
		text = strings.Join(ord.Items, ", ")
	}
	if o.marks[i] == MarkRemoved && id.Col > 0 {
		imp = widget.LowImportance
	}
	if l.Importance != imp {
		l.Importance = imp
	}
	l.SetText(text)
}

func (o *Orders) export() {
	if o.SaveCSV == nil {
		return
	}
	shown := o.Shown()
	o.SaveCSV("work-orders.csv", func(w io.Writer) error { return WriteCSV(w, shown) })
}

// CSVHeader is the header row of an exported CSV file.
var CSVHeader = []string{"number", "portal_id", "visit_date", "customer", "store_number", "site_name",
	"street", "city", "state", "zip", "service_code", "service_name", "items", "visit_url",
	"instructions", "first_seen", "last_seen", "changed_at", "removed_at"}

// WriteCSV writes orders as CSV with a header row; instants are RFC 3339 UTC.
func WriteCSV(w io.Writer, orders []scheduler.Order) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, o := range orders {
		if err := cw.Write([]string{o.Number, o.PortalID, o.VisitDate, o.Customer, o.StoreNumber, o.SiteName,
			o.Address.Street, o.Address.City, o.Address.State, o.Address.Zip, o.ServiceCode, o.ServiceName,
			strings.Join(o.Items, "; "), o.VisitURL, o.Instructions,
			ts(o.FirstSeen), ts(o.LastSeen), ts(o.ChangedAt), ts(o.RemovedAt)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
