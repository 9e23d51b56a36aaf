// Package notify decides which alerts the scheduler's outcomes raise (Policy, a
// scheduler.AlertPolicy) and delivers the store's alert outbox to Pushover and the desktop
// (Notifier). Settings are the user's alert settings, stored under SettingsKey.
//
// Wiring, in main.go:
//
//	secrets, _ := secret.Open(configDir, true)
//	policy := notify.NewPolicy(alertSettings, scheduleLocation, secrets.Redactor())
//	// the scheduler calls policy.RunFinished inside FinishRun's transaction
//	desktop := &notify.DBusDesktop{AppName: "worktray", OnAction: showWindow} // Close it at exit
//	n, _ := notify.New(notify.Config{
//		Outbox: db, Settings: db, State: db, Policy: policy, Delivery: db,
//		Credentials: secrets, Desktop: desktop,
//		Clock: clock, Logger: log, Redactor: secrets.Redactor(),
//	})
//	go n.Run(ctx)                     // until shutdown
//	// on scheduler.EventAlertsQueued, and after alert settings or secrets change: n.Kick()
//	// on scheduler.EventRunFinished with a success: n.ScrapesWork() (withdraws failing/missed)
//	// status, diagnose, `alerts show`: db.AlertDelivery() (a refused key, held alerts)
//	// "Send test" / `worktray alerts test`: msg, err := n.SendTest(ctx)
//	// on a schedule change: policy.SetLocation(loc)
package notify
