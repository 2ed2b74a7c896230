package store

// Prefix exposes the key prefix to the tests that break keys on purpose.
func (s *Store) Prefix() string { return s.prefix }

// WithListPage lets tests page through indexes without creating hundreds of
// requests.
func (s *Store) WithListPage(n int) *Store {
	c := *s
	c.listPage = n
	return &c
}
