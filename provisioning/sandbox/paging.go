package sandbox

import "strconv"

// pageLimit bounds max: capped silently (as Webex does for customers and numbers) or
// refused (the subscriber list documents max ≤ 100).
type pageLimit struct {
	def, limit int
	refuse     bool
}

// paging parses offset and max.
func paging(p *problems, offsetS, maxS string, pl pageLimit) (offset, max int) {
	offset, max = 0, pl.def
	if offsetS != "" {
		n, err := strconv.Atoi(offsetS)
		if err != nil || n < 0 {
			p.add("offset %q is not a whole number ≥ 0", offsetS)
		}
		offset = n
	}
	if maxS != "" {
		n, err := strconv.Atoi(maxS)
		switch {
		case err != nil || n < 1:
			p.add("max %q is not a whole number ≥ 1", maxS)
		case n > pl.limit && pl.refuse:
			p.add("max %d exceeds %d", n, pl.limit)
		}
		max = min(n, pl.limit)
	}
	return offset, max
}

func window[T any](all []T, offset, max int) []T {
	if offset >= len(all) || max <= 0 {
		return nil
	}
	return all[offset:min(len(all), offset+max)]
}
