// Package bot is the only package that speaks Slack's wire protocol. It owns
// the transports that decode Slack's payloads into slack-go types and call one
// handlers.Router: the HTTP server (signature check, size limit, Slack's
// request URLs and the health and metrics endpoints), the Socket Mode runner
// and the console. It also owns the outgoing Slack client (rate-limit aware,
// update throttling) and the metrics registry with Slack's own metrics (ack
// latency, Web API calls, 429s); the application's metrics are cmd's. What
// the bot does lives in handlers.
package bot
