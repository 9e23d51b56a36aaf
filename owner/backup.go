package owner

import (
	"context"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// This file takes the daily backup of the store (store.DB.DailyBackup): after the first
// successful scrape of each local day, in the backup directory beside the store
// (paths.Paths.BackupDir), the last store.BackupKeep kept.

// dailyBackup returns the part that takes the day's backup after each successful run, told
// by the scheduler's EventRunFinished. A backup that fails is logged and tried again after
// the next success; it never stops the owner (`worktray diagnose` warns when the newest
// backup grows old).
func (o *owner) dailyBackup(sub *scheduler.Subscription) part {
	o.cleanup.add(sub.Close)
	return part{"daily backup", func(ctx context.Context) error {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev := <-sub.C:
				if ev.Kind == scheduler.EventRunFinished && ev.Run != nil && ev.Run.Status == scheduler.StatusSucceeded {
					o.backUp(ctx, time.Now())
				}
			}
		}
	}}
}

// backUp takes the backup of now's local day unless it exists. It blocks while the copy is
// written.
func (o *owner) backUp(ctx context.Context, now time.Time) {
	path, taken, err := o.db.DailyBackup(ctx, o.paths.BackupDir, now.Local(), store.BackupKeep)
	switch {
	case err != nil && ctx.Err() == nil:
		o.log.Error("daily backup failed", "dir", o.paths.BackupDir, "err", err)
	case taken:
		o.log.Info("daily backup taken", "path", path)
	}
}
