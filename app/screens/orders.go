package screens

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/orderlist"
	"worktray/scheduler"
)

// OrdersSource is what the work orders window asks of the owner. Each call blocks until the
// owner answered.
type OrdersSource interface {
	// Orders returns the stored work orders, the removed ones too when includeRemoved is set.
	Orders(ctx context.Context, includeRemoved bool) ([]scheduler.Order, error)
	// OrderHistory returns an order's change history, oldest first.
	OrderHistory(ctx context.Context, portalID string) ([]scheduler.OrderChange, error)
	// MarkSeen clears the new and changed marks of the orders with these portal ids.
	MarkSeen(ctx context.Context, portalIDs ...string) error
	// MarkAllSeen clears every order's new and changed mark.
	MarkAllSeen(ctx context.Context) error
}

// The filters of the work orders table.
const (
	FilterAll     = "All orders"
	FilterUnseen  = "New and changed"
	FilterNew     = "New"
	FilterChanged = "Changed"
)

// Orders is the work orders window's content: a table with search, a new/changed filter, sorting
// by any column (visit soonest first by default), marks that stay until the order is seen,
// removed orders hidden unless asked for, CSV export, and each order's detail view (double-click
// or Enter).
type Orders struct {
	src  OrdersSource
	opts Options
	// SaveCSV asks where to save, hands the writer to write, and then calls done with the path
	// written (or the error; "" and nil when the user canceled). While it is nil, Export CSV…
	// does nothing. The ui process sets it to a file dialog.
	SaveCSV func(suggested string, write func(io.Writer) error, done func(path string, err error))
	// ShowDetail shows an order's detail view (the ui process opens a window with it); nil
	// leaves it to the caller of Detail.
	ShowDetail func(title string, d *OrderDetail)
	// OpenURL opens a web address with the desktop's handler (map, portal page).
	OpenURL func(u string) error

	all      []scheduler.Order // every loaded order, removed ones included
	byID     map[string]int    // portal id → index in all
	cols     []orderColumn
	shown    []int
	sortCol  int
	sortDesc bool

	search  *widget.Entry
	filter  *widget.Select
	removed *widget.Check
	count   *widget.Label
	table   *orderTable
	note    *widget.Label
	message *widget.Label
	content fyne.CanvasObject
}

// orderColumn is a column of the orders table: its title, width limits and how to read its
// text and sort key from an order.
type orderColumn struct {
	column
	text func(o *scheduler.Order, loc *time.Location) string
	// key sorts the column when set (visit: by instant); else the text sorts.
	key func(o *scheduler.Order) string
}

func builtinOrderColumns() []orderColumn {
	return []orderColumn{
		{column{"", 70, 0}, func(o *scheduler.Order, _ *time.Location) string { return markText(o) }, func(o *scheduler.Order) string {
			return map[string]string{"● new": "0", "◆ changed": "1", "missing": "2", "": "3", "removed": "4"}[markText(o)]
		}},
		{column{"Number", 80, 0}, func(o *scheduler.Order, _ *time.Location) string { return o.Number }, nil},
		{column{"Visit", 90, 0}, visitText, visitKey},
		{column{"Customer", 90, 190}, func(o *scheduler.Order, _ *time.Location) string { return o.Customer }, nil},
		{column{"Store", 50, 0}, func(o *scheduler.Order, _ *time.Location) string { return o.StoreNumber }, nil},
		{column{"Site", 90, 180}, func(o *scheduler.Order, _ *time.Location) string { return o.SiteName }, nil},
		{column{"Address", 150, 300}, func(o *scheduler.Order, _ *time.Location) string { return o.Address.String() }, nil},
		{column{"Service", 100, 240}, func(o *scheduler.Order, _ *time.Location) string {
			return strings.TrimSpace(o.ServiceCode + " " + o.ServiceName)
		}, nil},
		{column{"Items", 80, 260}, func(o *scheduler.Order, _ *time.Location) string { return strings.Join(o.Items, ", ") }, nil},
	}
}

// orderColumnVisit is the index of the visit column, the default sort.
const orderColumnVisit = 2

// markText is an order's mark as the table shows it: orderlist.MarkText (the CLI's rule) with a
// sign before new and changed.
func markText(o *scheduler.Order) string {
	switch m := orderlist.MarkText(*o); m {
	case string(scheduler.MarkNew):
		return "● new"
	case string(scheduler.MarkChanged):
		return "◆ changed"
	default:
		return m
	}
}

// visitText is an order's visit: its date and, when the portal gives one, its time in loc.
func visitText(o *scheduler.Order, loc *time.Location) string {
	if !o.VisitAt.IsZero() {
		return o.VisitAt.In(loc).Format("2006-01-02 15:04")
	}
	return o.VisitDate
}

