package screens

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

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

// TestHistoryTenThousandRunsIsQuick loads 10,000 runs, filters them and scrolls through them.
func TestHistoryTenThousandRunsIsQuick(t *testing.T) {
	test.NewTempApp(t)
	f := newFake()
	f.runs = manyRuns(10000)
	start := time.Now()
	h := NewHistory(f, testOptions())
	w := test.NewWindow(h.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(960, 640))
	h.Load()
	w.Canvas().Capture()
	opened := time.Since(start)
	for _, row := range []int{5000, 9999, 0} {
		h.table.ScrollTo(widgetCell(row))
	}
	h.SetFailuresOnly(true)
	h.SetFailuresOnly(false)
	t.Logf("history with 10,000 runs: built, loaded and rendered in %v; filters and scrolls in %v", opened, time.Since(start)-opened)
	if opened > 800*time.Millisecond {
		t.Errorf("opening the history with 10,000 runs took %v, want ≤ 800 ms", opened)
	}
	if len(h.shown) != 10000 {
		t.Errorf("shown %d runs", len(h.shown))
	}
}

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
