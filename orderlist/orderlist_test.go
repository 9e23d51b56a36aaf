package orderlist

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func sample() []scheduler.Order {
	return []scheduler.Order{
		{PortalID: "3", Number: "W-3", VisitDate: "2026-03-12", Customer: "beta", SiteName: "Site C", Mark: scheduler.MarkChanged,
			Custom: []scheduler.CustomField{{Name: "dispensers", Label: "Dispensers", Type: scheduler.FieldInteger, Value: "10"}}},
		{PortalID: "1", Number: "W-1", VisitDate: "2026-03-11", VisitAt: t0.Add(30 * time.Hour), Customer: "Alpha", Mark: scheduler.MarkNew,
			Instructions: "Line 1\nLine 2, \"quoted\"",
			Custom: []scheduler.CustomField{{Name: "dispensers", Type: scheduler.FieldInteger, Value: "9"},
				{Name: "tags", Label: "Tags", Type: scheduler.FieldList, Items: []string{"roof", "night"}, Value: "roof, night"}}},
		{PortalID: "2", Number: "W-2", VisitDate: "2026-03-11", Customer: "gamma", RemovedAt: t0},
		{PortalID: "4", Number: "W-4", Customer: "delta"},
	}
}

func TestColumnsIncludeCustomFieldsInProfileOrder(t *testing.T) {
	cols := Columns(sample())
	var keys []string
	for _, c := range cols {
		keys = append(keys, c.Key)
	}
	n := len(builtin)
	if !slices.Equal(keys[n:], []string{"dispensers", "tags"}) || cols[n].Title != "Dispensers" || !cols[n].Custom {
		t.Fatalf("custom columns = %v (%+v)", keys[n:], cols[n])
	}
	if v := cols[n+1].Value(sample()[1]); v != "roof, night" {
		t.Errorf("list field text = %q", v)
	}
}

func TestWriteCSVRoundTrips(t *testing.T) {
	var buf bytes.Buffer
	orders := sample()
	n, err := WriteCSV(&buf, orders)
	if err != nil || n != len(orders) {
		t.Fatalf("WriteCSV = %d, %v", n, err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(orders)+1 {
		t.Fatalf("%d rows, want a header and %d", len(rows), len(orders))
	}
	head := rows[0]
	col := func(key string) int {
		i := slices.Index(head, key)
		if i < 0 {
			t.Fatalf("no column %q in %v", key, head)
		}
		return i
	}
	if r := rows[2]; r[col("instructions")] != orders[1].Instructions || r[col("dispensers")] != "9" || r[col("tags")] != "roof, night" ||
		r[col("visit_at")] != "2026-03-11T15:00:00Z" || r[col("mark")] != "new" {
		t.Errorf("row of W-1 = %v", r)
	}
	if r := rows[3]; r[col("mark")] != "removed" || r[col("removed_at")] != "2026-03-10T09:00:00Z" || r[col("dispensers")] != "" {
		t.Errorf("row of W-2 = %v", r)
	}
}

func TestExportCSVIsAtomicAndSaysWhere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, abs, err := ExportCSV(path, sample())
	if err != nil || n != 4 || abs != path {
		t.Fatalf("ExportCSV = %d, %q, %v", n, abs, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "number,mark,") {
		t.Errorf("file starts %q", data[:min(len(data), 40)])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	// A directory that does not exist: an error naming the file, nothing left behind.
	bad := filepath.Join(dir, "nope", "orders.csv")
	if _, _, err := ExportCSV(bad, sample()); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ExportCSV(%s) = %v, want an error naming it", bad, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after the exports, want only orders.csv", len(entries))
	}
}

func ids(orders []scheduler.Order) []string {
	var out []string
	for _, o := range orders {
		out = append(out, o.PortalID)
	}
	return out
}

func TestSort(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"", []string{"2", "1", "3", "4"}}, // soonest visit first (date only before a time that day), no date last
		{"visit", []string{"2", "1", "3", "4"}},
		{"-visit", []string{"4", "3", "1", "2"}},
		{"customer", []string{"1", "3", "4", "2"}}, // case-insensitive
		{"-customer", []string{"2", "4", "3", "1"}},
		{"dispensers", []string{"1", "3", "2", "4"}}, // numbers by value, empty last
		{"mark", []string{"3", "1", "2", "4"}},
	} {
		orders := sample()
		if err := Sort(orders, c.key); err != nil {
			t.Fatalf("Sort(%q): %v", c.key, err)
		}
		if got := ids(orders); !slices.Equal(got, c.want) {
			t.Errorf("Sort(%q) = %v, want %v", c.key, got, c.want)
		}
	}
	if err := Sort(sample(), "colour"); err == nil || !strings.Contains(err.Error(), `"colour"`) || !strings.Contains(err.Error(), "dispensers") {
		t.Errorf("Sort(colour) = %v, want an error naming it and the columns", err)
	}
}

func TestFilter(t *testing.T) {
	for _, c := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"3", "1", "4"}},
		{Filter{Removed: true}, []string{"3", "1", "2", "4"}},
		{Filter{New: true}, []string{"1"}},
		{Filter{Changed: true}, []string{"3"}},
		{Filter{New: true, Changed: true}, []string{"3", "1"}},
	} {
		if got := ids(c.f.Apply(sample())); !slices.Equal(got, c.want) {
			t.Errorf("%+v.Apply = %v, want %v", c.f, got, c.want)
		}
	}
}
