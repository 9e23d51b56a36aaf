package screens

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// OrderDetail is one work order in full: every field including the profile's custom fields, the
// instructions with their line breaks, the address with "Open map", the portal page with "Open
// in portal", when it was first seen and last changed, and its change history.
type OrderDetail struct {
	order   scheduler.Order
	opts    Options
	openURL func(string) error

	history *widget.Label
	message *widget.Label
	content fyne.CanvasObject
}

// builtinFieldLabels are the headings of the built-in fields, by their JSON names (the names the
// change history uses).
var builtinFieldLabels = map[string]string{
	"portal_id": "Portal id", "number": "Number", "customer": "Customer", "store_number": "Store",
	"site_name": "Site", "address": "Address", "street": "Street", "city": "City", "state": "State",
	"zip": "ZIP", "service_code": "Service code", "service_name": "Service", "items": "Items",
	"visit_date": "Visit date", "visit_at": "Visit", "visit_url": "Portal page", "instructions": "Instructions",
	"removed_at": "Removed",
}

// NewOrderDetail returns the detail view of o. openURL opens a web address with the desktop's
// handler (nil disables the buttons). Call LoadHistory to fill the change history.
func NewOrderDetail(o scheduler.Order, opts Options, openURL func(string) error) *OrderDetail {
	d := &OrderDetail{order: o, opts: opts.withDefaults(), openURL: openURL}
	loc := d.opts.Location
	title := widget.NewLabelWithStyle(strings.TrimSpace(o.Number+" · "+o.SiteName), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	objs := []fyne.CanvasObject{title}
	if status := orderStatus(&o, loc); status != "" {
		l := widget.NewLabel(status)
		l.Wrapping = fyne.TextWrapWord
		l.TextStyle.Bold = true
		if !o.RemovedAt.IsZero() || o.DetailMissing != "" {
			l.Importance = widget.WarningImportance
		}
		objs = append(objs, l)
	}
	d.message = errorLabel()

	value := func(text string) *widget.Label {
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		return l
	}
	form := container.New(layout.NewFormLayout())
	row := func(label string, v fyne.CanvasObject) { form.Add(heading(label)); form.Add(v) }
	row("Customer", value(o.Customer))
	row("Store", value(o.StoreNumber))
	row("Site", value(o.SiteName))
	addr := o.Address.String()
	mapBtn := widget.NewButton("Open map", func() { d.open(MapURL(o.Address)) })
	if addr == "" || openURL == nil {
		mapBtn.Disable()
	}
	row("Address", container.NewBorder(nil, nil, nil, mapBtn, value(addr)))
	row("Service", value(strings.TrimSpace(o.ServiceCode+" "+o.ServiceName)))
	row("Items", value(strings.Join(o.Items, "\n")))
	row("Visit", value(visitLong(&o, loc)))
	portal := widget.NewButton("Open in portal", func() { d.open(o.VisitURL) })
	if o.VisitURL == "" || openURL == nil {
		portal.Disable()
	}
	row("Portal page", container.NewBorder(nil, nil, nil, portal, value(o.VisitURL)))
	for _, f := range o.Custom {
		row(customLabel(f), value(customValue(f, loc)))
	}
	row("First seen", value(view.DateTime(o.FirstSeen, loc)))
	changed := "never"
	if !o.ChangedAt.IsZero() {
		changed = view.DateTime(o.ChangedAt, loc)
	}
	row("Last changed", value(changed))
	row("Last seen", value(view.DateTime(o.LastSeen, loc)))

	instructions := value(o.Instructions)
	if o.Instructions == "" {
		instructions.SetText("None.")
		instructions.Importance = widget.LowImportance
	}
	d.history = value("Loading…")
	objs = append(objs, form, heading("Instructions"), instructions, heading("Changes"), d.history, d.message)
	d.content = container.NewVScroll(container.NewPadded(container.NewVBox(objs...)))
	return d
}

// Content returns the view's root object.
func (d *OrderDetail) Content() fyne.CanvasObject { return d.content }

// Order returns the order the view shows.
func (d *OrderDetail) Order() scheduler.Order { return d.order }

// HistoryText returns the change history as the view shows it.
func (d *OrderDetail) HistoryText() string { return d.history.Text }

// LoadHistory fetches the order's change history in the background and shows it.
func (d *OrderDetail) LoadHistory(src OrdersSource) {
	var changes []scheduler.OrderChange
	d.opts.call(0, func(ctx context.Context) (err error) {
		changes, err = src.OrderHistory(ctx, d.order.PortalID)
		return err
	}, func(err error) {
		if err != nil {
			d.history.SetText("—")
			setMessage(d.message, "Could not load the change history: "+ErrorText(err))
			return
		}
		d.SetHistory(changes)
	})
}

// SetHistory shows changes (oldest first) newest first. It must run on Fyne's goroutine.
func (d *OrderDetail) SetHistory(changes []scheduler.OrderChange) {
	if len(changes) == 0 {
		d.history.SetText("No changes since it was first seen.")
		return
	}
	lines := make([]string, 0, len(changes))
	for i := len(changes) - 1; i >= 0; i-- {
		lines = append(lines, d.changeText(changes[i]))
	}
	d.history.SetText(strings.Join(lines, "\n"))
}

// changeText is one change in words: "Tue 10 Mar 2026 09:30:00 · Visit date: 2026-03-11 →
// 2026-03-12".
func (d *OrderDetail) changeText(c scheduler.OrderChange) string {
	loc := d.opts.Location
	at := view.DateTime(c.At, loc)
	label := builtinFieldLabels[c.Field]
	for _, f := range d.order.Custom {
		if f.Name == c.Field {
			label = customLabel(f)
		}
	}
	if label == "" {
		label = customLabel(scheduler.CustomField{Name: c.Field})
	}
	if c.Field == "removed_at" {
		if c.New != "" {
			return at + " · removed from the portal"
		}
		return at + " · back on the portal"
	}
	show := func(v string) string {
		v = strings.Join(strings.Fields(v), " ")
		switch {
		case v == "":
			return "(empty)"
		case len([]rune(v)) > 80:
			return string([]rune(v)[:79]) + "…"
		}
		return "“" + v + "”"
	}
	return fmt.Sprintf("%s · %s: %s → %s", at, label, show(c.Old), show(c.New))
}

func (d *OrderDetail) open(u string) {
	if d.openURL == nil || u == "" {
		return
	}
	if err := d.openURL(u); err != nil {
		setMessage(d.message, "Could not open "+u+": "+err.Error())
	}
}

// MapURL is a map search for an address (OpenStreetMap).
func MapURL(a scheduler.Address) string {
	return "https://www.openstreetmap.org/search?query=" + url.QueryEscape(a.String())
}

// orderStatus says what the user has not seen yet, or why the order is not complete: "New since
// Tue 10 Mar 09:30", "Removed from the portal on …", "The detail page could not be read: …".
func orderStatus(o *scheduler.Order, loc *time.Location) string {
	var parts []string
	switch {
	case !o.RemovedAt.IsZero():
		parts = append(parts, "Removed from the portal on "+view.DateTime(o.RemovedAt, loc)+".")
	case o.Mark == scheduler.MarkNew:
		parts = append(parts, "New: first seen "+view.DateTime(o.FirstSeen, loc)+".")
	case o.Mark == scheduler.MarkChanged:
		parts = append(parts, "Changed on "+view.DateTime(o.ChangedAt, loc)+"; see the changes below.")
	}
	if !o.MissingSince.IsZero() && o.RemovedAt.IsZero() {
		parts = append(parts, "Not on the portal's list since "+view.DateTime(o.MissingSince, loc)+"; removed if the next scrape lacks it too.")
	}
	if o.DetailMissing != "" {
		parts = append(parts, "The detail page could not be read in the last scrape ("+o.DetailMissing+"); instructions may be out of date.")
	}
	return strings.Join(parts, " ")
}

// visitLong is an order's visit in full: the date and, when the portal gives one, the time.
func visitLong(o *scheduler.Order, loc *time.Location) string {
	if !o.VisitAt.IsZero() {
		return o.VisitAt.In(loc).Format("Mon 2 Jan 2006 15:04")
	}
	if t, err := time.Parse("2006-01-02", o.VisitDate); err == nil {
		return t.Format("Mon 2 Jan 2006")
	}
	return o.VisitDate
}

// customLabel is a custom field's heading: its label, else its name in words.
func customLabel(f scheduler.CustomField) string {
	if f.Label != "" {
		return f.Label
	}
	n := strings.ReplaceAll(f.Name, "_", " ")
	if n == "" {
		return n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// customValue is a custom field's value for people: lists one per line, instants in loc.
func customValue(f scheduler.CustomField, loc *time.Location) string {
	switch f.Type {
	case scheduler.FieldList:
		if len(f.Items) > 0 {
			return strings.Join(f.Items, ", ")
		}
	case scheduler.FieldDateTime:
		if t, err := time.Parse(time.RFC3339, f.Value); err == nil {
			return t.In(loc).Format("Mon 2 Jan 2006 15:04")
		}
	case scheduler.FieldDate:
		if t, err := time.Parse("2006-01-02", f.Value); err == nil {
			return t.Format("Mon 2 Jan 2006")
		}
	}
	return f.Value
}
