package screens

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// scheduleTab is the settings window's schedule tab: its hour, weekday and zone pickers and the
// live preview of the next runs. It owns its widgets, field errors and messages; it is used on
// Fyne's goroutine only.
type scheduleTab struct {
	w *Settings // the window: backend, options, layout

	sched     scheduler.Schedule // as loaded; fields the window does not edit keep their value
	schedRev  Revision           // the schedule's revision as loaded; a save is based on it
	enabled   *widget.Check
	minute    *widget.Entry
	hour      *widget.Entry
	every     *widget.Select
	from, to  *widget.Select
	weekdays  [7]*widget.Check
	zone      *widget.SelectEntry
	grace     *widget.Entry
	retries   *widget.Entry
	catchUp   *widget.Check
	preview   *widget.Label
	schedErrs map[string]*widget.Label
	schedMsg  *widget.Label
	schedSave *widget.Button
	loading   bool // set while SetSchedule fills the fields
}

func hourOptions(from, to int) []string {
	var out []string
	for h := from; h <= to; h++ {
		out = append(out, fmt.Sprintf("%02d:00", h))
	}
	return out
}

var weekdayOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (s *scheduleTab) content() fyne.CanvasObject {
	s.schedErrs = errLabels(scheduleFields)
	changed := func() { s.onScheduleChanged() }
	s.enabled = widget.NewCheck("Run scrapes on a schedule", func(bool) { changed() })
	s.minute = widget.NewEntry()
	s.minute.OnChanged = func(string) { changed() }
	s.hour = widget.NewEntry()
	s.hour.OnChanged = func(string) { changed() }
	var every []string
	for _, n := range scheduler.AllowedEveryHours() {
		every = append(every, strconv.Itoa(n))
	}
	s.every = widget.NewSelect(every, func(string) { changed() })
	s.from = widget.NewSelect(hourOptions(0, 23), func(string) { changed() })
	s.to = widget.NewSelect(hourOptions(1, 24), func(string) { changed() })
	days := container.NewHBox()
	for i, d := range weekdayOrder {
		s.weekdays[i] = widget.NewCheck(d.String()[:3], func(bool) { changed() })
		days.Add(s.weekdays[i])
	}
	s.zone = widget.NewSelectEntry(commonZones())
	s.zone.OnChanged = func(string) { changed() }
	s.grace = widget.NewEntry()
	s.grace.OnChanged = func(string) { changed() }
	s.retries = widget.NewEntry()
	s.retries.OnChanged = func(string) { changed() }
	s.catchUp = widget.NewCheck("Run once to catch up after missed slots", func(bool) { changed() })
	s.preview = widget.NewLabel("")
	s.preview.Wrapping = fyne.TextWrapWord
	s.schedMsg = errorLabel()
	s.schedSave = widget.NewButton("Save schedule", s.saveSchedule)
	s.schedSave.Importance = widget.HighImportance

	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(""), s.enabled,
		widget.NewLabel("Minute"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("past the hour (0–59)"), s.minute), s.schedErrs, "minute"),
		widget.NewLabel("Every"), field(container.NewHBox(s.every, widget.NewLabel("hours, counting from"), container.NewGridWrap(fyne.NewSize(60, s.hour.MinSize().Height), s.hour), widget.NewLabel(":00")), s.schedErrs, "every_hours", "hour"),
		widget.NewLabel("Active hours"), field(container.NewHBox(widget.NewLabel("from"), s.from, widget.NewLabel("to"), s.to), s.schedErrs, "active_from", "active_to"),
		widget.NewLabel("Days"), field(days, s.schedErrs, "weekdays"),
		widget.NewLabel("Time zone"), field(s.zone, s.schedErrs, "zone"),
		widget.NewLabel("Grace"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("minutes late before a slot counts as missed"), s.grace), s.schedErrs, "grace_minutes"),
		widget.NewLabel("Retries"), field(container.NewBorder(nil, nil, nil, widget.NewLabel("after a failure (0–10)"), s.retries), s.schedErrs, "retries", "retry_backoff_minutes"),
		widget.NewLabel(""), s.catchUp,
		widget.NewLabel("Next runs"), s.preview,
	)
	return s.w.page(form, container.NewHBox(s.schedSave), s.schedMsg)
}

