package control

import (
	"context"
	"time"
)

// needsSetup reports whether no portal is set up: the Portal hook answers with no address.
// Without that hook (tests, a minimal owner) it cannot tell and says false. It blocks for at
// most a second.
func (s *Server) needsSetup() bool {
	if s.cfg.Hooks.Portal == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	pi, err := s.cfg.Hooks.Portal(ctx)
	return err == nil && pi.URL == ""
}
