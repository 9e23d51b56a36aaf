package control

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"worktray/scheduler"
)

// scrapeOrders runs a scrape through the scheduler that lists orders (a complete read).
func (h *harness) scrapeOrders(orders ...scheduler.Order) {
	h.t.Helper()
	h.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{Orders: orders, Complete: true, ListReads: 1}, nil
	})
	h.scrape()
	h.waitIdle()
}

func testOrder(id, number, visit, site string) scheduler.Order {
	return scheduler.Order{PortalID: id, Number: number, VisitDate: visit, SiteName: site, Customer: "Acme"}
}

// The same rule everywhere: marks stay until seen; the list, the detail, the history and the
// seen route agree.
func TestOrdersMarksDetailAndHistory(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	a, b, c := testOrder("1", "W-1", "2026-03-12", "Site A"), testOrder("2", "W-2", "2026-03-10", "Site B"), testOrder("3", "W-3", "", "Site C")
	c.Custom = []scheduler.CustomField{{Name: "priority", Type: scheduler.FieldText, Value: "high"}}
	h.scrapeOrders(a, b, c)

	all, err := h.client.OrdersWhere(ctx, OrdersQuery{})
	if err != nil || fmt.Sprint(numbers(all)) != "[W-2 W-1 W-3]" {
		t.Fatalf("orders = %v, %v; want soonest visit first, no visit last", numbers(all), err)
	}
	for _, o := range all {
		if o.Mark != scheduler.MarkNew {
			t.Errorf("%s: mark %q after its first scrape, want new", o.Number, o.Mark)
		}
	}
	if n, err := h.client.MarkSeen(ctx, "1"); err != nil || n != 1 {
		t.Fatalf("MarkSeen(1) = %d, %v", n, err)
	}
	a.Instructions = "Ring twice"
	h.scrapeOrders(a, b, c)
	changed, err := h.client.OrdersWhere(ctx, OrdersQuery{Changed: true})
	if err != nil || fmt.Sprint(numbers(changed)) != "[W-1]" {
		t.Fatalf("changed orders = %v, %v", numbers(changed), err)
	}
	fresh, err := h.client.OrdersWhere(ctx, OrdersQuery{New: true, Sort: "-number"})
	if err != nil || fmt.Sprint(numbers(fresh)) != "[W-3 W-2]" {
		t.Fatalf("new orders by number, reversed = %v, %v", numbers(fresh), err)
	}
	bySort, err := h.client.OrdersWhere(ctx, OrdersQuery{Sort: "priority"})
	if err != nil || bySort[0].Number != "W-3" {
		t.Fatalf("orders sorted by a custom field = %v, %v", numbers(bySort), err)
	}

	d, err := h.client.OrderByNumber(ctx, "w-1")
	if err != nil || d.Order.PortalID != "1" || d.Order.Mark != scheduler.MarkChanged || len(d.History) != 1 ||
		d.History[0].Field != "instructions" || d.History[0].New != "Ring twice" {
		t.Fatalf("OrderByNumber(w-1) = %+v, %v", d, err)
	}
	if d2, err := h.client.Order(ctx, "1"); err != nil || d2.Order.Number != "W-1" || len(d2.History) != 1 {
		t.Errorf("Order(1) = %+v, %v", d2, err)
	}
	if hist, err := h.client.OrderHistory(ctx, "1"); err != nil || len(hist) != 1 {
		t.Errorf("OrderHistory(1) = %+v, %v", hist, err)
	}
	for _, call := range []func() error{
		func() error { _, err := h.client.OrderByNumber(ctx, "W-9"); return err },
		func() error { _, err := h.client.OrderHistory(ctx, "9"); return err },
		func() error { _, err := h.client.MarkSeen(ctx, "1", "9"); return err },
	} {
		if err := call(); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("unknown order: %v, want ErrNotFound", err)
		}
	}
	// The failed MarkSeen cleared nothing: W-1 is still changed.
	if d, _ := h.client.Order(ctx, "1"); d.Order.Mark != scheduler.MarkChanged {
		t.Errorf("W-1 mark %q after a refused MarkSeen", d.Order.Mark)
	}
	if n, err := h.client.MarkAllSeen(ctx); err != nil || n != 3 {
		t.Fatalf("MarkAllSeen = %d, %v; want 3", n, err)
	}
	if left, _ := h.client.OrdersWhere(ctx, OrdersQuery{New: true, Changed: true}); len(left) != 0 {
		t.Errorf("marked orders after Mark all seen: %v", numbers(left))
	}

	// A portal id with a slash and a space is one path segment.
	odd := testOrder("A/B 7", "W-7", "2026-03-20", "Site D")
	h.scrapeOrders(a, b, c, odd)
	if d, err := h.client.Order(ctx, "A/B 7"); err != nil || d.Order.Number != "W-7" {
		t.Errorf("Order(A/B 7) = %+v, %v", d.Order, err)
	}
	if n, err := h.client.MarkSeen(ctx, "A/B 7"); err != nil || n != 1 {
		t.Errorf("MarkSeen(A/B 7) = %d, %v", n, err)
	}

	for _, c := range []struct{ method, path, body, field string }{
		{"GET", "/api/orders?sort=colour", "", "sort"},
		{"GET", "/api/orders?new=maybe", "", "new"},
		{"GET", "/api/orders/1?by=site", "", "by"},
		{"POST", "/api/marks/seen", `{}`, "portal_ids"},
		{"POST", "/api/marks/seen", `{"all":true,"portal_ids":["1"]}`, "all"},
	} {
		if code, body := h.raw(c.method, c.path, c.body); code != 400 || body["field"] != c.field {
			t.Errorf("%s %s %s: %d %v, want 400 naming %s", c.method, c.path, c.body, code, body, c.field)
		}
	}
}

func numbers(orders []scheduler.Order) []string {
	var out []string
	for _, o := range orders {
		out = append(out, o.Number)
	}
	return out
}

func TestAlertsOutboxAndDeliveryInStatus(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	if st, err := h.client.Status(ctx); err != nil || st.Alerts != nil {
		t.Fatalf("status alerts = %+v, %v; want none while alerts flow", st.Alerts, err)
	}
	if err := h.db.EnqueueAlerts([]scheduler.Alert{{Kind: scheduler.AlertFailing, Title: "Scrapes are failing", Pushover: true}}); err != nil {
		t.Fatal(err)
	}
	refused := scheduler.AlertDelivery{Pending: 1, Remaining: -1, NeedsUser: &scheduler.DeliveryProblem{Field: "pushover_user_key",
		Message: "Pushover rejected the user key; fix it in Settings → Alerts"}}
	if err := h.db.SaveAlertDelivery(refused); err != nil {
		t.Fatal(err)
	}
	out, err := h.client.AlertsOutbox(ctx)
	if err != nil || len(out.Pending) != 1 || out.Pending[0].Title != "Scrapes are failing" || out.Delivery.NeedsUser == nil || out.Sent == nil {
		t.Fatalf("outbox = %+v, %v", out, err)
	}
	st, err := h.client.Status(ctx)
	if err != nil || st.Alerts == nil || st.Alerts.NeedsUser.Field != "pushover_user_key" {
		t.Fatalf("status alerts = %+v, %v; want the refused key", st.Alerts, err)
	}
}
