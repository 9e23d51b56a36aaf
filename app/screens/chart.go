package screens

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

// ChartRuns is how many of the latest runs the chart shows.
const ChartRuns = 60

// chartTicks is how many times the time axis labels.
const chartTicks = 5

// RunChart draws the latest runs on a time axis: one bar per run at its start time for its
// duration (green succeeded, red failed, grey otherwise) and a line through the order counts.
// Both scale to the runs shown: the tallest bar is the longest of them, the line's top their
// largest order count.
type RunChart struct {
	widget.BaseWidget
	runs []scheduler.Run // oldest first, at most ChartRuns
	loc  *time.Location
}

// NewRunChart returns an empty chart whose time axis is in loc (nil: time.Local).
func NewRunChart(loc *time.Location) *RunChart {
	if loc == nil {
		loc = time.Local
	}
	c := &RunChart{loc: loc}
	c.ExtendBaseWidget(c)
	return c
}

// SetRuns shows the latest runs of runs (given newest first); runs still going are left out.
func (c *RunChart) SetRuns(runs []scheduler.Run) {
	c.runs = make([]scheduler.Run, 0, min(len(runs), ChartRuns))
	for i := len(runs) - 1; i >= 0; i-- {
		// A run still going has no duration yet, an interrupted one none that is known.
		if s := runs[i].Status; s == scheduler.StatusRunning || s == scheduler.StatusInterrupted || runAt(&runs[i]).IsZero() {
			continue
		}
		c.runs = append(c.runs, runs[i])
	}
	if len(c.runs) > ChartRuns {
		c.runs = c.runs[len(c.runs)-ChartRuns:]
	}
	c.Refresh()
}

// runAt is when a run is placed on the time axis: its start, or its first missed slot.
func runAt(r *scheduler.Run) time.Time {
	if !r.Started.IsZero() {
		return r.Started
	}
	if len(r.MissedSlots) > 0 {
		return r.MissedSlots[0]
	}
	return r.Finished
}

// CreateRenderer implements fyne.Widget.
func (c *RunChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c,
		bg:     canvas.NewRectangle(color.Transparent),
		axis:   canvas.NewLine(theme.Color(theme.ColorNameDisabled)),
		legend: canvas.NewText("", theme.Color(theme.ColorNameForeground)),
		empty:  canvas.NewText("No runs to show", theme.Color(theme.ColorNameDisabled)),
	}
	r.bg.StrokeWidth = 1
	r.axis.StrokeWidth = 1
	r.legend.TextSize = theme.CaptionTextSize()
	r.empty.TextSize = theme.CaptionTextSize()
	for i := range r.ticks {
		r.ticks[i] = canvas.NewText("", theme.Color(theme.ColorNameForeground))
		r.ticks[i].TextSize = theme.CaptionTextSize()
		r.marks[i] = canvas.NewLine(theme.Color(theme.ColorNameDisabled))
	}
	r.rebuild()
	return r
}

type chartRenderer struct {
	c      *RunChart
	bg     *canvas.Rectangle
	axis   *canvas.Line
	legend *canvas.Text
	empty  *canvas.Text
	ticks  [chartTicks]*canvas.Text
	marks  [chartTicks]*canvas.Line
	bars   []*canvas.Rectangle
	lines  []*canvas.Line
	objs   []fyne.CanvasObject
	size   fyne.Size
}

var (
	colorOK     = color.NRGBA{R: 0x2e, G: 0x9d, B: 0x4f, A: 0xff}
	colorFailed = color.NRGBA{R: 0xd6, G: 0x2f, B: 0x2f, A: 0xff}
	colorOther  = color.NRGBA{R: 0x9a, G: 0xa0, B: 0xa8, A: 0xff}
	colorOrders = color.NRGBA{R: 0x1f, G: 0x6f, B: 0xc9, A: 0xff}
)

// minChartSpan is the shortest time the axis spans, so that a few runs close together still
// get distinct labels.
const minChartSpan = time.Hour

// span returns the first and last instants on the time axis: from the first run shown to the
// last, at least minChartSpan, ending at the last run.
func (c *RunChart) span() (time.Time, time.Time) {
	if len(c.runs) == 0 {
		return time.Time{}, time.Time{}
	}
	first, last := runAt(&c.runs[0]), runAt(&c.runs[len(c.runs)-1])
	if last.Sub(first) < minChartSpan {
		first = last.Add(-minChartSpan)
	}
	return first, last
}

