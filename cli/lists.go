package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"worktray/control"
	"worktray/scheduler"
	"worktray/store"
)

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func cmdOrders(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asCSV := fs.Bool("csv", false, "print CSV (every field)")
	all := fs.Bool("all", false, "include removed orders")
	if err := e.parseNoArgs(fs, args); err != nil {
		return err
	}
	if *asCSV && e.json {
		return usagef("--csv and --json exclude each other")
	}
	orders, err := e.owner().Orders(ctx, *all)
	if errors.Is(err, control.ErrNoOwner) {
		var db *store.DB
		if db, err = e.openLocal(); err != nil {
			return err
		}
		defer db.Close()
		if !*asCSV {
			e.note(notRunningNote)
		} else {
			fmt.Fprintln(e.io.Err, notRunningNote)
		}
		orders, err = db.Orders(*all)
	}
	if err != nil {
		return err
	}
	switch {
	case e.json:
		writeJSON(e.io.Out, control.OrdersResponse{Orders: nonNil(orders)})
		return nil
	case *asCSV:
		return writeOrdersCSV(e, orders)
	}
	if len(orders) == 0 {
		fmt.Fprintln(e.io.Out, "no work orders stored")
		return nil
	}
	now := e.now()
	tw := tabwriter.NewWriter(e.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tVISIT\tCUSTOMER\tSITE\tCITY\tSERVICE\t")
	for _, o := range orders {
		flag := ""
		switch {
		case !o.RemovedAt.IsZero():
			flag = "removed"
		case now.Sub(o.FirstSeen) < 24*time.Hour:
			flag = "new"
		case !o.ChangedAt.IsZero() && now.Sub(o.ChangedAt) < 24*time.Hour:
			flag = "changed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Number, o.VisitDate, oneLine(o.Customer, 30),
			oneLine(o.SiteName, 30), o.Address.City, oneLine(o.ServiceName, 30), flag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.io.Out, "%d work orders\n", len(orders))
	return nil
}

func writeOrdersCSV(e *env, orders []scheduler.Order) error {
	w := csv.NewWriter(e.io.Out)
	_ = w.Write([]string{"portal_id", "number", "customer", "store_number", "site_name", "street", "city", "state", "zip",
		"service_code", "service_name", "items", "visit_date", "visit_url", "instructions",
		"first_seen", "last_seen", "changed_at", "removed_at"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, o := range orders {
		_ = w.Write([]string{o.PortalID, o.Number, o.Customer, o.StoreNumber, o.SiteName, o.Address.Street, o.Address.City,
			o.Address.State, o.Address.Zip, o.ServiceCode, o.ServiceName, strings.Join(o.Items, "; "), o.VisitDate, o.VisitURL,
			o.Instructions, ts(o.FirstSeen), ts(o.LastSeen), ts(o.ChangedAt), ts(o.RemovedAt)})
	}
	w.Flush()
	return w.Error()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
