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

// positionParams are the only query parameters a next-page link is read for.
var positionParams = []string{"max", "offset", "start"}

// listAll fetches every page of c. page decodes one answer and returns how
// many items it held. Every page request carries every query parameter of
// the first (c.query, and onBehalfOfSubPartnerOrgId), so a filter can never
// fall off between pages. A Link rel="next" answer names the next page, but
// only its max and offset/start are taken from it: Webex is reported to drop
// the other query parameters from next links (WebexPythonSDK issue #168),
// and a link followed verbatim would list another org, or everything. Without
// a Link header the offset advances until a short or empty page.
func (cl *Client) listAll(ctx context.Context, c call, p pager, page func(*response) (int, error)) error {
	offset := 0
	var pos url.Values // max and offset/start of the next page, from its link
	linked := false
	for range maxPages {
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
		for k, v := range pos {
			q[k] = v // replaces: one value per parameter
		}
		cc := c
		cc.query = q
		resp, err := cl.do(ctx, cc)
		if err != nil {
			return err
		}
		n, err := page(resp)
		if err != nil {
			return err
		}
		if next := nextLink(resp.header); next != "" {
			if pos, err = cl.nextPosition(c.op, next, pos); err != nil {
				return err
			}
			linked = true
			continue
		}
		if linked || p.offsetParam == "" || p.size == 0 || n < p.size || n == 0 {
			return nil
		}
		offset += n
	}
	return &APIError{Op: c.op, Message: fmt.Sprintf("more than %d pages", maxPages)}
}

// nextPosition reads max and offset/start from a next-page link. The link
// must stay on our API host (it is not followed, but a link elsewhere says
// the answer is not Webex's), name where the next page starts, and move
// forward from prev, the position of the page just read.
func (cl *Client) nextPosition(op, next string, prev url.Values) (url.Values, error) {
	if cl.base == nil {
		return nil, &APIError{Op: op, Message: "invalid Webex base URL"}
	}
	u, err := cl.base.Parse(next)
	if err != nil || u.Scheme != cl.base.Scheme || u.Host != cl.base.Host {
		return nil, &APIError{Op: op, Message: fmt.Sprintf("refusing next-page link outside %s", cl.base.Host)}
	}
	lq := u.Query()
	pos := url.Values{}
	for _, k := range positionParams {
		v := lq.Get(k)
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err != nil || n < 0 || (k == "max" && n < 1) {
			return nil, &APIError{Op: op, Message: fmt.Sprintf("next-page link: %s %q is not a whole number", k, v)}
		}
		pos.Set(k, v)
	}
	moved := false
	for _, k := range []string{"offset", "start"} {
		if v := pos.Get(k); v != "" {
			n, _ := strconv.Atoi(v)
			was, _ := strconv.Atoi(prev.Get(k))
			moved = moved || n > was
		}
	}
	if !moved {
		return nil, &APIError{Op: op, Message: "next-page link names no offset or start beyond the page just read; cannot page on without losing the query"}
	}
	return pos, nil
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
