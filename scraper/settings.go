package scraper

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"worktray/scheduler"
)

// SettingsKey is the store key of the portal settings.
const SettingsKey = "portal"

// ProfileDemo names the built-in profile of the demo portal in Settings.Profile.
const ProfileDemo = "demo"

// MaxUsernameLength is the longest portal user name Validate accepts, in bytes.
const MaxUsernameLength = 256

// Settings say which portal to scrape and how to sign in. The password is a secret and is kept
// apart (package secret), never here.
type Settings struct {
	URL         string `json:"url"`
	Profile     string `json:"profile"` // a profile file (TOML or JSON), or "demo" for the built-in one
	Username    string `json:"username"`
	BrowserPath string `json:"browser_path,omitempty"` // empty: the system's Chromium or Chrome
}

// Validate checks the settings and returns a scheduler.ValidationError naming each invalid field.
// It also loads the profile file, so a broken profile is refused when it is set, not at 3 a.m.
func (s Settings) Validate() error {
	var errs scheduler.ValidationError
	add := func(field, msg string) { errs = append(errs, &scheduler.FieldError{Field: field, Msg: msg}) }
	if strings.TrimSpace(s.URL) == "" {
		add("url", "is empty; enter the portal's address, e.g. https://portal.example.com")
	} else if u, err := url.Parse(s.URL); err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("url", "must be an http or https address, e.g. https://portal.example.com")
	} else if u.User != nil {
		add("url", "must not contain a user name or password (user:password@…); enter them as the username and password")
	}
	switch {
	case strings.TrimSpace(s.Username) == "":
		add("username", "is empty")
	case len(s.Username) > MaxUsernameLength:
		add("username", fmt.Sprintf("is longer than %d characters", MaxUsernameLength))
	case strings.IndexFunc(s.Username, unicode.IsControl) >= 0:
		add("username", "contains a control character (a tab, a line break or the like)")
	}
	if _, err := s.LoadProfile(); err != nil {
		add("profile", err.Error())
	}
	if s.BrowserPath != "" {
		if _, err := FindBrowser(s.BrowserPath); err != nil {
			add("browser_path", err.Error())
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// LoadProfile returns the profile the settings name: the built-in demo profile for "" or
// "demo", else the profile file.
func (s Settings) LoadProfile() (*Profile, error) {
	if s.Profile == "" || s.Profile == ProfileDemo {
		return DemoProfile(s.URL)
	}
	return LoadProfile(s.Profile)
}
