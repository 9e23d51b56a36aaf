package screens

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
	"worktray/scheduler"
)

func TestHistoryStates(t *testing.T) {
	test.NewTempApp(t)
	for _, tt := range []struct {
		name   string
		runs   []scheduler.Run
		failed bool
		sel    int
	}{
		{"empty", nil, false, -1},
		{"runs", manyRuns(40), false, 3},
		{"10000_runs", manyRuns(10000), false, -1},
		{"failures_only", manyRuns(40), true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.runs = tt.runs
			h := NewHistory(f, testOptions())
			var opened []string
			h.OpenFile = func(p string) error { opened = append(opened, p); return nil }
			w := test.NewWindow(h.Content())
			defer w.Close()
			w.Resize(fyne.NewSize(960, 640))
			h.Load()
			h.SetFailuresOnly(tt.failed)
			if tt.sel >= 0 {
				h.SelectRow(tt.sel)
			}
			test.AssertImageMatches(t, "history_"+tt.name+".png", w.Canvas().Capture())
			if tt.name == "failures_only" {
				for _, o := range h.files.Objects {
					test.Tap(o.(interface{ Tapped(*fyne.PointEvent) }).(fyne.Tappable))
				}
				if want := []string{"/data/artifacts/run-37.png", "/data/artifacts/run-37.html"}; !slices.Equal(opened, want) {
					t.Errorf("opened %v, want %v", opened, want)
				}
			}
		})
	}
}

// TestHistoryTenThousandRuns loads 10,000 runs, scrolls through them and filters them. How
// fast it opens is BenchmarkHistoryOpen10000's to show.
func TestHistoryTenThousandRuns(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.runs = manyRuns(10000)
	h := NewHistory(f, testOptions())
	w := test.NewWindow(h.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(960, 640))
	h.Load()
	w.Canvas().Capture()
	for _, row := range []int{5000, 9999, 0} {
		h.table.ScrollTo(widgetCell(row))
	}
	if len(h.shown) != 10000 {
		t.Errorf("shown %d runs, want 10000", len(h.shown))
	}
	h.SetFailuresOnly(true)
	failed := 0
	for _, r := range f.runs {
		if r.Status == scheduler.StatusFailed {
			failed++
		}
	}
	if len(h.shown) != failed || failed == 0 {
		t.Errorf("failures only: shown %d runs, want the %d failed ones", len(h.shown), failed)
	}
	h.SetFailuresOnly(false)
	if len(h.shown) != 10000 {
		t.Errorf("after the filter: shown %d runs, want 10000", len(h.shown))
	}
}

// BenchmarkHistoryOpen10000 builds, loads and renders the history window with 10,000 runs
// (target ≤ 800 ms).
func BenchmarkHistoryOpen10000(b *testing.B) {
	test.NewTempApp(b)
	f := newFake()
	f.runs = manyRuns(10000)
	for b.Loop() {
		h := NewHistory(f, testOptions())
		w := test.NewWindow(h.Content())
		w.Resize(fyne.NewSize(960, 640))
		h.Load()
		w.Canvas().Capture()
		w.Close()
	}
}

func widgetCell(row int) widget.TableCellID { return widget.TableCellID{Row: row} }

// TestChartTimeAxis: the axis is labelled with distinct times that span the runs shown, and the
// chart scales to the runs shown, not to all runs.
func TestChartTimeAxis(t *testing.T) {
	test.NewTempApp(t)
	c := NewRunChart(london)
	w := test.NewWindow(c)
	defer w.Close()
	w.Resize(fyne.NewSize(600, 160))
	one := manyRuns(1)
	c.SetRuns(one)
	r := test.WidgetRenderer(c).(*chartRenderer)
	var labels []string
	for _, tk := range r.ticks {
		if tk.Text != "" {
			if slices.Contains(labels, tk.Text) {
				t.Errorf("label %q twice: %v", tk.Text, labels)
			}
			labels = append(labels, tk.Text)
		}
	}
	if len(labels) < 3 || labels[len(labels)-1] != "09:30" {
		t.Errorf("one run at 09:30: axis labels %q", labels)
	}
	runs := manyRuns(40)
	c.SetRuns(runs)
	if first, last := c.span(); !first.Equal(runs[39].Started) || !last.Equal(runs[0].Started) {
		t.Errorf("span %v–%v, want the runs' %v–%v", first, last, runs[39].Started, runs[0].Started)
	}
	// Only failures: the tallest bar is the longest failure.
	var failed []scheduler.Run
	for _, run := range runs {
		if run.Status == scheduler.StatusFailed {
			failed = append(failed, run)
		}
	}
	c.SetRuns(failed)
	var longest time.Duration
	for _, run := range failed {
		longest = max(longest, run.Duration)
	}
	if !strings.Contains(r.legend.Text, "tallest "+view.Duration(longest)) || strings.Contains(r.legend.Text, "line:") {
		t.Errorf("legend for failures only %q, want the longest failure (%v) and no order line", r.legend.Text, longest)
	}
}
