package owner

import (
	"context"
	"log/slog"
	"time"

	"worktray/store"
)

// This file keeps the run history to the user's retention setting (store.Retention).

// pruneEvery is how often the owner prunes the run history while it runs.
const pruneEvery = 24 * time.Hour

// retentionParts returns the history pruner, which the control API's RetentionChanged hook
// kicks.
func (o *owner) retentionParts(context.Context) ([]part, error) {
	o.pruner = newHistoryPruner(o.db, o.log, pruneEvery)
	return []part{{"history retention", o.pruner.Run}}, nil
}

// retentionChanged is the control API's RetentionChanged hook: it has the pruner prune at
// once and tells the windows. It does not block and is safe for concurrent use.
func (o *owner) retentionChanged() {
	if o.pruner != nil {
		o.pruner.Kick()
	}
	o.settingsChanged("retention")
}

// historyPruner deletes the oldest run records beyond the stored retention: when it starts,
// every interval, and at once when kicked. Running runs and the newest run are never deleted
// (store.PruneRuns).
type historyPruner struct {
	db    *store.DB
	log   *slog.Logger
	every time.Duration
	kick  chan struct{}
}

func newHistoryPruner(db *store.DB, log *slog.Logger, every time.Duration) *historyPruner {
	return &historyPruner{db: db, log: log, every: every, kick: make(chan struct{}, 1)}
}

// Kick asks for a prune now. It does not block: kicks that arrive while one is pending merge
// into it. Safe for concurrent use.
func (p *historyPruner) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run prunes at once, then every interval and on each Kick, until ctx is done. A failed prune
// is logged and tried again at the next turn; it never stops the owner. It blocks.
func (p *historyPruner) Run(ctx context.Context) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		p.prune()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

// prune deletes the runs beyond the stored retention and returns how many it deleted. A stored
// retention that does not validate prunes nothing.
func (p *historyPruner) prune() int {
	r, err := p.db.Retention()
	if err != nil {
		p.log.Error("history not pruned: reading the retention setting", "err", err)
		return 0
	}
	n, err := p.db.PruneRuns(r.KeepRuns)
	if err != nil {
		p.log.Error("history not pruned", "keep_runs", r.KeepRuns, "err", err)
		return 0
	}
	if n > 0 {
		p.log.Info("history pruned", "count", n, "keep_runs", r.KeepRuns)
	}
	return n
}
