package screens

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

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
			VisitDate: fmt.Sprintf("2026-03-%02d", 11+i%5), FirstSeen: before, LastSeen: last}
		switch i {
		case 1, 5:
			o.FirstSeen = last // new in the latest scrape
		case 2:
			o.ChangedAt = last // changed in the latest scrape
		case 3:
			o.RemovedAt, o.LastSeen = last, before // removed in the latest scrape
		}
		out = append(out, o)
	}
	return out
}

func TestOrdersStates(t *testing.T) {
	test.NewTempApp(t)
	for _, tt := range []struct {
		name    string
		orders  []scheduler.Order
		search  string
		removed bool
		shown   int
	}{
		{"empty", nil, "", false, 0},
		{"orders", sampleOrders(), "", false, 13},
		{"search", sampleOrders(), "lard springfield", false, 1},
		{"removed_shown", sampleOrders(), "", true, 14},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.orders = tt.orders
			o := NewOrders(f, testOptions())
			w := test.NewWindow(o.Content())
			defer w.Close()
			w.Resize(fyne.NewSize(960, 520))
			o.Load()
			o.SetSearch(tt.search)
			o.SetShowRemoved(tt.removed)
			if got := len(o.Shown()); got != tt.shown {
				t.Errorf("shown %d orders, want %d", got, tt.shown)
			}
			test.AssertImageMatches(t, "orders_"+tt.name+".png", w.Canvas().Capture())
		})
	}
}

func TestMarkOrders(t *testing.T) {
	marks := MarkOrders(sampleOrders())
	want := map[int]Mark{1: MarkNew, 5: MarkNew, 2: MarkChanged, 3: MarkRemoved, 0: MarkNone}
	for i, m := range want {
		if marks[i] != m {
			t.Errorf("order %d: mark %v, want %v", i, marks[i], m)
		}
	}
}

func TestOrdersCSVExport(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.orders = sampleOrders()
	o := NewOrders(f, testOptions())
	var buf bytes.Buffer
	o.SaveCSV = func(name string, write func(io.Writer) error) {
		if name != "work-orders.csv" {
			t.Errorf("suggested name %q", name)
		}
		if err := write(&buf); err != nil {
			t.Fatal(err)
		}
	}
	o.Load()
	o.SetSearch("krusty")
	o.export()
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+4 { // header and the four Krusty Burger orders (none removed)
		t.Fatalf("%d rows:\n%s", len(rows), buf.String())
	}
	if rows[0][0] != "number" || rows[1][3] != "Krusty Burger" || rows[1][15] != at(9, 30).Format(time.RFC3339) {
		t.Errorf("rows %q", rows[:2])
	}
}
