package modproxy

import "time"

// SetStallTimeout shortens the upstream stall timeout for a test.
func SetStallTimeout(p *Proxy, d time.Duration) { p.up.stall = d }

// ParseRequestForTest exposes the path parser to the fuzz test.
func ParseRequestForTest(path string) (kind, mod, version string, err error) {
	r, err := parseRequest(path)
	return r.kind, r.module, r.version, err
}

// SetOrphanWait shortens how long a fetch waits for another writer's
// record before it replaces a stored file without one.
func SetOrphanWait(p *Proxy, d time.Duration) { p.orphanWait = d }
