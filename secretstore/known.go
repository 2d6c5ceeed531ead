package secretstore

// Has reports whether s holds a record for id, without copying it.
func (s *Static) Has(id string) bool {
	_, ok := s.records[id]
	return ok
}

// Known reports, without asking the source, whether id names an
// integration the cache has reason to believe exists: it holds a record of
// id (however old), or, with a Lister, the last listing named id or an
// admin wrote id since. It lets a caller tell a flood of unknown ids from
// known ones before any source is read.
func (c *Cache) Known(id string) bool {
	c.mu.RLock()
	_, ok := c.pos[id]
	c.mu.RUnlock()
	return ok || c.known.names(id)
}
