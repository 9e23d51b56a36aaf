package screens

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"worktray/notify"
	"worktray/scheduler"
	"worktray/store"
)

var (
	london = mustZone("Europe/London")
	now    = time.Date(2026, 3, 10, 9, 45, 0, 0, time.UTC)
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }

// testOptions run everything at once, on the test's goroutine.
func testOptions() Options {
	return Options{Location: london, Now: func() time.Time { return now }, Go: func(f func()) { f() }, Do: func(f func()) { f() }}
}

// fake is a backend that records calls.
type fake struct {
	mu    sync.Mutex
	calls []string
	err   error

	runs      []scheduler.Run
	orders    []scheduler.Order
	changes   map[string][]scheduler.OrderChange
	sched     scheduler.Schedule
	portal    Portal
	alerts    Alerts
	retention store.Retention
	revs      map[string]Revision
}

func (f *fake) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return f.err
}

func (f *fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fake) ScrapeNow(context.Context) error { return f.record("scrape") }
func (f *fake) Cancel(context.Context) error    { return f.record("cancel") }
func (f *fake) Pause(context.Context) error     { return f.record("pause") }
func (f *fake) Resume(context.Context) error    { return f.record("resume") }
func (f *fake) History(_ context.Context, n int, failed bool) ([]scheduler.Run, error) {
	return f.runs, f.record("history %d %v", n, failed)
}
func (f *fake) Orders(_ context.Context, removed bool) ([]scheduler.Order, error) {
	return f.orders, f.record("orders %v", removed)
}
func (f *fake) OrderHistory(_ context.Context, id string) ([]scheduler.OrderChange, error) {
	return f.changes[id], f.record("history of %s", id)
}
func (f *fake) MarkSeen(_ context.Context, ids ...string) error {
	return f.record("seen %v", ids)
}
func (f *fake) MarkAllSeen(context.Context) error { return f.record("all seen") }

// The settings fakes keep a revision per setting: every save increases it, and a save based on
// another revision is refused as the owner refuses it.
func (f *fake) revision(setting string) Revision {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revs[setting]
}

// bump stands for a save from elsewhere.
func (f *fake) bump(setting string) { f.mu.Lock(); defer f.mu.Unlock(); f.revs[setting]++ }

func (f *fake) save(setting string, rev Revision, format string, args ...any) (Revision, error) {
	if err := f.record(format, args...); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev != f.revs[setting] {
		return 0, fmt.Errorf("saving %s at revision %d, the owner has %d: %w", setting, rev, f.revs[setting], ErrStaleSettings)
	}
	f.revs[setting]++
	return f.revs[setting], nil
}

func (f *fake) Schedule(context.Context) (scheduler.Schedule, Revision, error) {
	return f.sched, f.revision("schedule"), nil
}
func (f *fake) SaveSchedule(_ context.Context, s scheduler.Schedule, rev Revision) (Revision, error) {
	return f.save("schedule", rev, "save schedule minute=%d", s.Minute)
}
func (f *fake) Portal(context.Context) (Portal, error) {
	p := f.portal
	p.Revision = f.revision("portal")
	return p, nil
}
func (f *fake) SavePortal(_ context.Context, p PortalChange, rev Revision) (Revision, error) {
	return f.save("portal", rev, "save portal url=%q profile=%q username=%q password=%v", p.URL, p.Profile, p.Username, p.Password != nil)
}
func (f *fake) TestLogin(context.Context) (string, error) { return "logged in", f.record("test login") }
func (f *fake) TestProfile(context.Context) (string, error) {
	return "Read 25 rows on 1 list page and 3 detail pages.", f.record("test profile")
}
func (f *fake) Alerts(context.Context) (Alerts, error) {
	a := f.alerts
	a.Revision = f.revision("alerts")
	return a, nil
}
func (f *fake) SaveAlerts(_ context.Context, a AlertsChange, rev Revision) (Revision, error) {
	return f.save("alerts", rev, "save alerts %s", alertsDiff(a))
}
func (f *fake) SendTestAlert(context.Context) (string, error) { return "sent", f.record("send test") }
func (f *fake) Retention(context.Context) (store.Retention, Revision, error) {
	return f.retention, f.revision("retention"), nil
}
func (f *fake) SaveRetention(_ context.Context, r store.Retention, rev Revision) (Revision, error) {
	return f.save("retention", rev, "save retention keep_runs=%d", r.KeepRuns)
}

// alertsDiff names the fields an alerts change saves: those that differ from the base, and the
// keys that are set.
func alertsDiff(a AlertsChange) string {
	var out []string
	s, b := reflect.ValueOf(a.Settings), reflect.ValueOf(a.Base)
	for i := range s.NumField() {
		if !reflect.DeepEqual(s.Field(i).Interface(), b.Field(i).Interface()) {
			out = append(out, s.Type().Field(i).Name)
		}
	}
	if a.Token != nil {
		out = append(out, "token")
	}
	if a.UserKey != nil {
		out = append(out, "user key")
	}
	return strings.Join(out, ",")
}

func defaultSchedule() scheduler.Schedule {
	s := scheduler.DefaultSchedule("Europe/London")
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

func newFake() *fake {
	return &fake{sched: defaultSchedule(), revs: map[string]Revision{},
		portal: Portal{URL: "http://127.0.0.1:8099/login", Profile: "demo", Username: "tech@example.com", PasswordSet: true},
		alerts: Alerts{Settings: notify.DefaultSettings()}, retention: store.DefaultRetention()}
}

// manyRuns makes n finished runs, newest first, every hour back from now; every seventh failed.
func manyRuns(n int) []scheduler.Run {
	runs := make([]scheduler.Run, n)
	for i := range runs {
		start := at(9, 30).Add(-time.Duration(i) * time.Hour)
		r := scheduler.Run{ID: uint64(n - i), Trigger: scheduler.TriggerScheduled, Slot: start, Attempt: 1,
			Started: start, Status: scheduler.StatusSucceeded,
			Found: 40 + (i*7)%25, New: i % 3, Changed: i % 2, Removed: i % 4 / 3,
			Duration: time.Duration(3000+(i*733)%4000) * time.Millisecond}
		if i%7 == 3 {
			r.Status, r.ErrorClass, r.Message = scheduler.StatusFailed, scheduler.ClassTimeout, "the list page did not load within 30s"
			r.Found, r.New, r.Changed, r.Removed = 0, 0, 0, 0
			r.Artifacts = []string{"/data/artifacts/run-" + fmt.Sprint(r.ID) + ".png", "/data/artifacts/run-" + fmt.Sprint(r.ID) + ".html"}
		}
		r.Finished = start.Add(r.Duration)
		runs[i] = r
	}
	return runs
}
