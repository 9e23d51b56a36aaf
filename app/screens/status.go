package screens

import (
	"context"
	"fmt"
	"strings"

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

// Status is the status window's content: the next and last run, a banner when something is
// wrong, live progress with Cancel, the next five runs, Scrape now and Pause/Resume.
type Status struct {
	act  StatusActions
	opts Options
	snap scheduler.Snapshot

	banner                         *bannerBox
	next, last, lastDetail, orders *widget.Label
	progress                       *widget.ProgressBar
	stage                          *widget.Label
	cancel                         *widget.Button
	progressBox                    *fyne.Container
	upcoming                       *widget.Label
	scrape, pause                  *widget.Button
	message                        *widget.Label
	box                            *fyne.Container
	content                        fyne.CanvasObject
}

// NewStatus returns the status screen; call Update with a snapshot to fill it.
func NewStatus(act StatusActions, opts Options) *Status {
	s := &Status{act: act, opts: opts.withDefaults()}
	s.banner = newBannerBox()
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

	grid := container.New(layout.NewFormLayout(),
		heading("Next run"), s.next,
		heading("Last run"), container.NewVBox(s.last, s.lastDetail),
		heading("Work orders"), s.orders,
		heading("Coming up"), s.upcoming,
	)
	s.box = container.NewVBox(
		s.banner.box,
		grid,
		s.progressBox,
		layout.NewSpacer(),
		container.NewHBox(s.scrape, s.pause),
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

// Snapshot returns the snapshot the screen shows.
func (s *Status) Snapshot() scheduler.Snapshot { return s.snap }

// Update shows snap. It must run on Fyne's goroutine.
func (s *Status) Update(snap scheduler.Snapshot) {
	s.snap = snap
	loc, now := s.opts.Location, snap.Now
	if now.IsZero() {
		now = s.opts.Now()
	}
	s.banner.set(view.BannerFor(snap, loc))

	switch {
	case snap.Paused:
		s.next.SetText("Paused: nothing runs until you resume")
	case !snap.Schedule.Enabled && snap.Next.IsZero():
		s.next.SetText("The schedule is off")
	case snap.Overdue():
		s.next.SetText(view.Clock(snap.OverdueSlot, now, loc) + " — overdue by " +
			strings.TrimSuffix(view.Relative(snap.OverdueSlot, now), " ago"))
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
		s.last.SetText(fmt.Sprintf("%s (%s) · %s · %s", view.Clock(at, now, loc), view.Relative(at, now),
			runOutcome(r), view.Duration(r.Duration)))
		setMessage(s.lastDetail, runDetail(r))
	}
	if snap.LastSuccess != nil && snap.LastRun != nil && snap.LastSuccess.ID != snap.LastRun.ID {
		s.orders.SetText(fmt.Sprintf("%s stored (last good scrape %s)", view.Plural(snap.Orders, "order", "orders"),
			view.Clock(snap.LastSuccess.Finished, now, loc)))
	} else {
		s.orders.SetText(view.Plural(snap.Orders, "order", "orders") + " stored")
	}

	if len(snap.NextRuns) == 0 {
		s.upcoming.SetText("—")
	} else {
		parts := make([]string, len(snap.NextRuns))
		for i, t := range snap.NextRuns {
			parts[i] = view.Clock(t, now, loc)
		}
		s.upcoming.SetText(strings.Join(parts, ", "))
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
		s.scrape.Enable()
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

// runDetail is a finished run's message and trigger.
func runDetail(r *scheduler.Run) string {
	var parts []string
	if r.Trigger != "" {
		parts = append(parts, string(r.Trigger)+" run")
	}
	if r.LargeDrop {
		parts = append(parts, "more than half of the orders disappeared")
	}
	if r.Message != "" && r.Status != scheduler.StatusSucceeded {
		parts = append(parts, r.Message)
	}
	return strings.Join(parts, " · ")
}

func (s *Status) onScrape() {
	s.scrape.Disable()
	s.opts.call(0, s.act.ScrapeNow, func(err error) {
		setMessage(s.message, ErrorText(err))
		s.box.Refresh()
		if err != nil && s.snap.Running == nil {
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