// visitKey sorts visits by their instant, orders without a visit last.
func visitKey(o *scheduler.Order) string {
	switch {
	case !o.VisitAt.IsZero():
		return o.VisitAt.UTC().Format(time.RFC3339)
	case o.VisitDate != "":
		return o.VisitDate
	}
	return "\uffff"
}

// NewOrders returns the work orders screen; call Load to fill it.
func NewOrders(src OrdersSource, opts Options) *Orders {
	o := &Orders{src: src, opts: opts.withDefaults(), sortCol: orderColumnVisit}
	o.cols = builtinOrderColumns()
	o.search = widget.NewEntry()
	o.search.SetPlaceHolder("Search number, customer, site, address, service…")
	o.search.OnChanged = func(string) { o.applyFilter() }
	o.filter = widget.NewSelect([]string{FilterAll, FilterUnseen, FilterNew, FilterChanged}, func(string) { o.applyFilter() })
	o.filter.SetSelected(FilterAll)
	o.removed = widget.NewCheck("Show removed", func(bool) { o.applyFilter() })
	o.count = widget.NewLabel("")
	export := widget.NewButton("Export CSV…", o.export)
	seen := widget.NewButton("Mark all seen", o.markAllSeen)
	o.table = newOrderTable(o)
	o.note = widget.NewLabel("")
	o.note.Wrapping = fyne.TextWrapWord
	o.note.Hide()
	o.message = errorLabel()
	refresh := widget.NewButton("Refresh", func() { o.Load() })
	top := container.NewVBox(
		container.NewBorder(nil, nil, o.filter, container.NewHBox(o.removed, seen, refresh, export), o.search),
		o.count,
		o.note,
		o.message,
	)
	o.content = container.NewBorder(top, nil, nil, nil, o.table)
	o.applyFilter() // the column titles at their widths before the orders arrive
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
	o.all = slices.Clone(orders)
	o.byID = make(map[string]int, len(o.all))
	for i := range o.all {
		o.byID[o.all[i].PortalID] = i
	}
	o.cols = append(builtinOrderColumns(), customColumns(o.all)...)
	o.sortCol = min(o.sortCol, len(o.cols)-1)
	o.applyFilter()
}

// customColumns returns a column per custom field of the orders, in the order they first
// appear.
func customColumns(orders []scheduler.Order) []orderColumn {
	var out []orderColumn
	seen := map[string]bool{}
	for i := range orders {
		for _, f := range orders[i].Custom {
			if seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			name := f.Name
			out = append(out, orderColumn{column: column{customLabel(f), 70, 240},
				text: func(o *scheduler.Order, loc *time.Location) string {
					for _, g := range o.Custom {
						if g.Name == name {
							return customValue(g, loc)
						}
					}
					return ""
				}})
		}
	}
	return out
}

// SetSearch types a search (tests).
func (o *Orders) SetSearch(q string) { o.search.SetText(q) }

// SetShowRemoved sets the removed filter (tests).
func (o *Orders) SetShowRemoved(on bool) { o.removed.SetChecked(on) }

// SetFilter chooses the marks filter: FilterAll, FilterUnseen, FilterNew or FilterChanged.
func (o *Orders) SetFilter(f string) { o.filter.SetSelected(f) }

// SortBy sorts the table by column col (0 the mark, 1 number, 2 visit, …), descending when desc.
func (o *Orders) SortBy(col int, desc bool) {
	o.sortCol, o.sortDesc = min(max(col, 0), len(o.cols)-1), desc
	o.applyFilter()
}

// Shown returns the orders the table shows, in order.
func (o *Orders) Shown() []scheduler.Order {
	out := make([]scheduler.Order, len(o.shown))
	for i, j := range o.shown {
		out[i] = o.all[j]
	}
	return out
}

func (o *Orders) applyFilter() {
	if o.table == nil {
		return // still being built
	}
	q := strings.Fields(strings.ToLower(o.search.Text))
	o.shown = o.shown[:0]
	for i := range o.all {
		ord := &o.all[i]
		removed := !ord.RemovedAt.IsZero()
		if removed && !o.removed.Checked {
			continue
		}
		switch o.filter.Selected {
		case FilterUnseen:
			if ord.Mark == scheduler.MarkNone || removed {
				continue
			}
		case FilterNew:
			if ord.Mark != scheduler.MarkNew || removed {
				continue
			}
		case FilterChanged:
			if ord.Mark != scheduler.MarkChanged || removed {
				continue
			}
		}
		if len(q) > 0 && !matches(ord, q, o.opts.Location) {
			continue
		}
		o.shown = append(o.shown, i)
	}
	o.sortShown()
	o.updateCount()
	o.fitColumns()
	o.table.UnselectAll()
	o.table.ScrollToTop()
	o.table.Refresh()
}

