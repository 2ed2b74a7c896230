package webex

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxPages stops a server that keeps answering "next" from looping us
// forever; at 100 items a page it is 100,000 items.
const maxPages = 1000

// pager says how an operation pages when the answer has no Link header.
type pager struct {
	offsetParam string // "offset" (wholesale) or "start" (telephony); "" = Link only
	size        int    // page size sent as max; 0 sends none
}

// listAll fetches every page of c. page decodes one answer and returns how
// many items it held. Link rel="next" wins when present; otherwise the
// offset advances until a short or empty page.
func (cl *Client) listAll(ctx context.Context, c call, p pager, page func(*response) (int, error)) error {
	offset := 0
	next := ""
	for range maxPages {
		cc := c
		if next != "" {
			cc.nextURL = next
		} else {
			q := url.Values{}
			for k, v := range c.query {
				q[k] = v
			}
			if p.size > 0 {
				q.Set("max", strconv.Itoa(p.size))
			}
			if offset > 0 && p.offsetParam != "" {
				q.Set(p.offsetParam, strconv.Itoa(offset))
			}
			cc.query = q
		}
		resp, err := cl.do(ctx, cc)
		if err != nil {
			return err
		}
		n, err := page(resp)
		if err != nil {
			return err
		}
		if next = nextLink(resp.header); next != "" {
			continue
		}
		if p.offsetParam == "" || p.size == 0 || n < p.size || n == 0 {
			return nil
		}
		offset += n
	}
	return &APIError{Op: c.op, Message: fmt.Sprintf("more than %d pages", maxPages)}
}

// listItems fetches every page of c, whose answers hold their items under
// "items" (the wholesale and Locations APIs).
func listItems[T any](ctx context.Context, cl *Client, c call, p pager) ([]T, error) {
	var out []T
	err := cl.listAll(ctx, c, p, func(r *response) (int, error) {
		var page struct {
			Items []T `json:"items"`
		}
		if err := decode(c.op, r, &page); err != nil {
			return 0, err
		}
		out = append(out, page.Items...)
		return len(page.Items), nil
	})
	return out, err
}

// nextLink returns the target of rel="next" in the Link headers, or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, l := range parseLink(v) {
			if l.rel["next"] {
				return l.target
			}
		}
	}
	return ""
}

type link struct {
	target string
	rel    map[string]bool
}

// parseLink reads an RFC 8288 Link header value: `<uri>; rel="next", <uri>; rel=prev`.
// Malformed entries are skipped.
func parseLink(v string) []link {
	var out []link
	for {
		open := strings.IndexByte(v, '<')
		if open < 0 {
			return out
		}
		end := strings.IndexByte(v[open:], '>')
		if end < 0 {
			return out
		}
		l := link{target: strings.TrimSpace(v[open+1 : open+end]), rel: map[string]bool{}}
		rest := v[open+end+1:]
		params := rest
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			params = rest[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(p), ",")), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
				l.rel[strings.ToLower(r)] = true
			}
		}
		if l.target != "" {
			out = append(out, l)
		}
		v = rest
	}
}
