package screens

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// HistorySource is what the history window asks of the owner.
type HistorySource interface {
	// History returns up to n runs, newest first; only failed ones (failed, interrupted,
	// missed) when failedOnly is set.
	History(ctx context.Context, n int, failedOnly bool) ([]scheduler.Run, error)
}

// HistoryLimit is how many runs the history window loads.
const HistoryLimit = 10000

// History is the history window's content: a chart of recent runs, the runs table (lazy rows,
// smooth with 10,000 runs) with a failures filter, and the selected run's details.
type History struct {
	src  HistorySource
	opts Options
	// OpenFile opens a failure artifact (screenshot or HTML) with the desktop's default app.
	OpenFile func(path string) error

	runs    []scheduler.Run // as loaded, newest first
	shown   []int           // indexes into runs that pass the filter
	failed  *widget.Check
	count   *widget.Label
	table   *widget.Table
	chart   *RunChart
	details *widget.Label
	files   *fyne.Container
	message *widget.Label
	content fyne.CanvasObject
}

var historyColumns = []column{
	{"Started", 140, 0}, {"Trigger", 70, 0}, {"Status", 80, 0}, {"Duration", 70, 0}, {"Orders", 50, 0},
	{"New", 40, 0}, {"Changed", 60, 0}, {"Removed", 60, 0}, {"Error", 260, 900},
}

// NewHistory returns the history screen; call Load to fill it.
func NewHistory(src HistorySource, opts Options) *History {
	h := &History{src: src, opts: opts.withDefaults()}
	h.failed = widget.NewCheck("Failures only", func(bool) { h.applyFilter() })
	h.count = widget.NewLabel("")
	refresh := widget.NewButton("Refresh", func() { h.Load() })
	h.chart = NewRunChart(h.opts.Location)
	h.table = newTable(historyColumns, func() int { return len(h.shown) }, h.updateCell)
	h.table.OnSelected = func(id widget.TableCellID) { h.showDetails(id.Row) }
	h.details = widget.NewLabel("Select a run to see its details.")
	h.details.Wrapping = fyne.TextWrapWord
	h.details.Selectable = true
	h.files = container.NewHBox()
	h.message = errorLabel()

	top := container.NewVBox(
		container.NewHBox(h.failed, refresh, h.count),
		h.message,
		h.chart,
	)
	details := container.NewBorder(h.files, nil, nil, nil, container.NewVScroll(h.details))
	split := container.NewVSplit(h.table, details)
	split.Offset = 0.6
	h.content = container.NewBorder(top, nil, nil, nil, split)
	return h
}

// Content returns the screen's root object.
func (h *History) Content() fyne.CanvasObject { return h.content }

// Load fetches the runs in the background and shows them.
func (h *History) Load() {
	var runs []scheduler.Run
	h.opts.call(0, func(ctx context.Context) (err error) {
		runs, err = h.src.History(ctx, HistoryLimit, false)
		return err
	}, func(err error) {
		if err != nil {
			setMessage(h.message, "Could not load the history: "+ErrorText(err))
			return
		}
		setMessage(h.message, "")
		h.SetRuns(runs)
	})
}

// SetRuns shows runs (newest first). It must run on Fyne's goroutine.
func (h *History) SetRuns(runs []scheduler.Run) {
	h.runs = runs
	h.applyFilter()
}

func (h *History) applyFilter() {
	h.shown = h.shown[:0]
	for i := range h.runs {
		if !h.failed.Checked || isFailure(h.runs[i].Status) {
			h.shown = append(h.shown, i)
		}
	}
	// The chart shows the runs the table shows, and scales to them.
	shown := make([]scheduler.Run, 0, min(len(h.shown), ChartRuns))
	for _, i := range h.shown[:min(len(h.shown), ChartRuns)] {
		shown = append(shown, h.runs[i])
	}
	h.chart.SetRuns(shown)
	if h.failed.Checked {
		h.count.SetText(fmt.Sprintf("%d failed of %d runs", len(h.shown), len(h.runs)))
	} else {
		h.count.SetText(view.Plural(len(h.runs), "run", "runs"))
	}
	fitColumns(h.table, historyColumns, len(h.shown), func(row, col int) string { t, _ := h.cell(row, col); return t })
	h.table.UnselectAll()
	h.table.ScrollToTop()
	h.table.Refresh()
	h.showDetails(-1)
}

func isFailure(s scheduler.RunStatus) bool {
	return s == scheduler.StatusFailed || s == scheduler.StatusInterrupted || s == scheduler.StatusMissed
}

func (h *History) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row < 0 || id.Row >= len(h.shown) {
		l.SetText("")
		return
	}
	text, imp := h.cell(id.Row, id.Col)
	if l.Importance != imp {
		l.Importance = imp
	}
	l.SetText(text)
}