// tickLabel formats an instant on the axis: the time of day when the runs shown fit in a day,
// the date and time otherwise.
func tickLabel(t time.Time, span time.Duration, loc *time.Location) string {
	if span <= 20*time.Hour {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("2 Jan 15:04")
}

// rebuild makes one bar per run, one line segment between neighbouring runs, and the labels.
func (r *chartRenderer) rebuild() {
	runs := r.c.runs
	r.bars = r.bars[:0]
	r.lines = r.lines[:0]
	for i := range runs {
		col := colorOther
		switch runs[i].Status {
		case scheduler.StatusSucceeded:
			col = colorOK
		case scheduler.StatusFailed, scheduler.StatusInterrupted, scheduler.StatusMissed:
			col = colorFailed
		}
		r.bars = append(r.bars, canvas.NewRectangle(col))
		if i > 0 {
			l := canvas.NewLine(colorOrders)
			l.StrokeWidth = 2
			r.lines = append(r.lines, l)
		}
	}
	var maxD, maxN int64
	for _, run := range runs {
		maxD = max(maxD, int64(run.Duration))
		maxN = max(maxN, int64(run.Found))
	}
	r.legend.Text = ""
	first, last := r.c.span()
	prev := ""
	for i, tk := range r.ticks {
		tk.Text = ""
		if len(runs) > 0 {
			at := first.Add(time.Duration(float64(last.Sub(first)) * float64(i) / float64(chartTicks-1)))
			if label := tickLabel(at, last.Sub(first), r.c.loc); label != prev {
				tk.Text, prev = label, label
			}
		}
	}
	if len(runs) > 0 {
		r.legend.Text = view.Plural(len(runs), "run", "runs") + " · bars: duration (tallest " + view.Duration(time.Duration(maxD)) + ")"
		if maxN > 0 {
			r.legend.Text += " · line: orders found (top " + view.Plural(int(maxN), "order", "orders") + ")"
		}
	}
	r.objs = []fyne.CanvasObject{r.bg, r.axis}
	for _, b := range r.bars {
		r.objs = append(r.objs, b)
	}
	for _, l := range r.lines {
		r.objs = append(r.objs, l)
	}
	for i := range r.ticks {
		r.objs = append(r.objs, r.marks[i], r.ticks[i])
	}
	r.objs = append(r.objs, r.legend)
	if len(runs) == 0 {
		r.objs = append(r.objs, r.empty)
	}
}

func (r *chartRenderer) Layout(size fyne.Size) {
	r.size = size
	r.bg.Resize(size)
	pad := theme.Padding()
	legendH := r.legend.MinSize().Height
	tickH := r.ticks[0].MinSize().Height
	if tickH == 0 {
		tickH = legendH
	}
	r.legend.Move(fyne.NewPos(pad, size.Height-legendH))
	r.empty.Move(fyne.NewPos(size.Width/2-r.empty.MinSize().Width/2, (size.Height-legendH)/2-r.empty.MinSize().Height/2))
	// The plot leaves room at its sides for half a tick label and for half the widest bar.
	side := max(r.ticks[0].MinSize().Width, r.ticks[chartTicks-1].MinSize().Width)/2 + pad
	plotW := max(size.Width-2*side, 1)
	plotH := max(size.Height-legendH-tickH-3*pad, 1)
	axisY := pad + plotH
	r.axis.Position1 = fyne.NewPos(side, axisY)
	r.axis.Position2 = fyne.NewPos(side+plotW, axisY)
	runs := r.c.runs
	first, last := r.c.span()
	total := float32(last.Sub(first))
	x := func(t time.Time) float32 {
		if total <= 0 {
			return side + plotW/2
		}
		return side + float32(t.Sub(first))/total*plotW
	}
	for i, tk := range r.ticks {
		tx := side + plotW*float32(i)/float32(chartTicks-1)
		w := tk.MinSize().Width
		tk.Move(fyne.NewPos(tx-w/2, axisY+pad/2))
		r.marks[i].Position1 = fyne.NewPos(tx, axisY)
		r.marks[i].Position2 = fyne.NewPos(tx, axisY+pad/2)
	}
	if len(runs) == 0 {
		return
	}
	var maxD, maxN float32
	for _, run := range runs {
		maxD = max(maxD, float32(run.Duration))
		maxN = max(maxN, float32(run.Found))
	}
	y := func(v, top float32) float32 {
		if top <= 0 {
			return axisY
		}
		return axisY - v/top*plotH
	}
	bw := min(max(plotW/float32(len(runs))*0.6, 2), 14)
	for i, run := range runs {
		h := float32(2)
		if maxD > 0 {
			h = max(float32(run.Duration)/maxD*plotH, 2)
		}
		cx := x(runAt(&runs[i]))
		r.bars[i].Move(fyne.NewPos(cx-bw/2, axisY-h))
		r.bars[i].Resize(fyne.NewSize(bw, h))
		if i > 0 {
			l := r.lines[i-1]
			// The order line joins successful runs only: a failed run found nothing to count.
			if runs[i-1].Status != scheduler.StatusSucceeded || run.Status != scheduler.StatusSucceeded {
				l.Hide()
				continue
			}
			l.Show()
			l.Position1 = fyne.NewPos(x(runAt(&runs[i-1])), y(float32(runs[i-1].Found), maxN*1.1))
			l.Position2 = fyne.NewPos(cx, y(float32(run.Found), maxN*1.1))
		}
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(240, 130) }

func (r *chartRenderer) Refresh() {
	r.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	r.axis.StrokeColor = theme.Color(theme.ColorNameDisabled)
	r.legend.Color = theme.Color(theme.ColorNameForeground)
	for i := range r.ticks {
		r.ticks[i].Color = theme.Color(theme.ColorNameForeground)
		r.marks[i].StrokeColor = theme.Color(theme.ColorNameDisabled)
	}
	r.rebuild()
	r.Layout(r.size)
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *chartRenderer) Destroy()                     {}
