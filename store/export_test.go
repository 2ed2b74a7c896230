package store

// Prefix exposes the key prefix to the tests that break keys on purpose.
func (s *Store) Prefix() string { return s.prefix }