// cell returns the text and importance of the cell at row and col of the shown runs.
func (h *History) cell(row, col int) (text string, imp widget.Importance) {
	r := &h.runs[h.shown[row]]
	imp = widget.MediumImportance
	switch col {
	case 0:
		at := r.Started
		if at.IsZero() && len(r.MissedSlots) > 0 {
			at = r.MissedSlots[0]
		}
		if !at.IsZero() {
			text = at.In(h.opts.Location).Format("2006-01-02 15:04")
		}
	case 1:
		text = string(r.Trigger)
	case 2:
		text = string(r.Status)
		if isFailure(r.Status) {
			imp = widget.DangerImportance
		}
	case 3:
		text = view.RunDuration(r)
	case 4:
		text = count(r.Found, r.Status)
	case 5:
		text = count(r.New, r.Status)
	case 6:
		text = count(r.Changed, r.Status)
	case 7:
		text = count(r.Removed, r.Status)
	case 8:
		if r.Status != scheduler.StatusSucceeded {
			text = r.Message
			if r.ErrorClass != "" {
				text = view.ClassText(r.ErrorClass) + ": " + text
			}
		}
	}
	return text, imp
}

func count(n int, s scheduler.RunStatus) string {
	if s != scheduler.StatusSucceeded {
		return ""
	}
	return strconv.Itoa(n)
}

// showDetails shows the run at table row i, or the hint when i < 0.
func (h *History) showDetails(i int) {
	h.files.RemoveAll()
	if i < 0 || i >= len(h.shown) {
		h.details.SetText("Select a run to see its details.")
		return
	}
	r := h.runs[h.shown[i]]
	loc := h.opts.Location
	var b strings.Builder
	fmt.Fprintf(&b, "Run %d · %s · %s", r.ID, r.Trigger, r.Status)
	if r.Attempt > 1 {
		fmt.Fprintf(&b, " · attempt %d", r.Attempt)
	}
	if !r.Slot.IsZero() {
		fmt.Fprintf(&b, "\nSlot: %s", view.DateTime(r.Slot, loc))
	}
	if !r.Started.IsZero() {
		if r.Status == scheduler.StatusInterrupted {
			fmt.Fprintf(&b, "\nStarted: %s · found interrupted: %s · %s", view.DateTime(r.Started, loc), view.DateTime(r.Finished, loc), view.RunDuration(&r))
		} else {
			fmt.Fprintf(&b, "\nStarted: %s · finished: %s · %s", view.DateTime(r.Started, loc), view.DateTime(r.Finished, loc), view.Duration(r.Duration))
		}
	}
	if r.Status == scheduler.StatusSucceeded {
		fmt.Fprintf(&b, "\nOrders: %d found, %d new, %d changed, %d removed", r.Found, r.New, r.Changed, r.Removed)
	}
	if r.LargeDrop {
		b.WriteString("\nMore than half of the stored orders disappeared in this run.")
	}
	if len(r.MissedSlots) > 0 {
		fmt.Fprintf(&b, "\nMissed slots: %d, %s to %s", len(r.MissedSlots),
			view.DateTime(r.MissedSlots[0], loc), view.DateTime(r.MissedSlots[len(r.MissedSlots)-1], loc))
	}
	if r.Message != "" {
		fmt.Fprintf(&b, "\n\n%s", r.Message)
		if r.ErrorClass != "" {
			if a := view.Advice(r.ErrorClass, view.Situation{}); a != "" {
				fmt.Fprintf(&b, "\n%s", a)
			}
		}
	}
	if len(r.Stages) > 0 {
		b.WriteString("\n\nStages:")
		for _, st := range r.Stages {
			fmt.Fprintf(&b, " %s %s;", st.Stage, view.Duration(st.Duration))
		}
	}
	for _, f := range r.Artifacts {
		fmt.Fprintf(&b, "\n%s: %s", artifactKind(f), f)
	}
	h.details.SetText(b.String())
	for _, f := range r.Artifacts {
		kind := artifactKind(f)
		label := "Open " + strings.ToLower(kind[:1]) + kind[1:] + " (" + filepath.Base(f) + ")"
		h.files.Add(widget.NewButton(label, func() {
			if h.OpenFile == nil {
				return
			}
			if err := h.OpenFile(f); err != nil {
				setMessage(h.message, "Could not open "+f+": "+err.Error())
			}
		}))
	}
	h.files.Refresh()
}

// artifactKind names what a failure artifact is from its extension: "Screenshot", "Page HTML",
// "File".
func artifactKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg":
		return "Screenshot"
	case ".html", ".htm":
		return "Page HTML"
	default:
		return "File"
	}
}

// SelectRow selects row i of the table (tests, keyboard).
func (h *History) SelectRow(i int) { h.table.Select(widget.TableCellID{Row: i, Col: 0}) }

// SetFailuresOnly sets the failures filter.
func (h *History) SetFailuresOnly(on bool) { h.failed.SetChecked(on) }
