package notify

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"worktray/scheduler"
)

// Redactor scrubs secret values out of a text. *secret.Redactor implements it.
type Redactor interface {
	Redact(s string) string
}

// Policy decides which alerts the scheduler's outcomes raise. It implements
// scheduler.AlertPolicy. It does no I/O and never blocks; it is safe for concurrent use.
//
// Ownership of the scheduler.State fields: the scheduler updates ConsecutiveFailures,
// FailingSince, LastError and LastErrorClass for the run's outcome BEFORE it calls RunFinished
// (a failure increments ConsecutiveFailures, sets FailingSince if it was zero and sets
// LastError/LastErrorClass; a success resets ConsecutiveFailures to 0 and FailingSince to zero;
// a canceled run leaves them alone). The policy reads those and owns FailureAlerted and
// LastFailureAlert, which it sets when it raises a failure alert or a reminder and clears on
// recovery. Nobody else writes those two.
//
// The alerts it raises:
//   - missed slots: one alert for a coalesced missed record, naming the slots (high priority);
//   - failing: when ConsecutiveFailures reaches the threshold and no failure alert is active
//     (high priority), then a reminder every re-notify interval while still failing, from
//     RunFinished of a failed run or from Tick;
//   - recovered: the first success after an alerted failure (normal priority);
//   - large drop: a run flagged LargeDrop, if enabled (normal priority);
//   - new orders: desktop only by default (low priority on Pushover).
//
// Every alert asks for desktop delivery when desktop notifications are on; Pushover is asked for
// every kind but new orders (per settings); whether Pushover is enabled at all is the
// Notifier's decision at delivery time.
type Policy struct {
	mu       sync.Mutex
	settings Settings
	loc      *time.Location
	redact   Redactor
}

// NewPolicy returns a policy with the given settings, formatting times in loc (the schedule's
// zone; nil means time.Local). redact, which may be nil, scrubs every message before it reaches
// the outbox.
func NewPolicy(s Settings, loc *time.Location, redact Redactor) *Policy {
	if loc == nil {
		loc = time.Local
	}
	return &Policy{settings: s, loc: loc, redact: redact}
}

// SetSettings replaces the alert settings. The Notifier calls it after reading them.
func (p *Policy) SetSettings(s Settings) {
	p.mu.Lock()
	p.settings = s
	p.mu.Unlock()
}

// SetLocation sets the zone times are shown in (the schedule's). The owner calls it when the
// schedule changes.
func (p *Policy) SetLocation(loc *time.Location) {
	if loc == nil {
		return
	}
	p.mu.Lock()
	p.loc = loc
	p.mu.Unlock()
}

func (p *Policy) snapshot() (Settings, *time.Location) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings, p.loc
}

var _ scheduler.AlertPolicy = (*Policy)(nil)

// RunFinished implements scheduler.AlertPolicy. See Policy for what it raises and which State
// fields it owns.
func (p *Policy) RunFinished(run *scheduler.Run, diff scheduler.Diff, st *scheduler.State, now time.Time) []scheduler.Alert {
	s, loc := p.snapshot()
	now = now.UTC()
	var out []scheduler.Alert
	add := func(a scheduler.Alert) {
		a.Created = now
		a.RunID = run.ID
		a.Desktop = a.Desktop && s.DesktopEnabled
		out = append(out, p.scrub(a))
	}

	switch run.Status {
	case scheduler.StatusMissed:
		add(missedAlert(run, loc))
		return out
	case scheduler.StatusSucceeded:
		if st.FailureAlerted {
			add(recoveredAlert(run, st, loc, now))
			st.FailureAlerted = false
			st.LastFailureAlert = time.Time{}
			st.AlertedFailingSince = time.Time{}
		}
		if run.LargeDrop && s.LargeDropAlert {
			add(largeDropAlert(run, diff))
		}
		if n := len(diff.New); n > 0 && (s.NewOrdersDesktop || s.NewOrdersPushover) {
			add(scheduler.Alert{
				Kind:     scheduler.AlertNewOrders,
				Title:    plural(n, "new work order", "new work orders"),
				Message:  newOrdersMessage(n, run.Found, diff.NewNumbers, diff.NewSites),
				Priority: -1,
				Pushover: s.NewOrdersPushover,
				Desktop:  s.NewOrdersDesktop,
			})
		}
	case scheduler.StatusFailed, scheduler.StatusInterrupted:
		if a, ok := p.failing(s, st, loc, now); ok {
			add(a)
		}
	}
	// Canceled runs neither fail nor recover.
	return out
}

