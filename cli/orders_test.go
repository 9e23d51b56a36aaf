package cli

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"worktray/control"
	"worktray/notify"
	"worktray/orderlist"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/store"
)

func cliOrders() []scheduler.Order {
	a := scheduler.Order{PortalID: "1", Number: "W-1", Customer: "Zeta Fuel", SiteName: "Site A", VisitDate: "2026-03-12",
		Address: scheduler.Address{Street: "1 Main St", City: "Springfield", State: "IL", Zip: "62701"}, VisitURL: "https://portal.example/1"}
	b := scheduler.Order{PortalID: "2", Number: "W-2", Customer: "Alpha Oil", SiteName: "Site B", VisitDate: "2026-03-10",
		Instructions: "Day 2 of 2\n\nBring the ladder.", VisitURL: "https://portal.example/2",
		Custom: []scheduler.CustomField{{Name: "dispensers", Label: "Dispensers", Type: scheduler.FieldInteger, Value: "6"}}}
	c := scheduler.Order{PortalID: "3", Number: "W-3", Customer: "Mid Gas", SiteName: "Site C", VisitDate: "2026-03-11"}
	return []scheduler.Order{a, b, c}
}

// scrapeThrough runs one scrape of the in-process owner that lists orders and waits for it.
func (o *inProcessOwner) scrapeThrough(t *testing.T, orders ...scheduler.Order) {
	t.Helper()
	o.scr.set(func(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
		return scheduler.ScrapeResult{Orders: orders, Complete: true, ListReads: 1}, nil
	})
	before := o.svc.Snapshot().LastRun
	if _, err := o.svc.ScrapeNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		s := o.svc.Snapshot()
		if s.Running == nil && s.LastRun != nil && (before == nil || s.LastRun.ID != before.ID) {
			if s.LastRun.Status != scheduler.StatusSucceeded {
				t.Fatalf("scrape %+v", s.LastRun)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the scrape did not finish")
		}
	}
}

// tableNumbers returns the NUMBER column of an orders table.
func tableNumbers(out string) []string {
	var nums []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[0], "W-") {
			nums = append(nums, f[0])
		} else if len(f) > 1 && strings.HasPrefix(f[1], "W-") {
			nums = append(nums, f[1])
		}
	}
	return nums
}

// The same rule in the CLI and the windows (which use the control routes): a mark stays until
// the order is seen, whichever of them saw it.
func TestOrdersMarksSameRuleAsTheWindow(t *testing.T) {
	o := startInProcessOwner(t)
	ctx := ctxT(t, 30*time.Second)
	o.scrapeThrough(t, cliOrders()...)
	window := control.NewClient(paths.Resolve(o.dir).Socket)
	defer window.Close()

	r := runMain(ctx, o.dir, "orders")
	if r.code != 0 || !slices.Equal(tableNumbers(r.stdout), []string{"W-2", "W-3", "W-1"}) || !strings.Contains(r.stdout, "3 not seen yet") {
		t.Fatalf("orders (soonest visit first):\n%s", r)
	}
	// The window opens W-1: the CLI no longer lists it as new.
	if _, err := window.MarkSeen(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if r := runMain(ctx, o.dir, "orders", "--new"); r.code != 0 || !slices.Equal(tableNumbers(r.stdout), []string{"W-2", "W-3"}) {
		t.Fatalf("orders --new after the window saw W-1:\n%s", r)
	}
	// The CLI shows W-2 in full and marks it seen: the window's list agrees.
	r = runMain(ctx, o.dir, "orders", "show", "w-2")
	for _, want := range []string{"W-2 (new)", "Customer:", "Alpha Oil", "Dispensers:", "6", "Instructions:\n  Day 2 of 2\n  \n  Bring the ladder.",
		"Portal:", "https://portal.example/2", "First seen:", "Last changed:", "No changes since it was first seen."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("orders show w-2 lacks %q:\n%s", want, r)
		}
	}
	fresh, err := window.OrdersWhere(ctx, control.OrdersQuery{New: true})
	if err != nil || len(fresh) != 1 || fresh[0].Number != "W-3" {
		t.Fatalf("the window's new orders after `orders show W-2`: %v, %v", fresh, err)
	}
	// A change marks a seen order changed, in both.
	changed := cliOrders()
	changed[0].Customer = "Zeta Fuel Ltd"
	o.scrapeThrough(t, changed...)
	if r := runMain(ctx, o.dir, "orders", "--changed"); !slices.Equal(tableNumbers(r.stdout), []string{"W-1"}) {
		t.Fatalf("orders --changed:\n%s", r)
	}
	r = runMain(ctx, o.dir, "orders", "show", "W-1")
	if !strings.Contains(r.stdout, "customer: Zeta Fuel → Zeta Fuel Ltd") {
		t.Errorf("orders show W-1 lacks the change:\n%s", r)
	}
	if d, _ := window.Order(ctx, "1"); d.Order.Mark != scheduler.MarkNone || len(d.History) != 1 {
		t.Errorf("the window sees W-1 as %+v after `orders show`", d)
	}
	if r := runMain(ctx, o.dir, "orders", "--new", "--changed"); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "W-3") || strings.Contains(r.stdout, "W-1") {
		t.Errorf("orders --new --changed:\n%s", r)
	}

	if r := runMain(ctx, o.dir, "orders", "--sort", "-customer"); !slices.Equal(tableNumbers(r.stdout), []string{"W-1", "W-3", "W-2"}) {
		t.Errorf("orders --sort -customer:\n%s", r)
	}
	if r := runMain(ctx, o.dir, "orders", "--sort", "colour"); r.code != ExitUsage && r.code != ExitError || !strings.Contains(r.stderr, `"colour"`) {
		t.Errorf("orders --sort colour:\n%s", r)
	}
	if r := runMain(ctx, o.dir, "orders", "show", "W-9"); r.code != ExitError || !strings.Contains(r.stderr, `no work order "W-9"`) {
		t.Errorf("orders show W-9:\n%s", r)
	}
	if r := runMain(ctx, o.dir, "orders", "--csv", "--ics"); r.code != ExitUsage {
		t.Errorf("orders --csv --ics:\n%s", r)
	}
}

