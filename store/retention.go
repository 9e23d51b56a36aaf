package store

import (
	"fmt"

	"worktray/scheduler"
)

// RetentionKey is the settings key of the history Retention (PutSetting, Setting).
const RetentionKey = "retention"

// The bounds of Retention.KeepRuns.
const (
	MinKeepRuns = 100
	MaxKeepRuns = 1_000_000
)

// Retention says how much run history the owner keeps. The owner prunes to it with PruneRuns
// when it starts, every 24 hours, and at once when the setting changes. Pruning deletes run
// records only, never slot claims, so it can neither make a slot run again nor block claiming
// one (the rule is stated on PruneRuns). Load it by filling
// DefaultRetention() and unmarshalling over it (Retention does), so a field missing from an
// older stored value keeps its default.
type Retention struct {
	// KeepRuns is how many run records are kept, newest first (default 10,000; 100 to
	// 1,000,000). Running runs and the newest run are never pruned.
	KeepRuns int `json:"keep_runs"`
}

// DefaultRetention returns the retention of a new installation: the last 10,000 runs, more
// than a year of hourly scrapes.
func DefaultRetention() Retention { return Retention{KeepRuns: 10_000} }

// Validate checks every field and returns a scheduler.ValidationError naming each invalid one
// (keep_runs), or nil.
func (r Retention) Validate() error {
	var errs scheduler.ValidationError
	if r.KeepRuns < MinKeepRuns || r.KeepRuns > MaxKeepRuns {
		errs = append(errs, &scheduler.FieldError{Field: "keep_runs",
			Msg: fmt.Sprintf("must be between %d and %d runs, got %d", MinKeepRuns, MaxKeepRuns, r.KeepRuns)})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Retention returns the saved retention over DefaultRetention (the default when none was
// saved). A stored value that no longer validates is returned together with its
// ValidationError. Safe for concurrent use.
func (db *DB) Retention() (Retention, error) {
	r := DefaultRetention()
	if _, err := db.Setting(RetentionKey, &r); err != nil {
		return DefaultRetention(), err
	}
	if err := r.Validate(); err != nil {
		return r, db.wrap("read retention: the saved retention is invalid", err)
	}
	return r, nil
}

// SaveRetention validates r and saves it under RetentionKey; an invalid value is refused with
// its scheduler.ValidationError (use errors.As) and nothing is written. It does not prune: the
// owner does. Safe for concurrent use.
func (db *DB) SaveRetention(r Retention) error {
	if err := r.Validate(); err != nil {
		return db.wrap("save retention", err)
	}
	return db.PutSetting(RetentionKey, r)
}