// Tick raises the re-notify reminder when a failure alert is active, the scraper is still failing
// and the re-notify interval has passed since the last failure alert; it updates st accordingly.
// The owner calls it periodically (the Notifier does, when given a StateStore) inside a state
// update, and enqueues what it returns. It raises nothing while paused.
func (p *Policy) Tick(now time.Time, st *scheduler.State) []scheduler.Alert {
	s, loc := p.snapshot()
	if st.Paused || !st.FailureAlerted {
		return nil
	}
	a, ok := p.failing(s, st, loc, now.UTC())
	if !ok {
		return nil
	}
	a.Created = now.UTC()
	a.Desktop = a.Desktop && s.DesktopEnabled
	return []scheduler.Alert{p.scrub(a)}
}

// failing decides the failure alert (first or reminder) and updates st when it raises one.
func (p *Policy) failing(s Settings, st *scheduler.State, loc *time.Location, now time.Time) (scheduler.Alert, bool) {
	if st.ConsecutiveFailures < max(s.FailureThreshold, 1) {
		return scheduler.Alert{}, false
	}
	reminder := st.FailureAlerted
	if reminder && (s.renotify() <= 0 || now.Sub(st.LastFailureAlert) < s.renotify()) {
		return scheduler.Alert{}, false
	}
	if !reminder {
		st.AlertedFailingSince = st.FailingSince
	}
	st.FailureAlerted = true
	st.LastFailureAlert = now
	return failingAlert(st, loc, now, reminder), true
}

func (p *Policy) scrub(a scheduler.Alert) scheduler.Alert {
	if p.redact != nil {
		a.Title = p.redact.Redact(a.Title)
		a.Message = p.redact.Redact(a.Message)
	}
	return a
}

func missedAlert(run *scheduler.Run, loc *time.Location) scheduler.Alert {
	slots := run.MissedSlots
	if len(slots) == 0 && !run.Slot.IsZero() {
		slots = []time.Time{run.Slot}
	}
	n := len(slots)
	title := fmt.Sprintf("%s missed", plural(n, "scheduled scrape", "scheduled scrapes"))
	var b strings.Builder
	switch {
	case n == 0:
		b.WriteString("A scheduled scrape did not happen.")
	case n == 1:
		fmt.Fprintf(&b, "The scrape due at %s did not happen.", formatInstant(slots[0], loc, time.Time{}))
	default:
		first, last := slots[0], slots[n-1]
		fmt.Fprintf(&b, "%d slots missed, %s–%s", n, formatInstant(first, loc, time.Time{}), formatInstant(last, loc, first))
		if n <= 24 {
			names := make([]string, n)
			for i, s := range slots {
				names[i] = s.In(loc).Format("15:04")
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(names, ", "))
		}
		b.WriteString(".")
	}
	fmt.Fprintf(&b, " Times are in %s.", loc)
	b.WriteString(" worktray was not running, was busy, or the computer was asleep.")
	if run.CatchUp {
		b.WriteString(" A catch-up scrape runs now;")
	} else {
		b.WriteString(" No catch-up scrape runs (catch-up is off in Settings → Schedule): the next slot brings the orders up to date;")
	}
	b.WriteString(" to avoid this, keep worktray running (Settings → General → Start at login).")
	return scheduler.Alert{Kind: scheduler.AlertMissed, Title: title, Message: b.String(), Priority: 1, Pushover: true, Desktop: true}
}

func failingAlert(st *scheduler.State, loc *time.Location, now time.Time, reminder bool) scheduler.Alert {
	title := "Scrapes are failing"
	if reminder {
		title = "Scrapes are still failing"
	}
	var b strings.Builder
	switch st.LastErrorClass {
	case scheduler.ClassConfig, scheduler.ClassStorageFailed:
		// Not the portal failing: worktray's own settings or store.
		fmt.Fprintf(&b, "The last %d scrapes could not be done", st.ConsecutiveFailures)
	default:
		fmt.Fprintf(&b, "The last %d scrapes of the work-order portal failed", st.ConsecutiveFailures)
	}
	if !st.FailingSince.IsZero() {
		fmt.Fprintf(&b, "; failing since %s", formatInstant(st.FailingSince, loc, now))
	}
	b.WriteString(".")
	what, todo := explain(st.LastErrorClass)
	fmt.Fprintf(&b, " Last error: %s", what)
	if st.LastError != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSuffix(st.LastError, "."))
	}
	fmt.Fprintf(&b, ". What to do: %s", todo)
	return scheduler.Alert{Kind: scheduler.AlertFailing, Title: title, Message: b.String(), Priority: 1, Pushover: true, Desktop: true}
}

