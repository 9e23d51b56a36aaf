package owner

import (
	"context"
	"errors"
	"time"

	"worktray/notify"
	"worktray/store"
)

// kindStoreUnusable is the desktop notification of an owner that cannot start on its store.
const kindStoreUnusable = "store_unusable"

// sayCannotStart tells a desktop user why the owner does not start when the store is
// damaged, empty, unreadable or cannot be written: the owner was most likely started from the
// desktop's menu or at login, where nobody reads its standard error. The notification carries
// the store's message (the file, the newest backup and the restore command). It is best
// effort: with no session bus or notification server nothing is shown. It blocks at most a few
// seconds.
func sayCannotStart(ctx context.Context, opts Options, err error) {
	if opts.Headless || !(errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnreadable) || errors.Is(err, store.ErrWriteFailed)) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d := &notify.DBusDesktop{AppName: "worktray", Address: opts.DBusAddress}
	defer d.Close()
	_ = d.Show(ctx, notify.Notification{Kind: kindStoreUnusable, Title: "worktray cannot start", Body: err.Error(), Priority: 1})
}
