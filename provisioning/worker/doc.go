// Package worker commits approved requests to Webex: it takes jobs from the
// job stream, looks before it creates (so a redelivered job never creates
// twice), follows customers until they are provisioned, parks long waits on
// the watch list, sets customers up (users, locations, PSTN, numbers,
// corrections) and reports progress and outcomes through Events, which the
// handlers implement. It also runs the prechecks the handlers show on a
// summary. It knows nothing of Slack; storage reaches it through the small
// interfaces of ports.go, Webex through the client of package webex.
package worker