func TestOrdersExportCSVAndCalendar(t *testing.T) {
	o := startInProcessOwner(t)
	ctx := ctxT(t, 30*time.Second)
	o.scrapeThrough(t, cliOrders()...)
	file := filepath.Join(t.TempDir(), "orders.csv")
	r := runMain(ctx, o.dir, "orders", "--csv", "--output", file)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "wrote 3 work orders (CSV) to "+file {
		t.Fatalf("orders --csv --output:\n%s", r)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV rows %d, %v", len(rows), err)
	}
	// The window's columns: the shared orderlist columns, custom fields included.
	var want []string
	for _, c := range orderlist.Columns(cliOrders()) {
		want = append(want, c.Key)
	}
	if !slices.Equal(rows[0], want) || !slices.Contains(rows[0], "dispensers") {
		t.Errorf("CSV header %v, want %v", rows[0], want)
	}
	r = runMain(ctx, o.dir, "orders", "--csv")
	if r.code != 0 || !strings.HasPrefix(r.stdout, strings.Join(want, ",")) || !strings.Contains(r.stderr, "wrote 3 work orders (CSV) to standard output") {
		t.Errorf("orders --csv:\n%s", r)
	}
	r = runMain(ctx, o.dir, "orders", "--ics")
	cal, err := ics.ParseCalendar(strings.NewReader(r.stdout))
	if r.code != 0 || err != nil || len(cal.Events()) != 3 || !strings.Contains(r.stderr, "wrote 3 visits") {
		t.Fatalf("orders --ics: %v\n%s", err, r)
	}
	bad := filepath.Join(t.TempDir(), "missing", "orders.csv")
	if r := runMain(ctx, o.dir, "orders", "--csv", "--output", bad); r.code != ExitError || !strings.Contains(r.stderr, bad) {
		t.Errorf("orders --csv --output into a missing directory:\n%s", r)
	}
}

// With no owner the orders are read from the store; showing one cannot mark it seen, and says so.
func TestOrdersWithoutOwner(t *testing.T) {
	dir := shortTempDir(t)
	p := paths.Resolve(dir)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.ClaimRun(scheduler.Run{Trigger: scheduler.TriggerManual, Status: scheduler.StatusRunning})
	if err != nil {
		t.Fatal(err)
	}
	run.Status = scheduler.StatusSucceeded
	if _, _, err := db.FinishRun(run, cliOrders(), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(notify.SettingsKey, notify.Settings{PushoverEnabled: true, DesktopEnabled: true, FailureThreshold: 2}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveAlertDelivery(scheduler.AlertDelivery{Remaining: -1, Pending: 1, NeedsUser: &scheduler.DeliveryProblem{
		Field: "pushover_token", Message: "Pushover rejected the API token; fix it in Settings → Alerts"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ctx := ctxT(t, 30*time.Second)
	r := runMain(ctx, dir, "orders", "--new", "--sort", "number")
	if r.code != 0 || !strings.Contains(r.stdout, notRunningNote) || !slices.Equal(tableNumbers(r.stdout), []string{"W-1", "W-2", "W-3"}) {
		t.Fatalf("orders --new without owner:\n%s", r)
	}
	r = runMain(ctx, dir, "orders", "show", "W-3")
	if r.code != 0 || !strings.Contains(r.stdout, "W-3 (new)") || !strings.Contains(r.stdout, "stays marked new") {
		t.Fatalf("orders show without owner:\n%s", r)
	}
	r = runMain(ctx, dir, "alerts", "show")
	for _, want := range []string{"Alert settings:", "✗ Pushover rejected the API token", "Outbox: 0 waiting"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("alerts show without owner lacks %q:\n%s", want, r)
		}
	}
	r = runMain(ctx, dir, "status")
	if !strings.Contains(r.stdout, "Alerts:    Pushover rejected the API token") {
		t.Errorf("status does not show the refused key:\n%s", r)
	}
}