// commonZones lists zones for the zone picker: the system's first, then a few common ones. Any
// IANA name may be typed.
func commonZones() []string {
	z := []string{scheduler.SystemZone(), "UTC", "Europe/London", "Europe/Berlin", "America/New_York",
		"America/Chicago", "America/Denver", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney"}
	out := z[:0]
	for _, v := range z {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// SetSchedule fills the schedule tab. It must run on Fyne's goroutine.
func (s *scheduleTab) SetSchedule(sc scheduler.Schedule) {
	s.loading = true
	s.sched = sc
	s.enabled.SetChecked(sc.Enabled)
	s.minute.SetText(strconv.Itoa(sc.Minute))
	s.hour.SetText(strconv.Itoa(sc.Hour))
	s.every.SetSelected(strconv.Itoa(sc.EveryHours))
	s.from.SetSelected(fmt.Sprintf("%02d:00", sc.ActiveFrom))
	s.to.SetSelected(fmt.Sprintf("%02d:00", sc.ActiveTo))
	if sc.ActiveTo == 0 {
		s.to.SetSelected("24:00")
	}
	for i, d := range weekdayOrder {
		s.weekdays[i].SetChecked(slices.Contains(sc.Weekdays, d))
	}
	s.zone.SetText(sc.Zone)
	s.grace.SetText(strconv.Itoa(sc.GraceMinutes))
	s.retries.SetText(strconv.Itoa(sc.Retries))
	s.catchUp.SetChecked(sc.CatchUp)
	s.loading = false
	s.onScheduleChanged()
}

// scheduleInput reads the schedule tab. Text that is not a number is a field error here; the
// rest is the core's Schedule.Validate.
func (s *scheduleTab) scheduleInput() (scheduler.Schedule, error) {
	sc := s.sched
	sc.Weekdays = nil
	var errs scheduler.ValidationError
	num := func(name, text string) int { return wholeNumber(&errs, name, text) }
	sc.Enabled = s.enabled.Checked
	sc.Minute = num("minute", s.minute.Text)
	sc.Hour = num("hour", s.hour.Text)
	sc.EveryHours = num("every_hours", s.every.Selected)
	sc.ActiveFrom = num("active_from", strings.TrimSuffix(s.from.Selected, ":00"))
	sc.ActiveTo = num("active_to", strings.TrimSuffix(s.to.Selected, ":00"))
	for i, d := range weekdayOrder {
		if s.weekdays[i].Checked {
			sc.Weekdays = append(sc.Weekdays, d)
		}
	}
	slices.Sort(sc.Weekdays)
	sc.Zone = strings.TrimSpace(s.zone.Text)
	sc.GraceMinutes = num("grace_minutes", s.grace.Text)
	sc.Retries = num("retries", s.retries.Text)
	sc.CatchUp = s.catchUp.Checked
	if len(errs) > 0 {
		// Report what Validate says about the other fields too.
		if err := sc.Validate(); err != nil {
			var ve scheduler.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve {
					if errs.Field(fe.Field) == nil {
						errs = append(errs, fe)
					}
				}
			}
		}
		return sc, errs
	}
	return sc, sc.Validate()
}

func (s *scheduleTab) onScheduleChanged() {
	if s.loading {
		return
	}
	sc, err := s.scheduleInput()
	s.w.showErrors(s.schedErrs, s.schedMsg, err)
	if err != nil {
		s.preview.SetText("Correct the fields marked above to see the next runs.")
		return
	}
	if !sc.Enabled {
		s.preview.SetText("None: the schedule is off.")
		return
	}
	now := s.w.opts.Now()
	next := sc.NextN(now, 5)
	parts := make([]string, len(next))
	for i, t := range next {
		parts[i] = view.Clock(t, now, s.w.opts.Location)
	}
	s.preview.SetText(strings.Join(parts, ", "))
}

// scheduleEdited reports whether the schedule shown differs from the one loaded (input that
// does not validate counts as an edit).
func (s *scheduleTab) scheduleEdited() bool {
	sc, err := s.scheduleInput()
	return err != nil || !reflect.DeepEqual(sc, s.sched)
}

func (s *scheduleTab) saveSchedule() {
	sc, err := s.scheduleInput()
	if err != nil {
		s.w.showErrors(s.schedErrs, s.schedMsg, err)
		return
	}
	s.schedSave.Disable()
	var rev Revision
	s.w.opts.call(0, func(ctx context.Context) (err error) {
		rev, err = s.w.be.SaveSchedule(ctx, sc, s.schedRev)
		return err
	}, func(err error) {
		s.schedSave.Enable()
		if !s.w.saved(err, s.schedErrs, s.schedMsg, "the schedule settings") {
			return
		}
		s.sched, s.schedRev = sc, rev
		msg := "Saved. The new schedule applies now."
		if next := sc.NextN(s.w.opts.Now(), 1); len(next) > 0 && sc.Enabled {
			msg = "Saved. Next run " + view.Clock(next[0], s.w.opts.Now(), s.w.opts.Location) + "."
		}
		setSuccess(s.schedMsg, msg)
		s.w.relayout()
	})
}
