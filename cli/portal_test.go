package cli

import (
	"strings"
	"testing"
)

// TestPortalSetRefusesBadInput: against a real owner, `portal set` refuses a URL with
// credentials and a user name with a control character or over 256 characters, naming the
// field (exit 4) before asking for a password; nothing is saved.
func TestPortalSetRefusesBadInput(t *testing.T) {
	dir := shortTempDir(t)
	startOwner(t, dir)
	for _, tc := range []struct {
		name  string
		args  []string
		field string
	}{
		{"credentials in the URL", []string{"--url", "https://me:hunter2@portal.example.com", "--username", "me"}, "url (--url): must not contain a user name or password"},
		{"control character", []string{"--url", "https://portal.example.com", "--username", "me\x07"}, "username (--username): contains a control character"},
		{"too long", []string{"--url", "https://portal.example.com", "--username", strings.Repeat("a", 257)}, "username (--username): is 257 characters long; at most 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A password on stdin would be read if the command got that far.
			r := cli(t, dir, "secret-pw\n", append([]string{"portal", "set"}, tc.args...)...)
			expect(t, r, ExitInvalid, "nothing changed", tc.field)
			if strings.Contains(r.stderr, "Portal password") {
				t.Errorf("asked for a password before refusing:\n%v", r)
			}
		})
	}
	r := cli(t, dir, "", "portal", "show", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"url": ""`) && !strings.Contains(r.stdout, `"url":""`) {
		t.Fatalf("portal settings after refused writes:\n%v", r)
	}
}
