package screens

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/scheduler"
	"worktray/store"
)

// generalTab is the settings window's general tab: start at login, the data and log folders, and
// the history retention. It owns its widgets, field errors and messages; it is used on Fyne's
// goroutine only.
type generalTab struct {
	w *Settings // the window: backend, options, layout

	retention     store.Retention // as loaded
	retentionRev  Revision        // as loaded; a save is based on it
	keepRuns      *widget.Entry
	retentionErrs map[string]*widget.Label
	retentionMsg  *widget.Label
	retentionSave *widget.Button
	generalMsg    *widget.Label
	loading       bool // set while SetRetention fills the field
}

func (s *generalTab) content() fyne.CanvasObject {
	s.generalMsg = errorLabel()
	s.retentionErrs = errLabels(retentionFields)
	s.retentionMsg = errorLabel()
	s.keepRuns = widget.NewEntry()
	s.keepRuns.OnChanged = func(string) { s.onRetentionChanged() }
	s.keepRuns.OnSubmitted = func(string) { s.saveRetention() }
	s.retentionSave = widget.NewButton("Save", s.saveRetention)
	var objs []fyne.CanvasObject
	if t := s.w.opts.StartAtLogin; t != nil {
		login := widget.NewCheck("Start worktray when I log in", nil)
		login.SetChecked(t.Enabled())
		login.OnChanged = func(on bool) {
			if err := t.SetEnabled(on); err != nil {
				setError(s.generalMsg, err.Error())
				return
			}
			setMessage(s.generalMsg, "")
		}
		objs = append(objs, login)
	}
	open := func(label, dir string) fyne.CanvasObject {
		b := widget.NewButton(label, func() {
			if s.w.opts.OpenFolder == nil || dir == "" {
				return
			}
			if err := s.w.opts.OpenFolder(dir); err != nil {
				setError(s.generalMsg, "Could not open "+dir+": "+err.Error())
			}
		})
		l := widget.NewLabel(dir)
		l.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, b, nil, l)
	}
	objs = append(objs,
		heading("Folders"),
		open("Open data folder", s.w.opts.DataDir),
		open("Open log folder", s.w.opts.LogDir),
		heading("History"),
		field(container.NewHBox(widget.NewLabel("Keep the last"),
			container.NewGridWrap(fyne.NewSize(110, s.keepRuns.MinSize().Height), s.keepRuns),
			widget.NewLabel("runs"), s.retentionSave), s.retentionErrs, "keep_runs"),
		s.retentionMsg,
		widget.NewLabel("Older runs are pruned daily; logs are kept 14 days."),
		s.generalMsg,
	)
	return container.NewPadded(s.w.page(objs...))
}

// SetRetention fills the history retention of the general tab. It must run on Fyne's goroutine.
func (s *generalTab) SetRetention(r store.Retention) {
	s.retention = r
	s.loading = true
	s.keepRuns.SetText(strconv.Itoa(r.KeepRuns))
	s.loading = false
	s.w.showErrors(s.retentionErrs, s.retentionMsg, nil)
}

// retentionInput reads the history retention and validates it with the core's rules
// (store.Retention.Validate).
func (s *generalTab) retentionInput() (store.Retention, error) {
	var errs scheduler.ValidationError
	r := store.Retention{KeepRuns: wholeNumber(&errs, "keep_runs", s.keepRuns.Text)}
	if len(errs) > 0 {
		return store.Retention{}, errs
	}
	return r, r.Validate()
}

func (s *generalTab) onRetentionChanged() {
	if s.loading {
		return
	}
	_, err := s.retentionInput()
	s.w.showErrors(s.retentionErrs, s.retentionMsg, err)
}

func (s *generalTab) saveRetention() {
	r, err := s.retentionInput()
	if err != nil {
		s.w.showErrors(s.retentionErrs, s.retentionMsg, err)
		return
	}
	s.w.showErrors(s.retentionErrs, s.retentionMsg, nil)
	s.retentionSave.Disable()
	var rev Revision
	s.w.opts.call(0, func(ctx context.Context) (err error) {
		rev, err = s.w.be.SaveRetention(ctx, r, s.retentionRev)
		return err
	}, func(err error) {
		s.retentionSave.Enable()
		if !s.w.saved(err, s.retentionErrs, s.retentionMsg, "the history settings") {
			return
		}
		s.retention, s.retentionRev = r, rev
		setSuccess(s.retentionMsg, fmt.Sprintf("Saved. The last %d runs are kept; older ones are pruned now.", r.KeepRuns))
		s.w.relayout()
	})
}

// retentionEdited reports whether the retention shown differs from the one loaded.
func (s *generalTab) retentionEdited() bool {
	return strings.TrimSpace(s.keepRuns.Text) != strconv.Itoa(s.retention.KeepRuns)
}
