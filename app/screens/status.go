package screens

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// StatusActions is what the status window asks of the owner. Each call blocks until the owner
// answered.
type StatusActions interface {
	ScrapeNow(ctx context.Context) error
	Cancel(ctx context.Context) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// Owner is the running owner process as the status window shows it.
type Owner struct {
	PID     int
	Started time.Time // UTC
}

// Status is the status window's content: the next and last run, a banner when something is
// wrong (or no portal is set up, with a button to set one up), live progress with Cancel, the
// next five runs, Scrape now, Pause/Resume, and buttons that open the other windows.
type Status struct {
	act  StatusActions
	opts Options
	snap view.Situation
	// Open opens another window by its name (history, orders, settings, portal); nil hides the
	// buttons. The ui process sets it.
	open func(name string)

	banner                         *bannerBox
	setup                          *widget.Button
	owner                          *widget.Label
	ownerInfo                      *Owner
	next, last, lastDetail, orders *widget.Label
	progress                       *widget.ProgressBar
	stage                          *widget.Label
	cancel                         *widget.Button
	progressBox                    *fyne.Container
	upcoming                       *widget.Label
	scrape, pause                  *widget.Button
	windows                        *fyne.Container
	message                        *widget.Label
	box                            *fyne.Container
	content                        fyne.CanvasObject
}

// NewStatus returns the status screen; call Update with a situation to fill it. open opens
// another window by name (history, orders, settings, portal); nil leaves those buttons out.
func NewStatus(act StatusActions, opts Options, open func(name string)) *Status {
	s := &Status{act: act, opts: opts.withDefaults(), open: open}
	s.banner = newBannerBox()
	s.setup = widget.NewButton("Set up your portal…", func() { s.openWindow("portal") })
	s.setup.Importance = widget.HighImportance
	s.setup.Hide()
	s.owner = widget.NewLabel("—")
	s.next = widget.NewLabel("—")
	s.last = widget.NewLabel("—")
	s.lastDetail = widget.NewLabel("")
	s.lastDetail.Wrapping = fyne.TextWrapWord
	s.orders = widget.NewLabel("—")
	s.progress = widget.NewProgressBar()
	s.stage = widget.NewLabel("")
	s.cancel = widget.NewButton("Cancel", s.onCancel)
	s.progressBox = container.NewVBox(
		container.NewBorder(nil, nil, nil, s.cancel, s.progress),
		s.stage,
	)
	s.progressBox.Hide()
	s.upcoming = widget.NewLabel("—")
	s.scrape = widget.NewButton("Scrape now", s.onScrape)
	s.scrape.Importance = widget.HighImportance
	s.pause = widget.NewButton("Pause", s.onPause)
	s.message = errorLabel()
	s.windows = container.NewHBox()
	if open != nil {
		for _, w := range []struct{ label, name string }{{"History…", "history"}, {"Work orders…", "orders"}, {"Settings…", "settings"}} {
			s.windows.Add(widget.NewButton(w.label, func() { s.openWindow(w.name) }))
		}
	}

	grid := container.New(layout.NewFormLayout(),
		heading("Next run"), s.next,
		heading("Last run"), container.NewVBox(s.last, s.lastDetail),
		heading("Work orders"), s.orders,
		heading("Coming up"), s.upcoming,
		heading("worktray"), s.owner,
	)
	s.box = container.NewVBox(
		s.banner.box,
		container.NewHBox(s.setup),
		grid,
		s.progressBox,
		layout.NewSpacer(),
		container.NewBorder(nil, nil, container.NewHBox(s.scrape, s.pause), s.windows),
		s.message,
	)
	s.content = container.NewPadded(s.box)
	return s
}

// Content returns the screen's root object.
func (s *Status) Content() fyne.CanvasObject { return s.content }

// SetError shows a problem reaching the owner under the buttons; "" clears it.
func (s *Status) SetError(text string) {
	if s.message.Text == text {
		return
	}
	setMessage(s.message, text)
	s.box.Refresh()
}

// Situation returns the situation the screen shows.
func (s *Status) Situation() view.Situation { return s.snap }

// SetOwner says which owner process answers; nil when none runs. The next Update shows it.
func (s *Status) SetOwner(o *Owner) { s.ownerInfo = o }

func (s *Status) openWindow(name string) {
	if s.open != nil {
		s.open(name)
	}
}

// Update shows snap. It must run on Fyne's goroutine.
func (s *Status) Update(snap view.Situation) {
	s.snap = snap
	loc, now := s.opts.Location, snap.Now
	if now.IsZero() {
		now = s.opts.Now()
	}
	banner := view.BannerFor(snap, loc)
	s.banner.set(banner)
	// The failing banner names the error and its message: the last run's line does not repeat
	// them.
	failingShown := banner.Severity == view.SeverityError && view.Failing(snap.Snapshot)

	switch {
	case snap.NoPortal:
		s.next.SetText("Nothing runs until a portal is set up")
	case snap.Paused:
		s.next.SetText("Paused: nothing runs until you resume")
	case !snap.Schedule.Enabled && snap.Next.IsZero():
		s.next.SetText("The schedule is off")
	case view.Stuck(snap.Snapshot):
		s.next.SetText("None planned: scheduling is stuck")
	case snap.Overdue():
		due := view.Due(snap.OverdueSlot, now, loc)
		s.next.SetText(strings.ToUpper(due[:1]) + due[1:] + " (" + view.Span(now.Sub(snap.OverdueSlot)) + " late)")
	case snap.Next.IsZero():
		s.next.SetText("No run is scheduled")
	default:
		s.next.SetText(fmt.Sprintf("%s (%s)", view.Clock(snap.Next, now, loc), view.Relative(snap.Next, now)))
	}

	if r := snap.LastRun; r == nil {
		s.last.SetText("Never: no scrape has finished yet")
		setMessage(s.lastDetail, "")
	} else {
		at := r.Finished
		if at.IsZero() {
			at = r.Started
		}
		outcome := runOutcome(r)
		if failingShown && (r.Status == scheduler.StatusFailed || r.Status == scheduler.StatusInterrupted) {
			outcome = "✗ " + string(r.Status) // the banner above says why
		}
		s.last.SetText(fmt.Sprintf("%s (%s) · %s · %s", view.Clock(at, now, loc), view.Relative(at, now),
			outcome, view.RunDuration(r)))
		setMessage(s.lastDetail, runDetail(r, !failingShown))
	}
	if snap.LastSuccess != nil && snap.LastRun != nil && snap.LastSuccess.ID != snap.LastRun.ID {
		s.orders.SetText(fmt.Sprintf("%s stored (last good scrape %s)", view.Plural(snap.Orders, "order", "orders"),
			view.Clock(snap.LastSuccess.Finished, now, loc)))
	} else {
		s.orders.SetText(view.Plural(snap.Orders, "order", "orders") + " stored")
	}

	if len(snap.NextRuns) == 0 || snap.NoPortal {
		s.upcoming.SetText("—")
	} else {
		parts := make([]string, len(snap.NextRuns))
		for i, t := range snap.NextRuns {
			parts[i] = view.Clock(t, now, loc)
		}
		s.upcoming.SetText(strings.Join(parts, ", "))
	}

	if o := s.ownerInfo; o != nil {
		s.owner.SetText(fmt.Sprintf("running since %s (up %s), process %d", view.Clock(o.Started, now, loc),
			view.Uptime(now.Sub(o.Started)), o.PID))
	} else {
		s.owner.SetText("—")
	}
	if snap.NoPortal {
		s.setup.Show()
	} else {
		s.setup.Hide()
	}

	if snap.Running != nil {
		p := scheduler.Progress{Stage: scheduler.StageStarting}
		if snap.Progress != nil {
			p = *snap.Progress
		}
		s.progress.SetValue(float64(p.Percent) / 100)
		s.stage.SetText(fmt.Sprintf("%s scrape since %s: %s", strings.ToUpper(string(snap.Running.Trigger[:1]))+string(snap.Running.Trigger[1:]),
			view.Clock(snap.Running.Started, now, loc), view.StageText(p)))
		s.progressBox.Show()
		s.scrape.Disable()
		s.cancel.Enable()
	} else {
		s.progressBox.Hide()
		if snap.NoPortal {
			s.scrape.Disable() // nothing to scrape yet
		} else {
			s.scrape.Enable()
		}
	}
	if snap.Paused {
		s.pause.SetText("Resume")
	} else {
		s.pause.SetText("Pause")
	}
	s.box.Refresh() // the banner, the details or the progress may have appeared or gone
}

// runOutcome is a run's status in words: "succeeded, 52 orders (3 new)".
func runOutcome(r *scheduler.Run) string {
	switch r.Status {
	case scheduler.StatusSucceeded:
		out := "✓ " + view.Plural(r.Found, "order", "orders")
		if ch := r.Changes(); ch != "" {
			out += " (" + ch + ")"
		}
		return out
	case scheduler.StatusCanceled:
		return "canceled"
	case scheduler.StatusInterrupted:
		return "✗ interrupted"
	case scheduler.StatusMissed:
		return "missed"
	default:
		return "✗ " + view.ClassText(r.ErrorClass)
	}
}

// runDetail is a finished run's trigger and, with message, its message.
func runDetail(r *scheduler.Run, message bool) string {
	var parts []string
	if r.Trigger != "" {
		parts = append(parts, string(r.Trigger)+" run")
	}
	if r.LargeDrop {
		parts = append(parts, "more than half of the orders disappeared")
	}
	if message && r.Message != "" && r.Status != scheduler.StatusSucceeded {
		parts = append(parts, r.Message)
	}
	return strings.Join(parts, " · ")
}

func (s *Status) onScrape() {
	s.scrape.Disable()
	s.opts.call(0, s.act.ScrapeNow, func(err error) {
		setMessage(s.message, ErrorText(err))
		s.box.Refresh()
		if err != nil && s.snap.Running == nil && !s.snap.NoPortal {
			s.scrape.Enable()
		}
	})
}

func (s *Status) onCancel() {
	s.cancel.Disable()
	s.opts.call(0, s.act.Cancel, func(err error) { setMessage(s.message, ErrorText(err)) })
}

func (s *Status) onPause() {
	f := s.act.Pause
	if s.snap.Paused {
		f = s.act.Resume
	}
	s.opts.call(0, f, func(err error) { setMessage(s.message, ErrorText(err)) })
}
