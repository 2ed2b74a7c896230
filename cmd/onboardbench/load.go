package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples bounds the latencies one client keeps: a run of 10 s at
// 60k requests/s still fits, and a longer one cannot eat the memory.
const maxSamples = 1 << 20

// load is one timed run of a load generator against one URL.
type load struct {
	url     string
	secret  string
	clients int
	warmup  time.Duration
	measure time.Duration
	// body returns the form body of request seq (0-based, over all clients);
	// "" means nothing is left to send (a pool of pending requests ran out).
	body func(seq int64) string
}

// result is what a load run measured: only requests started after the
// warm-up count.
type result struct {
	ok, failed int // 200 answers; anything else (status or transport error)
	elapsed    time.Duration
	lat        []time.Duration // sorted
	exhausted  bool            // body ran out before the time was up
	firstErr   string
}

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// pct is the q-quantile (0..1) of the latencies, nearest rank.
func (r result) pct(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(r.lat))+0.5) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

// run drives l.clients concurrent clients, each on its own keep-alive
// connection, until the warm-up and the measured time have passed. It stops
// by itself: every loop ends at the deadline or when ctx ends.
func (l load) run(ctx context.Context) result {
	tr := &http.Transport{
		MaxIdleConnsPerHost: l.clients, MaxConnsPerHost: l.clients,
		DisableCompression: true, IdleConnTimeout: 30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	start := time.Now()
	measureFrom := start.Add(l.warmup)
	deadline := measureFrom.Add(l.measure)
	var seq atomic.Int64
	var exhausted atomic.Bool
	type clientResult struct {
		ok, failed int
		lat        []time.Duration
		firstErr   string
		lastDone   time.Time
	}
	out := make([]clientResult, l.clients)
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Go(func() {
			cr := &out[c]
			for ctx.Err() == nil {
				sent := time.Now()
				if !sent.Before(deadline) {
					return
				}
				body := l.body(seq.Add(1) - 1)
				if body == "" {
					exhausted.Store(true)
					return
				}
				err := post(ctx, hc, l.url, l.secret, body, sent)
				took := time.Since(sent)
				if sent.Before(measureFrom) {
					continue
				}
				if err != "" {
					cr.failed++
					if cr.firstErr == "" {
						cr.firstErr = err
					}
					continue
				}
				cr.ok++
				cr.lastDone = sent.Add(took)
				if len(cr.lat) < maxSamples {
					cr.lat = append(cr.lat, took)
				}
			}
		})
	}
	wg.Wait()
	res := result{elapsed: time.Since(measureFrom), exhausted: exhausted.Load()}
	if last := time.Now(); last.After(deadline) {
		// Requests in flight at the deadline finish a little later; the
		// window is the measured time, not the tail of the slowest answer.
		res.elapsed = l.measure
	}
	var lastDone time.Time
	for _, cr := range out {
		if cr.lastDone.After(lastDone) {
			lastDone = cr.lastDone
		}
		res.ok += cr.ok
		res.failed += cr.failed
		res.lat = append(res.lat, cr.lat...)
		if res.firstErr == "" {
			res.firstErr = cr.firstErr
		}
	}
	if res.exhausted && lastDone.After(measureFrom) {
		// Nothing was left to send: the rate is over the time it lasted.
		res.elapsed = lastDone.Sub(measureFrom)
	}
	slices.Sort(res.lat)
	return res
}

// post sends one Slack-signed form POST and reads the whole answer. It
// returns "" on a 200, else what went wrong.
func post(ctx context.Context, hc *http.Client, target, secret, body string, at time.Time) string {
	resp, err := signedPost(ctx, hc, target, secret, body, at)
	if err != nil {
		return err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "status " + strconv.Itoa(resp.StatusCode)
	}
	return ""
}

// signedPost sends body signed like Slack does: HMAC-SHA256 of
// v0:<timestamp>:<body> with the signing secret.
func signedPost(ctx context.Context, hc *http.Client, target, secret, body string, at time.Time) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackSign(secret, ts, body))
	return hc.Do(req)
}

// slackSign is Slack's request signature for timestamp ts.
func slackSign(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write([]byte(body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// commandBody is a slash command form as Slack sends it: text is escaped.
func commandBody(user, text string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	return url.Values{
		"command": {"/onboard-customer"}, "text": {esc}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"channel_id": {"CREQ"}, "team_id": {"T1"}, "trigger_id": {"trig-" + user}, "response_url": {"http://127.0.0.1:1/unused"},
	}.Encode()
}

// clickBody is a block_actions payload pressing the button actionID. Built
// by hand: the generator's own JSON work would otherwise weigh on the
// figures of the bot it measures.
func clickBody(user, actionID, value string) string {
	payload := `{"type":"block_actions","user":{"id":"` + user + `","name":"` + strings.ToLower(user) +
		`"},"team":{"id":"T1"},"channel":{"id":"CAPPROVALS"},"trigger_id":"trig","container":{"type":"message","message_ts":"1"},` +
		`"actions":[{"action_id":"` + actionID + `","block_id":"approval","type":"button","value":"` + value + `"}]}`
	return url.Values{"payload": {payload}}.Encode()
}

// merge adds up runs of the same setup: their requests, their measured
// time and all their latencies.
func merge(rs ...result) result {
	var m result
	for _, r := range rs {
		m.ok += r.ok
		m.failed += r.failed
		m.elapsed += r.elapsed
		m.lat = append(m.lat, r.lat...)
		m.exhausted = m.exhausted || r.exhausted
		if m.firstErr == "" {
			m.firstErr = r.firstErr
		}
	}
	slices.Sort(m.lat)
	return m
}