// updateCount says how many orders there are, how many are new or changed and not yet seen,
// and how many are shown.
func (o *Orders) updateCount() {
	var nNew, nChanged, nRemoved, active int
	for i := range o.all {
		switch ord := &o.all[i]; {
		case !ord.RemovedAt.IsZero():
			nRemoved++
			continue
		case ord.Mark == scheduler.MarkNew:
			nNew++
		case ord.Mark == scheduler.MarkChanged:
			nChanged++
		}
		active++
	}
	q := strings.TrimSpace(o.search.Text)
	text := fmt.Sprintf("%s · %d new · %d changed, not yet seen", view.Plural(active, "work order", "work orders"), nNew, nChanged)
	if nRemoved > 0 {
		text += fmt.Sprintf(" · %d removed", nRemoved)
		if !o.removed.Checked {
			text += " (hidden)"
		}
	}
	if q != "" || o.filter.Selected != FilterAll {
		text += fmt.Sprintf(" · %d shown", len(o.shown))
	}
	o.count.SetText(text)
}

// sortShown sorts the shown orders by the sort column; ties go by visit, then number.
func (o *Orders) sortShown() {
	col := o.cols[o.sortCol]
	key := func(ord *scheduler.Order) string {
		if col.key != nil {
			return col.key(ord)
		}
		return strings.ToLower(col.text(ord, o.opts.Location))
	}
	keys := make([]string, len(o.all))
	for _, i := range o.shown {
		keys[i] = key(&o.all[i])
	}
	slices.SortStableFunc(o.shown, func(a, b int) int {
		c := cmp.Compare(keys[a], keys[b])
		if keys[a] == "" || keys[b] == "" { // empty cells last, whichever the direction
			if keys[a] != keys[b] {
				return cmp.Compare(len(keys[b]), len(keys[a]))
			}
		} else if o.sortDesc {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c := cmp.Compare(visitKey(&o.all[a]), visitKey(&o.all[b])); c != 0 {
			return c
		}
		return cmp.Compare(o.all[a].Number, o.all[b].Number)
	})
}

func (o *Orders) fitColumns() {
	cols := make([]column, len(o.cols))
	for i, c := range o.cols {
		cols[i] = c.column
		cols[i].title = o.headerText(i)
	}
	fitColumns(&o.table.Table, cols, len(o.shown), func(row, col int) string {
		return o.cols[col].text(&o.all[o.shown[row]], o.opts.Location)
	})
}

// headerText is a column's title with the sort direction.
func (o *Orders) headerText(col int) string {
	t := o.cols[col].title
	if col == o.sortCol {
		if o.sortDesc {
			return t + " ▼"
		}
		return t + " ▲"
	}
	return t
}

func matches(o *scheduler.Order, words []string, loc *time.Location) bool {
	parts := []string{o.Number, o.Customer, o.StoreNumber, o.SiteName,
		o.Address.String(), o.ServiceCode, o.ServiceName, strings.Join(o.Items, " "), o.VisitDate}
	for _, f := range o.Custom {
		parts = append(parts, customValue(f, loc))
	}
	hay := strings.ToLower(strings.Join(parts, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// cell returns the text and importance of the cell at row and col of the shown orders.
func (o *Orders) cell(row, col int) (string, widget.Importance) {
	ord := &o.all[o.shown[row]]
	text := o.cols[col].text(ord, o.opts.Location)
	imp := widget.MediumImportance
	switch {
	case !ord.RemovedAt.IsZero():
		imp = widget.LowImportance
	case col == 0 && ord.Mark == scheduler.MarkNew:
		imp = widget.SuccessImportance
	case col == 0 && ord.Mark == scheduler.MarkChanged:
		imp = widget.WarningImportance
	case col == 0 && !ord.MissingSince.IsZero():
		imp = widget.LowImportance
	}
	return text, imp
}

// Select selects row i of the table (tests, keyboard).
func (o *Orders) Select(i int) { o.table.Select(widget.TableCellID{Row: i, Col: 1}) }

// OpenSelected opens the detail view of the selected row, as a double-click or Enter does.
func (o *Orders) OpenSelected() {
	if o.table.selected >= 0 && o.table.selected < len(o.shown) {
		o.Open(o.all[o.shown[o.table.selected]].PortalID)
	}
}

// Open opens the detail view of the order with this portal id and marks it seen. It must run
// on Fyne's goroutine; the change history and the mark go to the owner in the background.
func (o *Orders) Open(portalID string) *OrderDetail {
	i, ok := o.byID[portalID]
	if !ok {
		return nil
	}
	d := NewOrderDetail(o.all[i], o.opts, o.OpenURL)
	if o.ShowDetail != nil {
		o.ShowDetail(o.all[i].Number+" — "+o.all[i].SiteName, d)
	}
	d.LoadHistory(o.src)
	if o.all[i].Mark != scheduler.MarkNone {
		o.all[i].Mark, o.all[i].SeenAt = scheduler.MarkNone, o.opts.Now().UTC()
		o.refreshMark(i)
		o.opts.call(0, func(ctx context.Context) error { return o.src.MarkSeen(ctx, portalID) }, func(err error) {
			if err != nil {
				setMessage(o.message, "Could not mark "+o.all[i].Number+" seen: "+ErrorText(err))
			}
		})
	}
	return d
}

// refreshMark shows the changed mark of order i and the counts but keeps the rows as they are,
// so an order opened from the "New" filter does not vanish under the cursor. Only the order's
// mark cell is drawn again.
func (o *Orders) refreshMark(i int) {
	o.updateCount()
	if row := slices.Index(o.shown, i); row >= 0 {
		o.table.RefreshItem(widget.TableCellID{Row: row, Col: 0})
	}
}

func (o *Orders) markAllSeen() {
	o.opts.call(0, o.src.MarkAllSeen, func(err error) {
		if err != nil {
			setMessage(o.message, "Could not mark the orders seen: "+ErrorText(err))
			return
		}
		now := o.opts.Now().UTC()
		for i := range o.all {
			if o.all[i].Mark != scheduler.MarkNone {
				o.all[i].Mark, o.all[i].SeenAt = scheduler.MarkNone, now
			}
		}
		o.applyFilter()
	})
}

func (o *Orders) export() {
	if o.SaveCSV == nil {
		return
	}
	shown := o.Shown()
	var rows int
	// The same columns, in the same order, as `worktray orders --csv` (orderlist).
	write := func(w io.Writer) (err error) {
		rows, err = orderlist.WriteCSV(w, shown)
		return err
	}
	o.SaveCSV("work-orders.csv", write, func(path string, err error) {
		switch {
		case err != nil:
			setError(o.message, "Could not export the work orders: "+ErrorText(err))
		case path != "":
			setMessage(o.message, "")
			o.note.SetText(fmt.Sprintf("Exported %s to %s.", view.Plural(rows, "work order", "work orders"), path))
			o.note.Show()
		}
	})
}

// orderTable is the orders table: a double-click or Enter opens the order's detail view.
type orderTable struct {
	widget.Table
	o        *Orders
	selected int
}

func newOrderTable(o *Orders) *orderTable {
	t := &orderTable{o: o, selected: -1}
	t.Length = func() (int, int) { return len(o.shown), len(o.cols) }
	t.CreateCell = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	t.UpdateCell = func(id widget.TableCellID, c fyne.CanvasObject) {
		l := c.(*widget.Label)
		if id.Row < 0 || id.Row >= len(o.shown) || id.Col >= len(o.cols) {
			l.SetText("")
			return
		}
		text, imp := o.cell(id.Row, id.Col)
		if l.Text == text && l.Importance == imp {
			return // shaping text again is the table's main cost
		}
		l.Importance = imp
		l.SetText(text)
	}
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, c fyne.CanvasObject) {
		b := c.(*widget.Button)
		if id.Col < 0 || id.Col >= len(o.cols) {
			b.SetText("")
			b.OnTapped = nil
			return
		}
		col := id.Col
		b.SetText(o.headerText(col))
		b.OnTapped = func() { o.SortBy(col, col == o.sortCol && !o.sortDesc) }
	}
	t.OnSelected = func(id widget.TableCellID) { t.selected = id.Row }
	t.OnUnselected = func(widget.TableCellID) { t.selected = -1 }
	t.ExtendBaseWidget(t)
	return t
}

// DoubleTapped opens the detail view of the order under the pointer.
func (t *orderTable) DoubleTapped(e *fyne.PointEvent) {
	t.Table.Tapped(e) // selects the row under the pointer
	t.o.OpenSelected()
}

// TypedKey opens the selected order's detail view on Enter; other keys move and select as in
// any table.
func (t *orderTable) TypedKey(e *fyne.KeyEvent) {
	if e.Name == fyne.KeyReturn || e.Name == fyne.KeyEnter {
		t.o.OpenSelected()
		return
	}
	t.Table.TypedKey(e)
}
