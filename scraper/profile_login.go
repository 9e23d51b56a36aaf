package scraper

// LoginProfile says how to sign in.
type LoginProfile struct {
	URL      string `toml:"url" json:"url"`           // the login page
	Username string `toml:"username" json:"username"` // the user name or email input
	Password string `toml:"password" json:"password"` // the password input
	Submit   string `toml:"submit" json:"submit"`     // the button that sends the form
	// Next, for two-step logins, is the button that sends the user name alone; the password
	// input is then looked for on the page that follows (the same page redrawn, or a new one).
	Next string `toml:"next" json:"next"`
	// Form is present on any page that asks for a login; a list or detail page showing it means
	// the session ended. Defaults to Username.
	Form string `toml:"form" json:"form"`
	// Failure is the message a failed login shows; its text is reported to the user.
	Failure string `toml:"failure" json:"failure"`
	// Success, when set, must appear after a successful login. Without it a login counts only
	// once the work-order list (its rows or its empty-state marker) has been reached.
	Success string `toml:"success" json:"success"`
}

// validateLogin checks the login section and fills in its defaults.
func (p *Profile) validateLogin(bad badFunc, checkURL func(field, v string, required bool)) {
	l := &p.Login
	checkURL("login.url", l.URL, true)
	for _, s := range []struct {
		name, v  string
		required bool
	}{
		{"login.username", l.Username, true}, {"login.password", l.Password, true}, {"login.submit", l.Submit, true},
		{"login.next", l.Next, false}, {"login.form", l.Form, false}, {"login.failure", l.Failure, false},
		{"login.success", l.Success, false},
	} {
		if s.v == "" {
			if s.required {
				bad(s.name, "is required (a CSS selector)")
			}
			continue
		}
		if msg := checkSelector(s.v); msg != "" {
			bad(s.name, "%s", msg)
		}
	}
	if l.Form == "" {
		l.Form = l.Username
	}
}
