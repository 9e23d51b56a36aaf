package view

import (
	"worktray/scheduler"
)

// ClassText says in words what went wrong for an error class, never the class's code:
// login_failed is "the portal refused the sign-in". It is the one place the desktop turns an
// error class into words; the tray, the status, history and work-order windows all use it.
func ClassText(c scheduler.ErrorClass) string {
	switch c {
	case scheduler.ClassLoginFailed:
		return "the portal refused the sign-in"
	case scheduler.ClassTimeout:
		return "the portal did not answer in time"
	case scheduler.ClassPortalError:
		return "the portal showed an error"
	case scheduler.ClassLayoutChanged:
		return "the portal's pages look different"
	case scheduler.ClassBrowserFailed:
		return "the browser could not run"
	case scheduler.ClassCanceled:
		return "canceled"
	case scheduler.ClassStorageFailed:
		return "worktray could not save its data"
	case scheduler.ClassConfig:
		return "the portal settings cannot be used"
	default:
		return "the scrape failed"
	}
}

// Advice says what the user can do about a failure of class c in situation s, or "" when
// there is nothing to do. It never advises what is impossible: no "Scrape now" while a scrape
// runs or no portal is set up, no "retries by itself" when no retry is pending or none are
// configured.
func Advice(c scheduler.ErrorClass, s Situation) string {
	retries := !s.NoPortal && (!s.RetryAt.IsZero() || s.Schedule.Retries > 0)
	switch c {
	case scheduler.ClassLoginFailed:
		return "Check the username and password in Settings → Portal, then use Test login."
	case scheduler.ClassTimeout, scheduler.ClassPortalError:
		if retries {
			return "Check the network and that the portal is up; worktray retries by itself."
		}
		return "Check the network and that the portal is up."
	case scheduler.ClassLayoutChanged:
		return "Update the portal profile in Settings → Portal to match the portal's pages."
	case scheduler.ClassBrowserFailed:
		return "Check that Chromium is installed and can start (`worktray diagnose`)."
	case scheduler.ClassStorageFailed:
		return "Check that the disk has room and the data folder is writable (`worktray diagnose`)."
	case scheduler.ClassConfig:
		return "Correct the portal settings in Settings → Portal."
	case scheduler.ClassCanceled:
		return ""
	default:
		if retries {
			return "The log says more; worktray retries by itself."
		}
		return "The log in the log folder (Settings → General) says more."
	}
}
