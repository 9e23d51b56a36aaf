package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"worktray/calendar"
	"worktray/control"
	"worktray/orderlist"
	"worktray/scheduler"
	"worktray/store"
)

// cmdOrders is `worktray orders [show NUMBER]`: the stored work orders, soonest visit first, as
// a table, --json, --csv or --ics; --new and --changed keep the orders whose mark the user has
// not seen yet (the same rule as the work orders window); --sort picks any column.
func cmdOrders(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "show" {
		return cmdOrderShow(ctx, e, args[1:])
	}
	fs := e.flags()
	asCSV := fs.Bool("csv", false, "print CSV: every field, custom fields included (the work orders window's export)")
	asICS := fs.Bool("ics", false, "print the visits as an iCalendar file (removed orders as cancelled)")
	output := fs.String("output", "", "with --csv or --ics: write to this file (atomically) instead of standard output")
	all := fs.Bool("all", false, "include removed orders")
	onlyNew := fs.Bool("new", false, "only orders marked new (not seen since they appeared)")
	onlyChanged := fs.Bool("changed", false, "only orders marked changed (not seen since they changed)")
	sortBy := fs.String("sort", orderlist.DefaultSort, "sort by this column (visit, number, customer, site_name, city, mark, a custom field…); -COLUMN reverses")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	formats := 0
	for _, on := range []bool{*asCSV, *asICS, e.json} {
		if on {
			formats++
		}
	}
	if formats > 1 {
		return usagef("--csv, --ics and --json exclude each other")
	}
	if *output != "" && !*asCSV && !*asICS {
		return usagef("--output goes with --csv or --ics")
	}
	q := control.OrdersQuery{Removed: *all || *asICS, New: *onlyNew, Changed: *onlyChanged, Sort: *sortBy}
	orders, local, err := e.orders(ctx, q)
	if err != nil {
		return err
	}
	if local {
		// On stderr when standard output carries data, so that it stays clean.
		if *asCSV || *asICS || e.json {
			fmt.Fprintln(e.io.Err, notRunningNote)
		} else {
			e.note(notRunningNote)
		}
	}
	switch {
	case e.json:
		writeJSON(e.io.Out, control.OrdersResponse{Orders: nonNil(orders)})
		return nil
	case *asCSV:
		if *output != "" {
			n, path, err := orderlist.ExportCSV(*output, orders)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "wrote %d work order%s (CSV) to %s\n", n, plural(n), path)
			return nil
		}
		n, err := orderlist.WriteCSV(e.io.Out, orders)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.io.Err, "wrote %d work order%s (CSV) to standard output\n", n, plural(n))
		return nil
	case *asICS:
		if *output != "" {
			n, err := calendar.WriteFile(*output, orders, calendar.Options{Now: e.now()})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.io.Out, "wrote %d visit%s (iCalendar) to %s\n", n, plural(n), *output)
			return nil
		}
		n, err := calendar.Write(e.io.Out, orders, calendar.Options{Now: e.now()})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.io.Err, "wrote %d visit%s (iCalendar) to standard output\n", n, plural(n))
		return nil
	}
	if len(orders) == 0 {
		switch {
		case *onlyNew && *onlyChanged:
			fmt.Fprintln(e.io.Out, "no work orders marked new or changed: everything has been seen")
		case *onlyNew:
			fmt.Fprintln(e.io.Out, "no work orders marked new")
		case *onlyChanged:
			fmt.Fprintln(e.io.Out, "no work orders marked changed")
		default:
			fmt.Fprintln(e.io.Out, "no work orders stored")
		}
		return nil
	}
	printOrdersTable(e.io.Out, orders, terminalWidth(e.io.Out))
	fmt.Fprintf(e.io.Out, "%d work order%s", len(orders), plural(len(orders)))
	if marked := countMarked(orders); marked > 0 && !*onlyNew && !*onlyChanged {
		fmt.Fprintf(e.io.Out, " (%d not seen yet: `worktray orders --new --changed`)", marked)
	}
	fmt.Fprintln(e.io.Out)
	return nil
}

// orders returns the orders q selects: from the owner, or from the store read-only when no
// owner runs (local is then true), filtered and sorted the same way.
func (e *env) orders(ctx context.Context, q control.OrdersQuery) (orders []scheduler.Order, local bool, err error) {
	orders, err = e.owner().OrdersWhere(ctx, q)
	if !errors.Is(err, control.ErrNoOwner) {
		return orders, false, err
	}
	db, err := e.openLocal()
	if err != nil {
		return nil, true, err
	}
	defer db.Close()
	if orders, err = db.Orders(q.Removed); err != nil {
		return nil, true, err
	}
	orders = orderlist.Filter{Removed: q.Removed, New: q.New, Changed: q.Changed}.Apply(orders)
	if err := orderlist.Sort(orders, q.Sort); err != nil {
		return nil, true, usagef("--sort: %v", err)
	}
	return orders, true, nil
}

func countMarked(orders []scheduler.Order) int {
	n := 0
	for _, o := range orders {
		if o.Mark != scheduler.MarkNone && o.RemovedAt.IsZero() {
			n++
		}
	}
	return n
}

