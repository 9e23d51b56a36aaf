package screens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"worktray/scheduler"
)

func errLabels(names []string) map[string]*widget.Label {
	m := make(map[string]*widget.Label, len(names))
	for _, n := range names {
		m[n] = errorLabel()
	}
	return m
}

// field is a form row's input with its error label under it.
func field(input fyne.CanvasObject, errs map[string]*widget.Label, names ...string) fyne.CanvasObject {
	objs := []fyne.CanvasObject{input}
	for _, n := range names {
		objs = append(objs, errs[n])
	}
	return container.NewVBox(objs...)
}

// showFieldErrors puts each field error next to its field; an error for a field with no label
// goes to msg.
func showFieldErrors(labels map[string]*widget.Label, msg *widget.Label, err error) {
	var ve scheduler.ValidationError
	if !errors.As(err, &ve) {
		for _, l := range labels {
			setError(l, "")
		}
		setError(msg, ErrorText(err))
		return
	}
	var other []string
	for name, l := range labels {
		if fe := ve.Field(name); fe != nil {
			setError(l, fe.Error())
		} else {
			setError(l, "")
		}
	}
	for _, fe := range ve {
		if _, ok := labels[fe.Field]; !ok {
			other = append(other, fe.Error())
		}
	}
	setError(msg, strings.Join(other, "\n"))
}

func (s *Settings) showErrors(labels map[string]*widget.Label, msg *widget.Label, err error) {
	showFieldErrors(labels, msg, err)
	s.relayout()
}

// tryButton is a button that runs try with the saved settings ("Test login", "Send test") off the
// UI goroutine, and the label that shows how it went; the button is disabled meanwhile.
func (s *Settings) tryButton(label, busy string, timeout time.Duration, try func(context.Context) (string, error)) (*widget.Button, *widget.Label) {
	result := widget.NewLabel("")
	result.Wrapping = fyne.TextWrapWord
	var b *widget.Button
	b = widget.NewButton(label, func() {
		b.Disable()
		result.SetText(busy)
		var msg string
		s.opts.call(timeout, func(ctx context.Context) (err error) {
			msg, err = try(ctx)
			return err
		}, func(err error) {
			b.Enable()
			if err != nil {
				result.SetText("✗ " + ErrorText(err))
				return
			}
			result.SetText("✓ " + msg)
		})
	})
	return b, result
}

// wholeNumber parses a field's text as a whole number; text that is not one adds a field error
// naming the field to errs.
func wholeNumber(errs *scheduler.ValidationError, field, text string) int {
	v, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		*errs = append(*errs, &scheduler.FieldError{Field: field, Msg: fmt.Sprintf("%q is not a whole number", text)})
	}
	return v
}
