package control

import "context"

// Hooks are the parts of the owner the control API calls but does not implement: the windows,
// the portal and alert settings with their secrets, and the checks of the browser and profile.
// A nil hook makes its route answer 501 (code not_supported, or no_windows for ShowWindow).
// Every hook may be called concurrently and must honour ctx.
type Hooks struct {
	// ShowWindow shows (or raises) the named window: status, history, orders or settings. Nil
	// for a headless owner. Return ErrNoWindows when there is no desktop to show it on.
	ShowWindow func(name string) error
	// Portal returns the portal configuration (never the password).
	Portal func(ctx context.Context) (PortalInfo, error)
	// SetPortal validates and saves the portal configuration; empty fields and a nil password
	// keep what is stored. An invalid value returns a scheduler.ValidationError naming the field
	// (url, profile, username) and changes nothing.
	SetPortal func(ctx context.Context, in PortalInput) (PortalInfo, error)
	// TestLogin signs in to the portal with the saved configuration, in a browser of its own.
	// Return a *scheduler.RunError so the client can say what is wrong.
	TestLogin func(ctx context.Context) error
	// TestProfile signs in with the saved account and reads the first list pages and a few
	// detail pages with the configured profile (or in.File), storing nothing; report is a
	// scraper.ProfileReport (also on failure, as far as it got), err a *scheduler.RunError.
	// The settings window's "Test profile" button and `worktray profile test` call it.
	TestProfile func(ctx context.Context, in ProfileTestInput) (report any, err error)
	// Alerts returns the alert settings (notify.Settings) and whether the Pushover keys are set;
	// never the keys.
	Alerts func(ctx context.Context) (AlertsInfo, error)
	// SetAlerts validates and saves the alert settings (notify.Settings) and the Pushover keys.
	// An invalid value returns a scheduler.ValidationError naming the field and changes nothing.
	SetAlerts func(ctx context.Context, in AlertsInput) (AlertsInfo, error)
	// SendTestAlert sends a test message through every enabled channel.
	SendTestAlert func(ctx context.Context) error
	// Diagnostics checks what only the owner's parts know: Chromium found and its version, the
	// profile valid, credentials present (never shown), the alert keys.
	Diagnostics func(ctx context.Context) []Check
	// FailureThreshold is how many consecutive failures make the health endpoint answer 503;
	// nil or a result below 1 means 2.
	FailureThreshold func() int
	// RetentionChanged is called after PUT /api/retention saved a new retention, so the owner
	// prunes the run history at once. It must not block; nil does nothing.
	RetentionChanged func()
}
