package calendar

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"worktray/scheduler"
)

var now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func sampleOrder(id string, n int) scheduler.Order {
	return scheduler.Order{
		PortalID: id, Number: fmt.Sprintf("W-%06d", n), Customer: "Acme Retail", StoreNumber: fmt.Sprint(1000 + n),
		SiteName: fmt.Sprintf("Store %d", n), ServiceCode: "HVAC-PM", ServiceName: "Preventive maintenance",
		Address:   scheduler.Address{Street: fmt.Sprintf("%d Main St", n), City: "Springfield", State: "IL", Zip: "62701"},
		Items:     []string{"filter 20x25", "belt B42"},
		VisitDate: now.AddDate(0, 0, n%40).Format(time.DateOnly), VisitURL: fmt.Sprintf("https://portal.example/visits/%s", id),
		Instructions: fmt.Sprintf("Day %d of 2\n\nBring the ladder; call ahead, ask for Sam.", 1+n%2),
		FirstSeen:    now.Add(-48 * time.Hour), ChangedAt: now.Add(-24 * time.Hour),
	}
}

// fixture returns orders of every kind the calendar treats differently.
func fixture() []scheduler.Order {
	timed := sampleOrder("1001", 1)
	timed.VisitAt = time.Date(2026, 3, 12, 14, 30, 0, 0, time.UTC)
	timed.VisitDate = "2026-03-12"
	timed.Custom = []scheduler.CustomField{{Name: "dispensers", Label: "Dispensers", Type: scheduler.FieldInteger, Value: "4"},
		{Name: "tags", Type: scheduler.FieldList, Items: []string{"roof", "night"}, Value: "roof, night"}}
	allDay := sampleOrder("1002", 2)
	cancelled := sampleOrder("1003", 3)
	cancelled.RemovedAt = now.Add(-time.Hour)
	longGone := sampleOrder("1004", 4)
	longGone.RemovedAt = now.AddDate(0, -3, 0)
	noDate := sampleOrder("1005", 5)
	noDate.VisitDate = "next week"
	odd := sampleOrder("A/B 7;x", 7)
	odd.SiteName = ""
	return []scheduler.Order{allDay, timed, cancelled, longGone, noDate, odd}
}

func TestVisitsFileParsesBackEventByEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	orders := fixture()
	n, err := WriteFile(path, orders, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("WriteFile wrote %d events, want 4 (no event without a date or removed months ago)", n)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s: %v, %v", path, fi, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cal, err := ics.ParseCalendar(f)
	if err != nil {
		t.Fatalf("the file does not parse: %v", err)
	}
	events := map[string]*ics.VEvent{}
	var order []string
	for _, e := range cal.Events() {
		events[e.Id()] = e
		order = append(order, e.Id())
	}
	if len(events) != 4 {
		t.Fatalf("parsed %d events (%v), want 4", len(events), order)
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if v := e.GetProperty(p); v != nil {
			return v.Value
		}
		return ""
	}
	for _, o := range orders {
		e := events[UID(o.PortalID)]
		wantEvent := o.VisitDate != "next week" && (o.RemovedAt.IsZero() || now.Sub(o.RemovedAt) < 24*time.Hour)
		if (e != nil) != wantEvent {
			t.Errorf("order %s: event present = %v, want %v", o.PortalID, e != nil, wantEvent)
			continue
		}
		if e == nil {
			continue
		}
		where := "order " + o.PortalID
		if got := prop(e, ics.ComponentPropertyLocation); got != o.Address.String() {
			t.Errorf("%s: LOCATION %q, want %q", where, got, o.Address.String())
		}
		if got := prop(e, ics.ComponentPropertyUrl); got != o.VisitURL {
			t.Errorf("%s: URL %q", where, got)
		}
		desc := prop(e, ics.ComponentPropertyDescription)
		for _, want := range []string{o.Instructions, "Customer: Acme Retail", "Open in the portal: " + o.VisitURL, "Address: " + o.Address.String()} {
			if !strings.Contains(desc, want) {
				t.Errorf("%s: DESCRIPTION %q lacks %q", where, desc, want)
			}
		}
		summary := prop(e, ics.ComponentPropertySummary)
		wantStatus := "CONFIRMED"
		if !o.RemovedAt.IsZero() {
			wantStatus = "CANCELLED"
			if !strings.HasPrefix(summary, "Cancelled: ") {
				t.Errorf("%s: SUMMARY %q of a removed order", where, summary)
			}
		}
		if got := prop(e, ics.ComponentPropertyStatus); got != wantStatus {
			t.Errorf("%s: STATUS %q, want %s", where, got, wantStatus)
		}
		site := o.SiteName
		if site == "" {
			site = o.Customer
		}
		if !strings.Contains(summary, o.Number) || !strings.Contains(summary, site) {
			t.Errorf("%s: SUMMARY %q lacks the number or the site %q", where, summary, site)
		}
		if o.VisitAt.IsZero() {
			start, err := e.GetAllDayStartAt()
			if err != nil || start.Format(time.DateOnly) != o.VisitDate || !strings.Contains(e.GetProperty(ics.ComponentPropertyDtStart).ICalParameters["VALUE"][0], "DATE") {
				t.Errorf("%s: all-day DTSTART %v, %v; want %s", where, start, err, o.VisitDate)
			}
		} else {
			start, err := e.GetStartAt()
			end, err2 := e.GetEndAt()
			if err != nil || err2 != nil || !start.Equal(o.VisitAt) || end.Sub(start) != time.Hour {
				t.Errorf("%s: DTSTART %v DTEND %v (%v, %v); want %v for an hour", where, start, end, err, err2, o.VisitAt)
			}
			if !strings.Contains(desc, "Dispensers: 4") || !strings.Contains(desc, "tags: roof, night") {
				t.Errorf("%s: custom fields missing from %q", where, desc)
			}
		}
		if stamp, err := e.GetDtStampTime(); err != nil || stamp.IsZero() {
			t.Errorf("%s: DTSTAMP %v, %v", where, stamp, err)
		}
	}
	// Soonest first.
	if order[0] != UID("A/B 7;x") && order[0] != UID("1002") {
		t.Errorf("first event %s; want the soonest visit", order[0])
	}
	if UID("A/B 7;x") != "order-A%2FB%207%3Bx@worktray" {
		t.Errorf("UID = %s", UID("A/B 7;x"))
	}
}

func TestVisitsFileIsStableAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if _, err := WriteFile(path, fixture(), Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	// Written again an hour later with the same orders: the same bytes (no churn for
	// subscribed calendars).
	if _, err := WriteFile(path, fixture(), Options{Now: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Error("the same orders gave a different file an hour later")
	}
	// A visit that moves keeps its UID and changes its DTSTART.
	moved := fixture()
	moved[0].VisitDate = "2026-04-01"
	moved[0].ChangedAt = now
	if _, err := WriteFile(path, moved, Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	third, _ := os.ReadFile(path)
	if !bytes.Contains(third, []byte("DTSTART;VALUE=DATE:20260401")) || bytes.Count(third, []byte("UID:"+UID(moved[0].PortalID))) != 1 {
		t.Errorf("the moved visit is not one event on 2026-04-01:\n%s", third)
	}
	// A failure (the directory is gone) leaves no temporary file and names the file.
	bad := filepath.Join(dir, "gone", FileName)
	if _, err := WriteFile(bad, fixture(), Options{Now: now}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("WriteFile(%s) = %v, want an error naming it", bad, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want only %s", len(entries), FileName)
	}
}

type fakeSource []scheduler.Order

func (f fakeSource) Orders(includeRemoved bool) ([]scheduler.Order, error) {
	if !includeRemoved {
		return nil, fmt.Errorf("Update must ask for removed orders too")
	}
	return f, nil
}

func TestUpdateWritesBesideTheStore(t *testing.T) {
	dir := t.TempDir()
	path := Path(filepath.Join(dir, "worktray.db"))
	if path != filepath.Join(dir, "visits.ics") {
		t.Fatalf("Path = %s", path)
	}
	n, err := Update(fakeSource(fixture()), path, Options{Now: now})
	if err != nil || n != 4 {
		t.Fatalf("Update = %d, %v", n, err)
	}
}

func orders5000() []scheduler.Order {
	out := make([]scheduler.Order, 5000)
	for i := range out {
		out[i] = sampleOrder(fmt.Sprint(100000+i), i)
		if i%3 == 0 {
			out[i].VisitAt = now.Add(time.Duration(i) * time.Hour)
		}
	}
	return out
}

// BenchmarkWriteVisits5000 writes visits.ics for 5,000 orders, atomically (temporary file and
// rename).
// Target: ≤ 50 ms.
func BenchmarkWriteVisits5000(b *testing.B) {
	orders := orders5000()
	path := filepath.Join(b.TempDir(), FileName)
	for b.Loop() {
		if _, err := WriteFile(path, orders, Options{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildVisits5000 is the calendar of 5,000 orders in memory, without serialising.
func BenchmarkBuildVisits5000(b *testing.B) {
	orders := orders5000()
	for b.Loop() {
		Build(orders, Options{Now: now})
	}
}

// BenchmarkSerializeVisits5000 is Write of 5,000 orders to a discarding writer: no disk.
func BenchmarkSerializeVisits5000(b *testing.B) {
	orders := orders5000()
	for b.Loop() {
		if _, err := Write(io.Discard, orders, Options{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// Every line ends in CRLF, as RFC 5545 (3.1) requires: calendar apps may refuse bare LF.
func TestLinesEndInCRLF(t *testing.T) {
	var b strings.Builder
	orders := []scheduler.Order{{PortalID: "1", Number: "W-1", SiteName: "Lake Tamsin", VisitDate: "2026-12-02",
		Instructions: "Day 2 of 2\n\nBring the ladder"}}
	if _, err := Write(&b, orders, Options{Now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") || strings.Count(out, "\n") != strings.Count(out, "\r\n") {
		t.Fatalf("lines do not all end in CRLF:\n%q", out)
	}
}