// printOrdersTable prints the orders table: mark, number, visit, customer, site, city, service.
// With a width (a terminal), the free-text columns share what the others leave, so a line never
// wraps.
func printOrdersTable(w io.Writer, orders []scheduler.Order, width int) {
	visit := func(o scheduler.Order) string {
		if !o.VisitAt.IsZero() {
			return o.VisitAt.Local().Format("2006-01-02 15:04")
		}
		return o.VisitDate
	}
	// The fixed columns' widths, then the free ones'.
	fixed := []func(scheduler.Order) string{orderlist.MarkText, func(o scheduler.Order) string { return o.Number }, visit,
		func(o scheduler.Order) string { return o.Address.City }}
	free := []func(scheduler.Order) string{
		func(o scheduler.Order) string { return o.Customer },
		func(o scheduler.Order) string { return o.SiteName },
		func(o scheduler.Order) string { return o.ServiceName },
	}
	limit := 40
	if width > 0 {
		used := 0
		for i, f := range fixed {
			m := len([]rune([]string{"MARK", "NUMBER", "VISIT", "CITY"}[i]))
			for _, o := range orders {
				m = max(m, len([]rune(f(o))))
			}
			used += m + 2
		}
		limit = max(8, (width-used-len(free)*2)/len(free))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MARK\tNUMBER\tVISIT\tCUSTOMER\tSITE\tCITY\tSERVICE")
	for _, o := range orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orderlist.MarkText(o), o.Number, visit(o),
			oneLine(o.Customer, limit), oneLine(o.SiteName, limit), o.Address.City, oneLine(o.ServiceName, limit))
	}
	_ = tw.Flush()
}

// cmdOrderShow is `worktray orders show NUMBER`: every field of one order, custom fields
// included, the instructions with their line breaks, the address, the portal link, first seen,
// last changed and the change history; then the order counts as seen (its new/changed mark is
// cleared), which needs the owner.
func cmdOrderShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: worktray orders show NUMBER")
	}
	number := pos[0]
	c := e.owner()
	d, err := c.OrderByNumber(ctx, number)
	local := false
	if errors.Is(err, control.ErrNoOwner) {
		local = true
		var db *store.DB
		if db, err = e.openLocal(); err != nil {
			return err
		}
		defer db.Close()
		if d.Order, err = db.OrderByNumber(number); err == nil {
			d.History, err = db.OrderHistory(d.Order.PortalID)
		}
	}
	if errors.Is(err, scheduler.ErrNotFound) {
		return fmt.Errorf("no work order %q is stored (`worktray orders --all` lists them)", number)
	}
	if err != nil {
		return err
	}
	if e.json {
		writeJSON(e.io.Out, d)
	} else {
		printOrder(e.io.Out, d)
	}
	if local {
		e.note("worktray is not running, so the order stays marked %s until it is opened again with worktray running", markWord(d.Order))
		return nil
	}
	if d.Order.Mark != scheduler.MarkNone {
		if _, err := c.MarkSeen(ctx, d.Order.PortalID); err != nil {
			return fmt.Errorf("marking %s seen: %w", d.Order.Number, err)
		}
	}
	return nil
}

func markWord(o scheduler.Order) string {
	if o.Mark == scheduler.MarkNone {
		return "as seen"
	}
	return string(o.Mark)
}

// printOrder prints one order for people: a "Label: value" line per field that has one, the
// instructions as a block, then the change history, newest first.
func printOrder(w io.Writer, d control.OrderDetail) {
	o := d.Order
	line := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fmt.Fprintf(w, "%-15s %s\n", label+":", value)
		}
	}
	title := o.Number
	if m := orderlist.MarkText(o); m != "" {
		title += " (" + m + ")"
	}
	fmt.Fprintln(w, title)
	line("Customer", o.Customer)
	line("Store", o.StoreNumber)
	line("Site", o.SiteName)
	line("Address", o.Address.String())
	line("Service", strings.TrimSpace(strings.Join([]string{o.ServiceCode, o.ServiceName}, " ")))
	line("Items", strings.Join(o.Items, "; "))
	visit := o.VisitDate
	if !o.VisitAt.IsZero() {
		visit = o.VisitAt.Local().Format("Mon 2 Jan 2006 15:04 MST")
	}
	line("Visit", visit)
	for _, f := range o.Custom {
		label := f.Label
		if label == "" {
			label = f.Name
		}
		line(label, orderlist.CustomValue(o, f.Name))
	}
	line("Portal", o.VisitURL)
	line("Portal id", o.PortalID)
	at := func(label string, t time.Time, extra string) {
		if !t.IsZero() {
			line(label, t.Local().Format("2006-01-02 15:04")+extra)
		}
	}
	at("First seen", o.FirstSeen, "")
	at("Last changed", o.ChangedAt, "")
	at("Last seen", o.LastSeen, "")
	at("Missing since", o.MissingSince, " (not in the last complete read; removed if the next one lacks it too)")
	at("Removed", o.RemovedAt, "")
	if o.DetailMissing != "" {
		line("Detail page", "could not be read in the last scrape: "+o.DetailMissing)
	}
	if ins := strings.TrimSpace(o.Instructions); ins != "" {
		fmt.Fprintln(w, "\nInstructions:")
		for _, l := range strings.Split(ins, "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(d.History) == 0 {
		fmt.Fprintln(w, "\nNo changes since it was first seen.")
		return
	}
	fmt.Fprintln(w, "\nChanges (newest first):")
	for _, c := range d.History {
		fmt.Fprintf(w, "  %s  %s\n", c.At.Local().Format("2006-01-02 15:04"), describeChange(c))
	}
}

// describeChange says what one history entry changed: "customer: Acme → Acme Wholesale".
func describeChange(c scheduler.OrderChange) string {
	if c.Field == store.FieldRemovedAt {
		if c.New != "" {
			return "removed: the portal no longer listed it"
		}
		return "listed again after its removal"
	}
	q := func(s string) string {
		if s == "" {
			return "(empty)"
		}
		return oneLine(s, 60)
	}
	return fmt.Sprintf("%s: %s → %s", c.Field, q(c.Old), q(c.New))
}