func recoveredAlert(run *scheduler.Run, st *scheduler.State, loc *time.Location, now time.Time) scheduler.Alert {
	var b strings.Builder
	at := run.Finished
	if at.IsZero() {
		at = now
	}
	fmt.Fprintf(&b, "The scrape at %s succeeded with %s", formatInstant(at, loc, now), plural(run.Found, "work order", "work orders"))
	since := st.AlertedFailingSince
	if since.IsZero() {
		since = st.FailingSince // set when the scheduler clears it only after the policy
	}
	if !since.IsZero() && at.After(since) {
		fmt.Fprintf(&b, "; scrapes had failed for %s (since %s)", Span(at.Sub(since)), formatInstant(since, loc, now))
	}
	b.WriteString(". Scrapes work again; nothing to do.")
	return scheduler.Alert{Kind: scheduler.AlertRecovered, Title: "Scrapes work again", Message: b.String(), Priority: 0, Pushover: true, Desktop: true}
}

func largeDropAlert(run *scheduler.Run, diff scheduler.Diff) scheduler.Alert {
	gone := fmt.Sprintf("%d removed", len(diff.Removed))
	if n := len(diff.Missing); n > 0 {
		// Not removed yet: a second complete read must confirm it.
		gone = fmt.Sprintf("%s, %d missing: kept, and removed only if the next scrape lacks them too", gone, n)
	}
	msg := fmt.Sprintf("The last scrape found %s where there were %d before (%s)."+
		" Check the portal in a browser: if the orders are really gone nothing needs doing;"+
		" if they are still there, the portal profile may need updating.",
		plural(run.Found, "work order", "work orders"), diff.Previous, gone)
	return scheduler.Alert{Kind: scheduler.AlertLargeDrop, Title: "Many work orders disappeared", Message: msg, Priority: 0, Pushover: true, Desktop: true}
}

// newOrdersMessage names the first few new orders with their sites: "3 new work orders:
// W-100231 (Store 12), W-100232 (Store 4), W-100240 (Store 9) and 2 more (52 open in total)".
func newOrdersMessage(n, found int, numbers, sites []string) string {
	head := plural(n, "new work order", "new work orders")
	if len(numbers) > 0 {
		const show = 3
		names := make([]string, 0, show)
		for i, num := range numbers[:min(show, len(numbers))] {
			if i < len(sites) && strings.TrimSpace(sites[i]) != "" {
				num += " (" + strings.TrimSpace(sites[i]) + ")"
			}
			names = append(names, num)
		}
		list := strings.Join(names, ", ")
		if len(numbers) > show {
			list += fmt.Sprintf(" and %d more", len(numbers)-show)
		}
		head += ": " + list
	}
	return fmt.Sprintf("%s (%d open in total). Open worktray → Work orders to see them.", head, found)
}

// Span says a duration in words, to the minute: "45 min", "3 h 20 min", "2 days 4 h".
func Span(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	default:
		days, h := int(d.Hours())/24, int(d.Hours())%24
		s := plural(days, "day", "days")
		if h > 0 {
			s += fmt.Sprintf(" %d h", h)
		}
		return s
	}
}

// explain turns an error class into plain words and what to do about it.
func explain(c scheduler.ErrorClass) (what, todo string) {
	switch c {
	case scheduler.ClassLoginFailed:
		return "the portal did not accept the login", "check the username and password in Settings → Portal and use “Test login”."
	case scheduler.ClassTimeout:
		return "the portal did not answer in time", "check the network connection and whether the portal opens in a browser; worktray keeps trying."
	case scheduler.ClassLayoutChanged:
		return "the work-order list did not look as expected", "the portal's pages may have changed; look at the screenshot in History and update the portal profile."
	case scheduler.ClassBrowserFailed:
		return "the browser (Chromium) could not start or crashed", "check that Chromium is installed and run “worktray diagnose”."
	case scheduler.ClassCanceled:
		return "the scrape was canceled", "start one with “Scrape now” when ready."
	case scheduler.ClassPortalError:
		return "the portal reported an error", "open the portal in a browser to see whether it works; worktray keeps trying."
	case scheduler.ClassConfig:
		return "the portal settings cannot be used (no portal set up, or its profile is missing)",
			"set up the portal in Settings → Portal or with “worktray portal set”; scrapes cannot work until then."
	case scheduler.ClassStorageFailed:
		return "worktray could not save its data", "free space on the disk that holds worktray's data folder (or fix its permissions); the next scrape tries again."
	default:
		return "the scrape failed", "open worktray → History for the details; worktray keeps trying."
	}
}

// formatInstant shows t in loc: "07:30" when on the same local day as ref, else "Mon 2 Mar 07:30".
func formatInstant(t time.Time, loc *time.Location, ref time.Time) string {
	lt := t.In(loc)
	if !ref.IsZero() {
		rt := ref.In(loc)
		if y, m, d := lt.Date(); rt.Year() == y && rt.Month() == m && rt.Day() == d {
			return lt.Format("15:04")
		}
	}
	return lt.Format("Mon 2 Jan 15:04")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
