package screens

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// The Portal tab's Test profile button runs the profile test and shows its summary.
func TestSettingsTestProfile(t *testing.T) {
	s, f, w := newSettingsWindow(t)
	s.SelectTab(1)
	var button *widget.Button
	walk(w.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Test profile" {
			button = b
		}
	})
	if button == nil {
		t.Fatal("the Portal tab has no Test profile button")
	}
	test.Tap(button)
	if !within(10*time.Second, func() bool { return slices.Contains(f.Calls(), "test profile") }) {
		t.Fatalf("Test profile did not call the backend; calls %v", f.Calls())
	}
	shown := func() bool {
		var found bool
		walk(w.Content(), func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok {
				found = found || strings.Contains(l.Text, "Read 25 rows")
			}
		})
		return found
	}
	if !within(10*time.Second, shown) {
		t.Error("the profile test's summary is not shown")
	}
}

// walk calls fn for o and every object under it, widgets' rendered objects included.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	for _, k := range kids {
		walk(k, fn)
	}
}

// within polls cond until it holds or d passes, and reports whether it held.
func within(d time.Duration, cond func() bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(d); !cond(); <-tick.C {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
