package screens

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"worktray/scheduler"
)

func sampleOrders() []scheduler.Order {
	last, before := at(9, 30), at(8, 30)
	cities := []string{"Springfield", "Shelbyville", "Capital City", "Ogdenville"}
	var out []scheduler.Order
	for i := range 14 {
		o := scheduler.Order{PortalID: fmt.Sprint(1000 + i), Number: fmt.Sprintf("W-%06d", 123400+i),
			Customer: []string{"Kwik-E-Mart", "Lard Lad", "Krusty Burger"}[i%3], StoreNumber: fmt.Sprint(100 + i),
			SiteName:    fmt.Sprintf("Store %d", 100+i),
			Address:     scheduler.Address{Street: fmt.Sprintf("%d Main St", 10+i), City: cities[i%4], State: "OR", Zip: "97401"},
			ServiceCode: "HV-2", ServiceName: "HVAC maintenance", Items: []string{"filter", "belt"},
			VisitDate: fmt.Sprintf("2026-03-%02d", 11+(i*3)%5), FirstSeen: before, LastSeen: last,
			VisitURL: fmt.Sprintf("https://portal.example.com/orders/%d", 1000+i)}
		switch i {
		case 1, 5:
			o.FirstSeen, o.Mark = last, scheduler.MarkNew
		case 2:
			o.ChangedAt, o.Mark = last, scheduler.MarkChanged
		case 3:
			o.RemovedAt, o.LastSeen = last, before
		}
		out = append(out, o)
	}
	return out
}

// detailOrder is an order with everything a detail view shows: custom fields of every type,
// instructions over several lines, a visit time, a change.
func detailOrder() scheduler.Order {
	o := sampleOrders()[2]
	o.VisitAt = time.Date(2026, 3, 12, 14, 30, 0, 0, time.UTC)
	o.VisitDate = "2026-03-12"
	o.Instructions = "Call the store manager 30 min before arrival.\nKey is at the front desk.\n\nBring a 20x25x1 filter."
	o.Custom = []scheduler.CustomField{
		{Name: "dispenser_count", Label: "Dispensers", Type: scheduler.FieldInteger, Value: "6"},
		{Name: "priority", Type: scheduler.FieldText, Value: "P2 — next business day"},
		{Name: "due", Label: "Due by", Type: scheduler.FieldDateTime, Value: "2026-03-13T17:00:00Z"},
		{Name: "parts", Label: "Parts", Type: scheduler.FieldList, Value: "belt, filter", Items: []string{"belt", "filter"}},
	}
	return o
}

func detailChanges() []scheduler.OrderChange {
	return []scheduler.OrderChange{
		{PortalID: "1002", At: at(8, 30), Field: "instructions", Old: "", New: "Call the store manager"},
		{PortalID: "1002", At: at(9, 30), Field: "visit_date", Old: "2026-03-11", New: "2026-03-12"},
		{PortalID: "1002", At: at(9, 30), Field: "dispenser_count", Old: "4", New: "6"},
	}
}

func TestOrdersStates(t *testing.T) {
	test.NewTempApp(t)
	for _, tt := range []struct {
		name    string
		orders  []scheduler.Order
		search  string
		filter  string
		removed bool
		shown   int
	}{
		{"empty", nil, "", FilterAll, false, 0},
		{"orders", sampleOrders(), "", FilterAll, false, 13},
		{"search", sampleOrders(), "lard springfield", FilterAll, false, 1},
		{"removed_shown", sampleOrders(), "", FilterAll, true, 14},
		{"new_and_changed", sampleOrders(), "", FilterUnseen, false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.orders = tt.orders
			o := NewOrders(f, testOptions())
			w := test.NewWindow(o.Content())
			defer w.Close()
			w.Resize(fyne.NewSize(1240, 560))
			o.Load()
			o.SetSearch(tt.search)
			o.SetFilter(tt.filter)
			o.SetShowRemoved(tt.removed)
			if got := len(o.Shown()); got != tt.shown {
				t.Errorf("shown %d orders, want %d", got, tt.shown)
			}
			test.AssertImageMatches(t, "orders_"+tt.name+".png", w.Canvas().Capture())
		})
	}
}

