package screens

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"worktray/scheduler"
	"worktray/secret"
)

// portalTab is the settings window's portal tab: the portal address, profile and sign-in. It owns
// its widgets, field errors and messages; it is used on Fyne's goroutine only.
type portalTab struct {
	w *Settings // the window: backend, options, layout

	portal                                           Portal   // as loaded
	portalRev                                        Revision // as loaded; a save is based on it
	portalURL, portalProfile, portalUser, portalPass *widget.Entry
	portalErrs                                       map[string]*widget.Label
	portalMsg                                        *widget.Label
}

// Portal is the portal configuration as the settings window shows it: never the password.
type Portal struct {
	URL         string
	Profile     string // a profile file, or "demo" for the built-in one
	Username    string
	PasswordSet bool
	Revision    Revision
}

// PortalChange is a change of the portal configuration: an empty URL, Profile or Username and a
// nil Password keep the stored value, so that only what the user changed is saved.
type PortalChange struct {
	URL, Profile, Username string
	Password               *string
}

func (s *portalTab) content() fyne.CanvasObject {
	s.portalErrs = errLabels(portalFields)
	s.portalURL = widget.NewEntry()
	s.portalURL.SetPlaceHolder("https://portal.example.com/login")
	s.portalProfile = widget.NewEntry()
	s.portalProfile.SetPlaceHolder("demo, or the path of a profile file (.toml or .json)")
	s.portalUser = widget.NewEntry()
	s.portalPass = widget.NewPasswordEntry()
	s.portalMsg = errorLabel()
	save := widget.NewButton("Save portal", s.savePortal)
	save.Importance = widget.HighImportance
	test, testResult := s.w.tryButton("Test login", "Logging in…", 2*time.Minute, s.w.be.TestLogin)
	testProfile, profileResult := s.w.tryButton("Test profile", "Reading the first page…", 3*time.Minute, s.w.be.TestProfile)
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("Portal URL"), field(s.portalURL, s.portalErrs, "url"),
		widget.NewLabel("Profile"), field(s.portalProfile, s.portalErrs, "profile"),
		widget.NewLabel("Username"), field(s.portalUser, s.portalErrs, "username"),
		widget.NewLabel("Password"), field(s.portalPass, s.portalErrs, "password"),
	)
	return s.w.page(form, container.NewHBox(save, test, testProfile), s.portalMsg,
		widget.NewLabel("Test login and Test profile use the saved settings; Test profile stores nothing."),
		testResult, profileResult)
}

// SetPortal fills the portal tab. It must run on Fyne's goroutine.
func (s *portalTab) SetPortal(p Portal) {
	s.portal = p
	s.portalURL.SetText(p.URL)
	s.portalProfile.SetText(p.Profile)
	s.portalUser.SetText(p.Username)
	s.portalPass.SetText("")
	if p.PasswordSet {
		s.portalPass.SetPlaceHolder("saved; type to replace it")
	} else {
		s.portalPass.SetPlaceHolder("not set")
	}
}

// ValidatePortal checks a portal change and names the invalid fields.
func ValidatePortal(p PortalChange) error {
	var errs scheduler.ValidationError
	u, err := url.Parse(strings.TrimSpace(p.URL))
	switch {
	case strings.TrimSpace(p.URL) == "":
		errs = append(errs, &scheduler.FieldError{Field: "url", Msg: "is empty; enter the address of the portal's login page"})
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, &scheduler.FieldError{Field: "url", Msg: "must be an http:// or https:// address"})
	}
	if p.Password != nil {
		if err := secret.Validate(secret.PortalPassword, *p.Password); err != nil {
			var fe *scheduler.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, &scheduler.FieldError{Field: "password", Msg: fe.Msg})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// portalShown is the portal configuration as the tab shows it, the password if one was typed.
func (s *portalTab) portalShown() PortalChange {
	p := PortalChange{URL: strings.TrimSpace(s.portalURL.Text), Profile: strings.TrimSpace(s.portalProfile.Text),
		Username: strings.TrimSpace(s.portalUser.Text)}
	if s.portalPass.Text != "" {
		pw := s.portalPass.Text
		p.Password = &pw
	}
	return p
}

// portalEdited reports whether the user changed a portal field since it was loaded.
func (s *portalTab) portalEdited() bool {
	p := s.portalShown()
	return p.URL != s.portal.URL || p.Profile != s.portal.Profile || p.Username != s.portal.Username || p.Password != nil
}

func (s *portalTab) savePortal() {
	shown := s.portalShown()
	if err := ValidatePortal(shown); err != nil {
		s.w.showErrors(s.portalErrs, s.portalMsg, err)
		return
	}
	s.w.showErrors(s.portalErrs, s.portalMsg, nil)
	// Only what the user changed.
	p := PortalChange{Password: shown.Password}
	if shown.URL != s.portal.URL {
		p.URL = shown.URL
	}
	if shown.Profile != s.portal.Profile {
		p.Profile = shown.Profile
	}
	if shown.Username != s.portal.Username {
		p.Username = shown.Username
	}
	if p == (PortalChange{}) {
		setSuccess(s.portalMsg, "Nothing to save: no field was changed.")
		s.w.relayout()
		return
	}
	var rev Revision
	s.w.opts.call(0, func(ctx context.Context) (err error) {
		rev, err = s.w.be.SavePortal(ctx, p, s.portalRev)
		return err
	}, func(err error) {
		if !s.w.saved(err, s.portalErrs, s.portalMsg, "the portal settings") {
			return
		}
		s.portalRev = rev
		s.portal.URL, s.portal.Profile, s.portal.Username = shown.URL, shown.Profile, shown.Username
		s.portalPass.SetText("")
		if p.Password != nil {
			s.portal.PasswordSet = true
			s.portalPass.SetPlaceHolder("saved; type to replace it")
		}
		setSuccess(s.portalMsg, "Saved. The next scrape uses these settings.")
		s.w.relayout()
	})
}
