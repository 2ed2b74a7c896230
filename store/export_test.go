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

// DocKey and ExtIDKey name a request's document and an external id's
// reservation, for tests that damage them on purpose.
func (s *Store) DocKey(id int64) string     { return s.docKey(id) }
func (s *Store) ExtIDKey(ext string) string { return s.extIDKey(ext) }