// TestOrdersSortAndFilter checks the order of rows after every step of a random sequence of
// sorts, filters and searches: each row passes the filter, every order that passes is shown,
// and the rows are sorted by the sort column.
func TestOrdersSortAndFilter(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.orders = sampleOrders()
	o := NewOrders(f, testOptions())
	o.Load()
	// The default: soonest visit first.
	shown := o.Shown()
	for i := 1; i < len(shown); i++ {
		if shown[i-1].VisitDate > shown[i].VisitDate {
			t.Fatalf("default order not by visit: %s before %s", shown[i-1].VisitDate, shown[i].VisitDate)
		}
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := uint64(seed)
	next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
	filters := []string{FilterAll, FilterUnseen, FilterNew, FilterChanged}
	searches := []string{"", "krusty", "springfield", "w-1234", "nothing matches this"}
	for step := range 200 {
		switch next(4) {
		case 0:
			o.SortBy(next(len(o.cols)), next(2) == 0)
		case 1:
			o.SetFilter(filters[next(len(filters))])
		case 2:
			o.SetSearch(searches[next(len(searches))])
		case 3:
			o.SetShowRemoved(next(2) == 0)
		}
		want := 0
		for i := range o.all {
			if passes(o, &o.all[i]) {
				want++
			}
		}
		shown := o.Shown()
		if len(shown) != want {
			t.Fatalf("seed %d step %d: %d shown, %d pass the filter", seed, step, len(shown), want)
		}
		col := o.cols[o.sortCol]
		for i := range shown {
			if !passes(o, &shown[i]) {
				t.Fatalf("seed %d step %d: %s shown but does not pass the filter", seed, step, shown[i].Number)
			}
			if i == 0 {
				continue
			}
			a, b := sortKey(o, col, &shown[i-1]), sortKey(o, col, &shown[i])
			if a != "" && b != "" && ((!o.sortDesc && a > b) || (o.sortDesc && a < b)) {
				t.Fatalf("seed %d step %d: column %q desc=%v: %q before %q", seed, step, col.title, o.sortDesc, a, b)
			}
		}
	}
}

func passes(o *Orders, ord *scheduler.Order) bool {
	removed := !ord.RemovedAt.IsZero()
	if removed && !o.removed.Checked {
		return false
	}
	switch o.filter.Selected {
	case FilterUnseen:
		if removed || ord.Mark == scheduler.MarkNone {
			return false
		}
	case FilterNew:
		if removed || ord.Mark != scheduler.MarkNew {
			return false
		}
	case FilterChanged:
		if removed || ord.Mark != scheduler.MarkChanged {
			return false
		}
	}
	return matches(ord, strings.Fields(strings.ToLower(o.search.Text)), london)
}

func sortKey(o *Orders, col orderColumn, ord *scheduler.Order) string {
	if col.key != nil {
		return col.key(ord)
	}
	return strings.ToLower(col.text(ord, london))
}

// TestOrdersHeaderSorts: tapping a column's title sorts by it, tapping it again reverses.
func TestOrdersHeaderSorts(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.orders = sampleOrders()
	o := NewOrders(f, testOptions())
	w := test.NewWindow(o.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(1240, 560))
	o.Load()
	header := widget.NewButton("", nil)
	o.table.UpdateHeader(widget.TableCellID{Row: -1, Col: 3}, header) // Customer
	test.Tap(header)
	if o.sortCol != 3 || o.sortDesc || o.Shown()[0].Customer != "Krusty Burger" {
		t.Fatalf("after a tap on Customer: column %d desc %v, first %q", o.sortCol, o.sortDesc, o.Shown()[0].Customer)
	}
	o.table.UpdateHeader(widget.TableCellID{Row: -1, Col: 3}, header)
	if header.Text != "Customer ▲" {
		t.Errorf("header %q", header.Text)
	}
	test.Tap(header)
	if !o.sortDesc || o.Shown()[0].Customer != "Lard Lad" {
		t.Errorf("after a second tap: desc %v, first %q", o.sortDesc, o.Shown()[0].Customer)
	}
}

// TestOrderOpenMarksSeen: Enter and a double-click open the selected order's detail view, which
// marks it seen (in the owner and in the table at once); "Mark all seen" clears every mark.
func TestOrderOpenMarksSeen(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.orders = sampleOrders()
	f.changes = map[string][]scheduler.OrderChange{"1002": detailChanges()}
	o := NewOrders(f, testOptions())
	var opened []string
	var last *OrderDetail
	o.ShowDetail = func(title string, d *OrderDetail) { opened = append(opened, title); last = d }
	w := test.NewWindow(o.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(1240, 560))
	o.Load()
	o.SetFilter(FilterChanged)
	if len(o.Shown()) != 1 {
		t.Fatalf("changed filter shows %d", len(o.Shown()))
	}
	o.Select(0)
	o.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !slices.Equal(opened, []string{"W-123402 — Store 102"}) {
		t.Fatalf("opened %q", opened)
	}
	if !slices.Contains(f.Calls(), "seen [1002]") || !slices.Contains(f.Calls(), "history of 1002") {
		t.Errorf("calls %q, want the order marked seen and its history loaded", f.Calls())
	}
	if o.all[o.byID["1002"]].Mark != scheduler.MarkNone || len(o.Shown()) != 1 {
		t.Errorf("after opening: mark %q, %d rows (the row stays until the filter changes)", o.all[o.byID["1002"]].Mark, len(o.Shown()))
	}
	if !strings.Contains(o.count.Text, "0 changed") {
		t.Errorf("count %q", o.count.Text)
	}
	if h := last.HistoryText(); !strings.Contains(h, "Visit date: “2026-03-11” → “2026-03-12”") || !strings.Contains(h, "Dispenser count: “4” → “6”") {
		t.Errorf("history %q", h)
	}

	// A double-click on the second row of all orders opens that one.
	o.SetFilter(FilterAll)
	headerH := widget.NewButton("Number", nil).MinSize().Height
	cellH := widget.NewLabel("W").MinSize().Height
	o.table.DoubleTapped(&fyne.PointEvent{Position: fyne.NewPos(120, headerH+cellH+cellH/2+2)})
	if len(opened) != 2 || opened[1] != o.Shown()[1].Number+" — "+o.Shown()[1].SiteName {
		t.Errorf("double-click on row 2 opened %q, want %s", opened, o.Shown()[1].Number)
	}

	seenButton := findButton(t, o.Content(), "Mark all seen")
	test.Tap(seenButton)
	for _, ord := range o.all {
		if ord.Mark != scheduler.MarkNone {
			t.Errorf("%s still marked %q after Mark all seen", ord.Number, ord.Mark)
		}
	}
	if !slices.Contains(f.Calls(), "all seen") {
		t.Errorf("calls %q", f.Calls())
	}
}

func findButton(t *testing.T, root fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			if v.Text == label {
				found = v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(root)
	if found == nil {
		t.Fatalf("no button %q", label)
	}
	return found
}

func TestOrderDetailView(t *testing.T) {
	test.NewTempApp(t)
	var urls []string
	d := NewOrderDetail(detailOrder(), testOptions(), func(u string) error { urls = append(urls, u); return nil })
	d.SetHistory(detailChanges())
	w := test.NewWindow(d.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(720, 1000))
	test.AssertImageMatches(t, "order_detail.png", w.Canvas().Capture())
	test.Tap(findButton(t, d.content.(*container.Scroll).Content, "Open map"))
	test.Tap(findButton(t, d.content.(*container.Scroll).Content, "Open in portal"))
	if want := []string{MapURL(detailOrder().Address), "https://portal.example.com/orders/1002"}; !slices.Equal(urls, want) {
		t.Errorf("opened %q, want %q", urls, want)
	}
}

func TestOrdersCSVExport(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	orders := sampleOrders()
	orders[9] = detailOrder()
	orders[9].PortalID, orders[9].Number = "1009", "W-123409"
	f.orders = orders
	o := NewOrders(f, testOptions())
	var buf bytes.Buffer
	o.SaveCSV = func(name string, write func(io.Writer) error, done func(string, error)) {
		if name != "work-orders.csv" {
			t.Errorf("suggested name %q", name)
		}
		done("/home/tech/work-orders.csv", write(&buf))
	}
	o.Load()
	o.SetSearch("krusty")
	o.export()
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+5 { // header and the five Krusty Burger orders (none removed)
		t.Fatalf("%d rows:\n%s", len(rows), buf.String())
	}
	header := rows[0]
	if header[0] != "number" || !slices.Contains(header, "dispenser_count") || !slices.Contains(header, "parts") {
		t.Errorf("header %q", header)
	}
	if o.note.Hidden || o.note.Text != "Exported 5 work orders to /home/tech/work-orders.csv." {
		t.Errorf("note %q (hidden %v)", o.note.Text, o.note.Hidden)
	}
	var withCustom []string
	for _, r := range rows[1:] {
		if r[slices.Index(header, "parts")] != "" {
			withCustom = r
		}
	}
	if withCustom == nil || withCustom[slices.Index(header, "parts")] != "belt, filter" || withCustom[slices.Index(header, "dispenser_count")] != "6" {
		t.Errorf("custom values missing: %q", withCustom)
	}
}

// BenchmarkOrderDetailOpen: opening an order's detail view (double-click or Enter) with 5,000
// orders stored: building the view, loading its history and marking it seen (target ≤ 100 ms).
func BenchmarkOrderDetailOpen(b *testing.B) {
	test.NewTempApp(b)
	f := newFake()
	base := sampleOrders()
	for i := range 5000 {
		o := base[i%len(base)]
		o.PortalID, o.Number = fmt.Sprint(10000+i), fmt.Sprintf("W-%06d", 200000+i)
		o.Mark = scheduler.MarkNew
		f.orders = append(f.orders, o)
	}
	f.changes = map[string][]scheduler.OrderChange{}
	o := NewOrders(f, testOptions())
	w := test.NewWindow(o.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(1240, 760))
	o.Load()
	var dw fyne.Window
	o.ShowDetail = func(title string, d *OrderDetail) {
		if dw == nil {
			dw = test.NewWindow(d.Content())
			dw.Resize(fyne.NewSize(720, 800))
		} else {
			dw.SetContent(d.Content())
		}
	}
	i := 0
	for b.Loop() {
		b.StopTimer() // the click that selects the row is not part of opening it
		o.Select(i % 40)
		b.StartTimer()
		o.OpenSelected()
		i++
	}
	dw.Close()
}
