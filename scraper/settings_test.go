package scraper

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"worktray/scheduler"
)

// TestSettingsValidateNamesTheField refuses bad portal settings, each naming its field: a URL
// with credentials, a user name with control characters or too long, a profile whose selector
// is not CSS, a profile file too large or gone.
func TestSettingsValidateNamesTheField(t *testing.T) {
	dir := t.TempDir()
	badSel := filepath.Join(dir, "bad-selector.toml")
	if err := os.WriteFile(badSel, []byte(strings.Replace(validTOML, `row = "tr.order"`, `row = "tr.order[["`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(validTOML+"#"+strings.Repeat("x", MaxProfileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	good := Settings{URL: "https://portal.example.com", Username: "ann@example.com", Profile: "demo"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	for _, tc := range []struct {
		name  string
		mod   func(*Settings)
		field string
		msg   string
	}{
		{"credentials in the URL", func(s *Settings) { s.URL = "https://ann:secret@portal.example.com" }, "url", "must not contain a user name or password"},
		{"control character", func(s *Settings) { s.Username = "ann\n@example.com" }, "username", "control character"},
		{"long user name", func(s *Settings) { s.Username = strings.Repeat("a", 257) }, "username", "longer than 256"},
		{"invalid selector", func(s *Settings) { s.Profile = badSel }, "profile", "list.row"},
		{"profile too large", func(s *Settings) { s.Profile = big }, "profile", "larger than"},
		{"profile gone", func(s *Settings) { s.Profile = filepath.Join(dir, "gone.toml") }, "profile", "gone.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.mod(&s)
			err := s.Validate()
			var ve scheduler.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%v is no ValidationError", err)
			}
			found := false
			for _, f := range ve {
				if f.Field == tc.field && strings.Contains(f.Msg, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("%v does not name %s with %q", err, tc.field, tc.msg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
