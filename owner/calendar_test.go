package owner

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"worktray/calendar"
	"worktray/control"
	"worktray/paths"
	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// The owner keeps visits.ics beside the store current: after a real scrape of the demo portal
// (Chromium), the file holds one event per order with a visit, each with its order's UID, and
// the status names the file.
func TestOwnerKeepsVisitsCalendar(t *testing.T) {
	requireChromium(t)
	if testing.Short() {
		t.Skip("a real browser scrape")
	}
	portal := demoportal.New(demoportal.Options{Seed: 3, Count: 12})
	base, stopPortal, err := portal.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stopPortal()
	p := paths.Resolve(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Paths: p, Headless: true, Stderr: io.Discard}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	c := control.NewClient(p.Socket)
	defer c.Close()
	eventually(t, "the owner's socket", 10*time.Second, func() bool { _, err := c.Status(ctx); return err == nil })
	path := calendar.Path(p.DB)
	st, err := c.Status(ctx)
	if err != nil || st.Owner == nil || st.Owner.VisitsFile != path {
		t.Fatalf("status names the visits file %q (%v), want %s", st.Owner.VisitsFile, err, path)
	}
	// Written at start, with no orders yet.
	eventually(t, "visits.ics at start", 10*time.Second, func() bool { _, err := os.Stat(path); return err == nil })

	pw := demoportal.DefaultPassword
	if _, err := c.SetPortal(ctx, control.PortalInput{URL: base, Profile: "demo", Username: demoportal.DefaultEmail, Password: &pw}); err != nil {
		t.Fatalf("portal set: %v", err)
	}
	run, err := c.Scrape(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the scrape", 60*time.Second, func() bool {
		r, err := c.Run(ctx, run.ID)
		return err == nil && r.Status.Finished()
	})
	orders, err := c.Orders(ctx, false)
	if err != nil || len(orders) != 12 {
		t.Fatalf("orders = %d, %v", len(orders), err)
	}
	var cal *ics.Calendar
	eventually(t, "visits.ics with the scraped orders", 10*time.Second, func() bool {
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		defer f.Close()
		cal, err = ics.ParseCalendar(f)
		return err == nil && len(cal.Events()) == 12
	})
	uids := map[string]bool{}
	for _, e := range cal.Events() {
		uids[e.Id()] = true
	}
	for _, o := range orders {
		if !uids[calendar.UID(o.PortalID)] {
			t.Errorf("no event for order %s (%s)", o.Number, o.PortalID)
		}
		if o.Mark != scheduler.MarkNew {
			t.Errorf("order %s: mark %q after its first scrape", o.Number, o.Mark)
		}
	}
}
