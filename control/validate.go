package control

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"worktray/scheduler"
)

// MaxUsernameLength is the longest portal user name accepted, in characters.
const MaxUsernameLength = 256

// ValidatePortalInput checks what PUT /api/portal receives before anything reads it further:
// the URL must not carry credentials (`http://user:pw@…`: the password belongs in the secret
// store, and a URL is logged and shown), and the user name must be at most MaxUsernameLength
// characters of valid UTF-8 without control characters. It returns a scheduler.ValidationError
// naming each bad field (url, username), or nil. Empty fields (kept as stored) pass. It does
// no I/O and is safe for concurrent use; the CLI calls it too, before asking for a password.
func ValidatePortalInput(in PortalInput) error {
	var errs scheduler.ValidationError
	if v := strings.TrimSpace(in.URL); v != "" {
		if u, err := url.Parse(v); err == nil && u.User != nil {
			errs = append(errs, &scheduler.FieldError{Field: "url",
				Msg: "must not contain a user name or password (user:password@); give the user name with --username and the password at the prompt"})
		}
	}
	if v := in.Username; v != "" {
		switch {
		case !utf8.ValidString(v):
			errs = append(errs, &scheduler.FieldError{Field: "username", Msg: "is not valid UTF-8 text"})
		case utf8.RuneCountInString(v) > MaxUsernameLength:
			errs = append(errs, &scheduler.FieldError{Field: "username",
				Msg: fmt.Sprintf("is %d characters long; at most %d are allowed", utf8.RuneCountInString(v), MaxUsernameLength)})
		case strings.ContainsFunc(v, unicode.IsControl):
			errs = append(errs, &scheduler.FieldError{Field: "username",
				Msg: "contains a control character (a tab, a line break or another invisible one)"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
