package handlers

// pick is one or many by n: the verb that goes with provisioning.Count.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
