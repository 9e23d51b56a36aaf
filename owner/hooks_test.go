package owner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"worktray/control"
	"worktray/paths"
	"worktray/secret"
	"worktray/store"
)

// TestSettingsRevisionsThroughTheOwner runs a whole headless owner in this process: the portal
// and alert settings come with their revision; a write at it is applied (password included) and
// moves it on; a write at the old one is refused and changes neither the settings nor the
// secrets.
func TestSettingsRevisionsThroughTheOwner(t *testing.T) {
	p := paths.Resolve(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Paths: p, Headless: true, Stderr: io.Discard}) }()
	c := control.NewClient(p.Socket)
	defer c.Close()
	eventually(t, "the owner's socket", 10*time.Second, func() bool { _, err := c.Status(ctx); return err == nil })

	pi, err := c.Portal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, second := "first-password", "second-password"
	in := control.PortalInput{URL: "https://portal.example.com", Profile: "demo", Username: "me@example.com", Password: &first}
	got, err := c.SetPortalAt(ctx, in, pi.Revision)
	if err != nil || got.Revision != pi.Revision+1 || !got.PasswordSet || got.Username != "me@example.com" {
		t.Fatalf("SetPortalAt at the current revision: %+v, %v", got, err)
	}
	in.Username, in.Password = "someone@example.com", &second
	if _, err := c.SetPortalAt(ctx, in, pi.Revision); !errors.Is(err, store.ErrStaleRevision) {
		t.Fatalf("SetPortalAt at the old revision: %v, want ErrStaleRevision", err)
	}
	if now, _ := c.Portal(ctx); now.Username != "me@example.com" || now.Revision != got.Revision {
		t.Fatalf("portal after the refused write: %+v", now)
	}

	ai, err := c.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	three, four := 3, 4
	if a, err := c.SetAlertsAt(ctx, control.AlertsInput{FailureThreshold: &three}, ai.Revision); err != nil || a.Revision != ai.Revision+1 {
		t.Fatalf("SetAlertsAt: %+v, %v", a, err)
	}
	if _, err := c.SetAlertsAt(ctx, control.AlertsInput{FailureThreshold: &four}, ai.Revision); !errors.Is(err, store.ErrStaleRevision) {
		t.Fatalf("SetAlertsAt at the old revision: %v", err)
	}
	if h, err := c.Health(ctx); err != nil || h.FailureThreshold != 3 {
		t.Fatalf("threshold after the refused write: %+v, %v", h, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("owner: %v", err)
	}
	secrets, err := secret.Open(p.ConfigDir, false)
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := secrets.Get(secret.PortalPassword); err != nil || pw != first {
		t.Fatalf("stored password %q (%v), want the applied write's", pw, err)
	}
}

// TestSecretUndo: the secrets a settings change replaced go back as they were (a value restored,
// a new one removed) when the change's settings cannot be saved.
func TestSecretUndo(t *testing.T) {
	secrets, err := secret.Open(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(secret.PortalPassword, "old-password"); err != nil {
		t.Fatal(err)
	}
	o := &owner{secrets: secrets, log: slog.New(slog.DiscardHandler)}
	var undo secretUndo
	if err := undo.replace(o, secret.PortalPassword, "new-password"); err != nil {
		t.Fatal(err)
	}
	if err := undo.replace(o, secret.PushoverToken, "tok4Q9zW8x7V6u5T4s3R2q1P0o9N8m"); err != nil {
		t.Fatal(err)
	}
	if pw, _ := secrets.Get(secret.PortalPassword); pw != "new-password" {
		t.Fatalf("password %q after replace", pw)
	}
	undo.run(o)
	if pw, err := secrets.Get(secret.PortalPassword); err != nil || pw != "old-password" {
		t.Fatalf("password %q (%v) after undo, want the old one", pw, err)
	}
	if _, err := secrets.Get(secret.PushoverToken); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("token after undo: %v, want it removed", err)
	}
}
