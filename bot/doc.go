// Package bot is the only package that speaks Slack's wire protocol. It owns
// the transports that decode Slack's payloads into slack-go types and call one
// handlers.Router: the HTTP server (signature check, size limit, Slack's
// request URLs and the health and metrics endpoints), the Socket Mode runner
// and the console. It also owns the outgoing Slack client (paced to Slack's
// rate limits, a 429's Retry-After shared by every caller, posts into a
// channel kept in order, updates of a message coalesced) and the metrics
// registry with Slack's own metrics (ack latency, Web API calls, their waits,
// 429s); the application's metrics are cmd's. What the bot does lives in
// handlers.
package bot
