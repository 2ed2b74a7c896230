package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

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

// listAnswer answers a list call with the items of all that one answer carries: from
// offset, at most limit (the call's max) and at most --page-size of them, each turned into its wire form by
// out, under key. When more remain it sets Link rel="next". The next link keeps only max
// and the offset parameter (offsetParam: "offset" for the wholesale lists, "start" for the
// others) and drops every other query parameter, filters and orgId included: Webex is
// reported to do so (WebexPythonSDK issue #168), and a client that follows such a link
// verbatim reads another list than the one it asked for.
func listAnswer[T, O any](s *Sandbox, c *call, key string, all []T, offsetParam string, offset, limit int, out func(T) O) *response {
	size := max(1, min(limit, s.opts.PageSize))
	var page []T
	link := ""
	if offset < len(all) {
		end := min(len(all), offset+size)
		page = all[offset:end]
		if end < len(all) {
			q := url.Values{"max": {strconv.Itoa(size)}, offsetParam: {strconv.Itoa(end)}}
			link = "<" + baseURL(c.r) + strings.TrimPrefix(c.r.URL.EscapedPath(), "/v1") + "?" + q.Encode() + `>; rel="next"`
		}
	}
	items := make([]O, 0, len(page))
	for _, it := range page {
		items = append(items, out(it))
	}
	resp := c.json(http.StatusOK, map[string]any{key: items})
	if link != "" {
		resp.header.Set("Link", link)
	}
	return resp
}
