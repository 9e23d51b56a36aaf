package control

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"worktray/scheduler"
)

// TestPortalInputRefusedAtTheBoundary: a URL with credentials and a user name with a control
// character or over 256 characters are refused by the server, naming the field, before the
// owner's hook sees them; good input passes through.
func TestPortalInputRefusedAtTheBoundary(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, Hooks{
		Portal: func(context.Context) (PortalInfo, error) { return PortalInfo{}, nil },
		SetPortal: func(_ context.Context, in PortalInput) (PortalInfo, error) {
			calls.Add(1)
			return PortalInfo{URL: in.URL, Username: in.Username}, nil
		},
	})
	for _, tc := range []struct {
		name  string
		in    PortalInput
		field string
	}{
		{"password in URL", PortalInput{URL: "http://user:pw@portal.example.com/", Username: "me"}, "url"},
		{"user in URL", PortalInput{URL: "https://me@portal.example.com"}, "url"},
		{"tab in username", PortalInput{Username: "me\tyou"}, "username"},
		{"newline in username", PortalInput{Username: "me\n"}, "username"},
		{"escape in username", PortalInput{Username: "me\x1b[2J"}, "username"},
		{"long username", PortalInput{Username: strings.Repeat("é", MaxUsernameLength+1)}, "username"},
		{"fine", PortalInput{URL: "https://portal.example.com/login?next=/a@b", Username: strings.Repeat("é", MaxUsernameLength)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			_, err := h.client.SetPortal(ctxT(t), tc.in)
			if tc.field == "" {
				if err != nil || calls.Load() != before+1 {
					t.Fatalf("good input: %v (hook called %d times)", err, calls.Load()-before)
				}
				return
			}
			var ve scheduler.ValidationError
			if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Field != tc.field {
				t.Fatalf("SetPortal(%+v): %v, want a validation error naming %s", tc.in, err, tc.field)
			}
			if calls.Load() != before {
				t.Fatal("the owner's hook saw refused input")
			}
		})
	}
}

// TestValidatePortalInputUTF8: text that is not UTF-8 (which JSON would turn into U+FFFD on the
// way) is refused by the CLI's own call, naming the field.
func TestValidatePortalInputUTF8(t *testing.T) {
	var ve scheduler.ValidationError
	if err := ValidatePortalInput(PortalInput{Username: "me\xff"}); !errors.As(err, &ve) || ve[0].Field != "username" {
		t.Fatalf("ValidatePortalInput: %v", err)
	}
}
