// Package calendar keeps the work orders' visits as an iCalendar file (visits.ics) that
// calendar apps (GNOME Calendar, Thunderbird) can subscribe to, and writes the same calendar
// for `worktray orders --ics`. It uses github.com/arran4/golang-ical.
//
// One VEVENT per order with a visit date: the work-order number and site as its summary, the
// address as its location, the customer, service, items, custom fields, instructions (line
// breaks kept) and portal link as its description, the portal link as its URL. Each order keeps
// one UID for life (UID), so a calendar app updates the event when the visit moves instead of
// adding another. A removed order stays in the file as STATUS:CANCELLED for a while
// (Options.KeepCancelled), so subscribed calendars drop or strike it.
//
// Everything here is safe for concurrent use; Write and WriteFile block on I/O.
package calendar

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"worktray/orderlist"
	"worktray/scheduler"
	"worktray/store"
)

// FileName is the name of the calendar file the owner keeps beside the store.
const FileName = "visits.ics"

// Path returns where the owner keeps the calendar file for the store at storePath: visits.ics
// in the same directory.
func Path(storePath string) string { return filepath.Join(filepath.Dir(storePath), FileName) }

// Options shape the calendar. The zero value is usable.
type Options struct {
	// Name is the calendar's name shown by calendar apps (X-WR-CALNAME); default "Work-order
	// visits".
	Name string
	// VisitLength is the length of a visit with a time of day (Order.VisitAt); default 1 h. A
	// visit with only a date is an all-day event.
	VisitLength time.Duration
	// KeepCancelled is how long after its removal a removed order stays in the calendar as
	// cancelled; default 30 days. Negative keeps none.
	KeepCancelled time.Duration
	// Now is the instant KeepCancelled counts back from; zero means time.Now().
	Now time.Time
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "Work-order visits"
	}
	if o.VisitLength <= 0 {
		o.VisitLength = time.Hour
	}
	if o.KeepCancelled == 0 {
		o.KeepCancelled = 30 * 24 * time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// UID returns the event UID of the order with the given portal id: the same for the order's
// whole life. Characters outside [A-Za-z0-9._-] are percent-encoded.
func UID(portalID string) string {
	safe := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	var b strings.Builder
	b.Grow(len(portalID) + 16)
	b.WriteString("order-")
	for i := 0; i < len(portalID); i++ {
		if c := portalID[i]; safe(c) {
			b.WriteByte(c)
		} else {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	b.WriteString("@worktray")
	return b.String()
}

// Build returns the calendar of orders' visits, soonest first: one event per order with a
// visit (VisitAt, or a VisitDate of the form YYYY-MM-DD), cancelled for a removed order while
// it is within opts.KeepCancelled of its removal, and none for an order without a usable visit
// date or removed longer ago. It also returns how many events it holds.
func Build(orders []scheduler.Order, opts Options) (*ics.Calendar, int) {
	opts = opts.withDefaults()
	cal := ics.NewCalendarFor("worktray")
	cal.SetProductId("-//worktray//work-order visits//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetName(opts.Name)
	cal.SetXWRCalName(opts.Name)
	cal.SetXWRCalDesc("Visits of the work orders worktray read from the portal")
	cal.SetRefreshInterval("PT1H")
	cal.SetXPublishedTTL("PT1H")

	// Sort pointers, not the large order values.
	sorted := make([]*scheduler.Order, len(orders))
	for i := range orders {
		sorted[i] = &orders[i]
	}
	slices.SortFunc(sorted, store.CompareVisitRef)
	n := 0
	for _, o := range sorted {
		if e := event(o, opts); e != nil {
			cal.AddVEvent(e)
			n++
		}
	}
	return cal, n
}

// event returns the event of one order, or nil when it has none. It appends the properties
// itself rather than through the library's setters, which allocate a parameter map for each
// (5,000 orders are written in well under 50 ms this way).
func event(o *scheduler.Order, opts Options) *ics.VEvent {
	removed := !o.RemovedAt.IsZero()
	if removed && (opts.KeepCancelled < 0 || opts.Now.Sub(o.RemovedAt) > opts.KeepCancelled) {
		return nil
	}
	var day time.Time
	if o.VisitAt.IsZero() {
		d, err := time.Parse(time.DateOnly, o.VisitDate)
		if err != nil {
			return nil
		}
		day = d
	}
	e := ics.NewEvent(UID(o.PortalID))
	e.Properties = slices.Grow(e.Properties, 10)
	add := func(p ics.ComponentProperty, value string, params map[string][]string) {
		e.Properties = append(e.Properties, ics.IANAProperty{BaseProperty: ics.BaseProperty{IANAToken: string(p), Value: value, ICalParameters: params}})
	}
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	stamp := o.ChangedAt
	if removed {
		stamp = o.RemovedAt
	}
	if stamp.IsZero() {
		stamp = o.FirstSeen
	}
	// DTSTAMP is when the event's information last changed (not when the file was written),
	// so the file only changes when an order does.
	add(ics.ComponentPropertyDtstamp, utc(stamp), nil)
	add(ics.ComponentPropertyLastModified, utc(stamp), nil)
	if o.VisitAt.IsZero() {
		date := map[string][]string{string(ics.ParameterValue): {string(ics.ValueDataTypeDate)}}
		add(ics.ComponentPropertyDtStart, day.Format("20060102"), date)
		add(ics.ComponentPropertyDtEnd, day.AddDate(0, 0, 1).Format("20060102"), date)
	} else {
		add(ics.ComponentPropertyDtStart, utc(o.VisitAt), nil)
		add(ics.ComponentPropertyDtEnd, utc(o.VisitAt.Add(opts.VisitLength)), nil)
	}
	add(ics.ComponentPropertySummary, Summary(*o), nil)
	if loc := o.Address.String(); loc != "" {
		add(ics.ComponentPropertyLocation, loc, nil)
	}
	add(ics.ComponentPropertyDescription, Description(*o), nil)
	if o.VisitURL != "" {
		add(ics.ComponentPropertyUrl, o.VisitURL, nil)
	}
	status := ics.ObjectStatusConfirmed
	if removed {
		status = ics.ObjectStatusCancelled
	}
	add(ics.ComponentPropertyStatus, string(status), nil)
	return e
}

// Summary is an event's title: the work-order number and the site (the customer when the
// order names no site), "Cancelled: " first for a removed order.
func Summary(o scheduler.Order) string {
	site := o.SiteName
	if site == "" {
		site = o.Customer
	}
	s := strings.TrimSpace(strings.Join(nonEmpty(o.Number, site), " · "))
	if !o.RemovedAt.IsZero() {
		s = "Cancelled: " + s
	}
	return s
}

// Description is an event's description: one "Label: value" line per field that has a value
// (customer, store, site, address, service, items, each custom field), then the instructions
// with their line breaks, then the portal link.
func Description(o scheduler.Order) string {
	var b strings.Builder
	b.Grow(256 + len(o.Instructions))
	line := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			b.WriteString(label)
			b.WriteString(": ")
			b.WriteString(value)
			b.WriteByte('\n')
		}
	}
	line("Work order", o.Number)
	line("Customer", o.Customer)
	line("Store", o.StoreNumber)
	line("Site", o.SiteName)
	line("Address", o.Address.String())
	switch {
	case o.ServiceCode != "" && o.ServiceName != "":
		line("Service", o.ServiceCode+" — "+o.ServiceName)
	default:
		line("Service", o.ServiceCode+o.ServiceName)
	}
	line("Items", strings.Join(o.Items, "; "))
	for _, f := range o.Custom {
		label := f.Label
		if label == "" {
			label = f.Name
		}
		line(label, orderlist.CustomValue(o, f.Name))
	}
	if ins := strings.TrimSpace(o.Instructions); ins != "" {
		if strings.Contains(ins, "\r") {
			ins = strings.ReplaceAll(strings.ReplaceAll(ins, "\r\n", "\n"), "\r", "\n")
		}
		b.WriteString("\nInstructions:\n")
		b.WriteString(ins)
		b.WriteByte('\n')
	}
	if o.VisitURL != "" {
		b.WriteString("\nOpen in the portal: ")
		b.WriteString(o.VisitURL)
		b.WriteByte('\n')
	}
	if !o.RemovedAt.IsZero() {
		b.WriteString("\nThe portal no longer lists this work order (removed ")
		b.WriteString(o.RemovedAt.UTC().Format(time.RFC3339))
		b.WriteString(").\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Write writes the calendar of orders (Build) to w with CRLF line endings, and returns the
// number of events written.
func Write(w io.Writer, orders []scheduler.Order, opts Options) (int, error) {
	cal, n := Build(orders, opts)
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := cal.SerializeTo(bw, ics.WithNewLineWindows); err != nil { // RFC 5545 3.1: CRLF
		return 0, fmt.Errorf("write the calendar: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write the calendar: %w", err)
	}
	return n, nil
}

// WriteFile writes the calendar of orders to path atomically (a temporary file beside it,
// renamed over it), mode 0600, so a calendar app never reads half a file and a failure leaves
// the previous file as it was. It does not fsync: the file is rewritten after every scrape and
// at start, so a crash costs at most one stale copy. It returns the number of events written.
func WriteFile(path string, orders []scheduler.Order, opts Options) (int, error) {
	var n int
	err := orderlist.WriteFileAtomic(path, 0o600, false, func(w io.Writer) error {
		var err error
		n, err = Write(w, orders, opts)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("write the visits calendar: %w", err)
	}
	return n, nil
}

// OrdersSource is where Update reads the orders; *store.DB implements it.
type OrdersSource interface {
	Orders(includeRemoved bool) ([]scheduler.Order, error)
}

// Update reads every stored order (removed ones too) from src and rewrites the calendar file
// at path (WriteFile). The owner calls it after each finished run that applied orders, and at
// start. It returns the number of events written. It blocks on the store and the disk.
func Update(src OrdersSource, path string, opts Options) (int, error) {
	orders, err := src.Orders(true)
	if err != nil {
		return 0, fmt.Errorf("write the visits calendar: %w", err)
	}
	return WriteFile(path, orders, opts)
}
