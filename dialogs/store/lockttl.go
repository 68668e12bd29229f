package store

import "time"

// LockTTL is how long a chat lock lives if its holder neither commits nor
// releases it: dialogs.Runner bounds its turns by it.
func (m *Memory) LockTTL() time.Duration { return m.lockTTL }

// LockTTL is how long a chat lock lives if its holder neither commits nor
// releases it: dialogs.Runner bounds its turns by it.
func (r *Redis) LockTTL() time.Duration { return r.lockTTL }
