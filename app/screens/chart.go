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

// RunChart draws the latest runs: one bar per run for its duration (green succeeded, red failed,
// grey otherwise) and a line through the order counts, oldest on the left.
type RunChart struct {
	widget.BaseWidget
	runs []scheduler.Run // oldest first, at most ChartRuns
}

// NewRunChart returns an empty chart.
func NewRunChart() *RunChart {
	c := &RunChart{}
	c.ExtendBaseWidget(c)
	return c
}

// SetRuns shows the latest runs of runs (given newest first).
func (c *RunChart) SetRuns(runs []scheduler.Run) {
	n := min(len(runs), ChartRuns)
	c.runs = make([]scheduler.Run, 0, n)
	for i := n - 1; i >= 0; i-- {
		if runs[i].Status == scheduler.StatusRunning {
			continue
		}
		c.runs = append(c.runs, runs[i])
	}
	c.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (c *RunChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c,
		bg:     canvas.NewRectangle(color.Transparent),
		legend: canvas.NewText("", theme.Color(theme.ColorNameForeground)),
		empty:  canvas.NewText("No runs yet", theme.Color(theme.ColorNameDisabled)),
	}
	r.bg.StrokeWidth = 1
	r.legend.TextSize = theme.CaptionTextSize()
	r.empty.TextSize = theme.CaptionTextSize()
	r.rebuild()
	return r
}

type chartRenderer struct {
	c      *RunChart
	bg     *canvas.Rectangle
	legend *canvas.Text
	empty  *canvas.Text
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

// rebuild makes one bar per run and one line segment between neighbouring runs.
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
	if len(runs) > 0 {
		r.legend.Text = "Last " + view.Plural(len(runs), "run", "runs") + " · bars: duration (longest " +
			view.Duration(time.Duration(maxD)) + ") · line: orders found (most " + view.Plural(int(maxN), "order", "orders") + ")"
	}
	r.objs = []fyne.CanvasObject{r.bg}
	for _, b := range r.bars {
		r.objs = append(r.objs, b)
	}
	for _, l := range r.lines {
		r.objs = append(r.objs, l)
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
	r.legend.Move(fyne.NewPos(pad, size.Height-legendH))
	r.empty.Move(fyne.NewPos(size.Width/2-r.empty.MinSize().Width/2, (size.Height-legendH)/2-r.empty.MinSize().Height/2))
	runs := r.c.runs
	if len(runs) == 0 {
		return
	}
	plotH := size.Height - legendH - 2*pad
	plotW := size.Width - 2*pad
	slot := plotW / float32(ChartRuns)
	x0 := pad + plotW - slot*float32(len(runs)) // right-aligned: the newest run is on the right
	var maxD, maxN float32
	for _, run := range runs {
		maxD = max(maxD, float32(run.Duration))
		maxN = max(maxN, float32(run.Found))
	}
	y := func(v, top float32) float32 {
		if top <= 0 {
			return pad + plotH
		}
		return pad + plotH - v/top*plotH
	}
	for i, run := range runs {
		h := float32(2)
		if maxD > 0 {
			h = max(float32(run.Duration)/maxD*plotH, 2)
		}
		bw := max(slot*0.7, 1)
		r.bars[i].Move(fyne.NewPos(x0+slot*float32(i)+(slot-bw)/2, pad+plotH-h))
		r.bars[i].Resize(fyne.NewSize(bw, h))
		if i > 0 {
			l := r.lines[i-1]
			// The order line joins successful runs only: a failed run found nothing to count.
			if runs[i-1].Status != scheduler.StatusSucceeded || run.Status != scheduler.StatusSucceeded {
				l.Hide()
				continue
			}
			l.Show()
			l.Position1 = fyne.NewPos(x0+slot*(float32(i)-0.5), y(float32(runs[i-1].Found), maxN*1.1))
			l.Position2 = fyne.NewPos(x0+slot*(float32(i)+0.5), y(float32(run.Found), maxN*1.1))
		}
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 110) }

func (r *chartRenderer) Refresh() {
	r.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	r.legend.Color = theme.Color(theme.ColorNameForeground)
	r.rebuild()
	r.Layout(r.size)
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *chartRenderer) Destroy()                     {}
