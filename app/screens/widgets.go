package screens

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"worktray/app/view"
)

// bannerBox shows a view.Banner: a coloured panel with a bold title and a wrapped body. It hides
// itself when the banner's severity is None.
type bannerBox struct {
	bg    *canvas.Rectangle
	title *widget.Label
	body  *widget.Label
	box   *fyne.Container
}

func newBannerBox() *bannerBox {
	b := &bannerBox{
		bg:    canvas.NewRectangle(color.Transparent),
		title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		body:  widget.NewLabel(""),
	}
	b.bg.CornerRadius = 6
	b.body.Wrapping = fyne.TextWrapWord
	b.box = container.NewStack(b.bg, container.NewPadded(container.NewVBox(b.title, b.body)))
	b.box.Hide()
	return b
}

func (b *bannerBox) set(v view.Banner) {
	if v.Severity == view.SeverityNone {
		b.box.Hide()
		return
	}
	b.bg.FillColor = severityColor(v.Severity)
	b.bg.Refresh()
	b.title.SetText(v.Title)
	b.body.SetText(v.Body)
	b.box.Show()
}

func severityColor(s view.Severity) color.Color {
	switch s {
	case view.SeverityError:
		return color.NRGBA{R: 0xd6, G: 0x2f, B: 0x2f, A: 0x40}
	case view.SeverityWarning:
		return color.NRGBA{R: 0xf0, G: 0xa2, B: 0x02, A: 0x48}
	default:
		return color.NRGBA{R: 0x1f, G: 0x6f, B: 0xc9, A: 0x30}
	}
}

// errorLabel is a label in the theme's error colour for a message next to a field or a button;
// empty, it takes no room.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// setError shows text as an error (the theme's error colour) on l; "" hides l.
func setError(l *widget.Label, text string) {
	l.Importance = widget.DangerImportance
	setMessage(l, text)
}

// setSuccess shows text as good news (the theme's success colour, never the error colour).
func setSuccess(l *widget.Label, text string) {
	l.Importance = widget.SuccessImportance
	setMessage(l, text)
}

// setMessage sets l's text in its current colour; "" hides l.
func setMessage(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// heading is a bold section title.
func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// spacer is an empty object of a fixed height.
func spacer(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(1, h))
	return r
}

// column is a table column: its title, its least width and, when not 0, its greatest width
// (longer text is ellipsised).
type column struct {
	title    string
	width    float32
	maxWidth float32
}

// maxFitRows is how many rows fitColumns measures: enough to see the table's usual content,
// few enough to stay quick with 10,000 rows.
const maxFitRows = 500

// fitColumns sets each column of t to the width of its widest text, its title or a cell of the
// first maxFitRows rows, within the column's least and greatest width, so that cells are not
// cut off. text returns a cell's text.
func fitColumns(t *widget.Table, cols []column, rows int, text func(row, col int) string) {
	size := theme.TextSize()
	pad := 2*theme.InnerPadding() + 2
	bold := fyne.TextStyle{Bold: true}
	for c, col := range cols {
		w := max(col.width, fyne.MeasureText(col.title, size, bold).Width+pad)
		seen := map[string]bool{}
		for r := range min(rows, maxFitRows) {
			s := text(r, c)
			if seen[s] {
				continue
			}
			seen[s] = true
			w = max(w, fyne.MeasureText(s, size, fyne.TextStyle{}).Width+pad)
		}
		if col.maxWidth > 0 {
			w = min(w, col.maxWidth)
		}
		t.SetColumnWidth(c, w)
	}
}

// newTable is a table of rows() rows of cols, with bold column titles and ellipsised cells that
// update fills.
func newTable(cols []column, rows func() int, update func(widget.TableCellID, fyne.CanvasObject)) *widget.Table {
	t := widget.NewTableWithHeaders(
		func() (int, int) { return rows(), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		update,
	)
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(cols) {
			o.(*widget.Label).SetText(cols[id.Col].title)
		}
	}
	for i, c := range cols {
		t.SetColumnWidth(i, c.width)
	}
	return t
}
