package owner

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"worktray/control"
	"worktray/notify"
	"worktray/scheduler"
	"worktray/secret"
	"worktray/store"
)

// diagnose no longer says "✓ pushover keys set" while Pushover refuses every send, and it says
// when alerts are held.
func TestDiagnosePushoverRefusedAndHeld(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "worktray.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets, err := secret.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{secret.PushoverToken: "azGDORePK8gMaC0QOYAMyEEuzJnyUi", secret.PushoverUserKey: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"} {
		if err := secrets.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	s := notify.DefaultSettings()
	s.PushoverEnabled = true
	if err := db.PutSetting(notify.SettingsKey, s); err != nil {
		t.Fatal(err)
	}
	check := func(name string) control.Check {
		t.Helper()
		for _, c := range diagnostics(context.Background(), db, secrets) {
			if c.Name == name {
				return c
			}
		}
		return control.Check{}
	}
	if c := check("pushover keys"); c.Status != control.CheckOK {
		t.Fatalf("keys set, nothing refused: %+v", c)
	}
	if c := check("pushover delivery"); c.Name != "" {
		t.Errorf("nothing held, yet %+v", c)
	}
	refused := scheduler.AlertDelivery{Remaining: -1, Pending: 2, NeedsUser: &scheduler.DeliveryProblem{Field: "pushover_user_key",
		Message: "Pushover rejected the user key; fix it in Settings → Alerts (or `worktray alerts set`)", Since: time.Now()}}
	if err := db.SaveAlertDelivery(refused); err != nil {
		t.Fatal(err)
	}
	if c := check("pushover keys"); c.Status != control.CheckFail || !strings.Contains(c.Detail, "rejected the user key") || c.Fix == "" {
		t.Errorf("keys refused: %+v, want a failing check saying so", c)
	}
	held := scheduler.AlertDelivery{Remaining: -1, Pending: 3, Held: &scheduler.DeliveryHold{Reason: scheduler.HoldOutage,
		Until: time.Now().Add(time.Minute), Message: "Pushover could not be reached; alerts are retried at 10:05"}}
	if err := db.SaveAlertDelivery(held); err != nil {
		t.Fatal(err)
	}
	if c := check("pushover keys"); c.Status != control.CheckOK {
		t.Errorf("keys fine during an outage: %+v", c)
	}
	if c := check("pushover delivery"); c.Status != control.CheckWarn || !strings.Contains(c.Detail, "(3 waiting)") {
		t.Errorf("held alerts: %+v, want a warning with the count", c)
	}
}
